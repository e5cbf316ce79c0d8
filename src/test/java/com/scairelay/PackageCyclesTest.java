package com.scairelay;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks DESIGN.md §5, "no package cycle": the top-level packages under {@code com.scairelay}
 * must not depend on each other in a cycle. The graph is read from the sources: an edge runs
 * from a file's top-level package to the top-level package of every {@code com.scairelay.x.}
 * name it mentions (imports, static imports and fully qualified references). Classes directly
 * in {@code com.scairelay} form the "(root)" package, which may import everything but must not
 * be imported, so an edge into it is part of a cycle as soon as root imports anything back.
 */
class PackageCyclesTest {

  private static final String ROOT = "(root)";
  private static final Path SOURCES = Path.of("src/main/java/com/scairelay");
  private static final Pattern PACKAGE = Pattern.compile("(?m)^\\s*package\\s+com\\.scairelay(?:\\.([a-z0-9_]+))?[.\\w]*\\s*;");
  private static final Pattern REFERENCE = Pattern.compile("\\bcom\\.scairelay\\.(?:([a-z][a-z0-9_]*)\\.|[A-Z])");

  /** from package -> to package -> one example file (relative to SOURCES) making that edge. */
  private static final Map<String, Map<String, String>> graph = new TreeMap<>();

  @BeforeAll
  static void readGraph() throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(SOURCES)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    for (Path file : files) {
      String text = Files.readString(file);
      Matcher pkg = PACKAGE.matcher(text);
      if (!pkg.find()) continue;
      String from = pkg.group(1) == null ? ROOT : pkg.group(1);
      Map<String, String> edges = graph.computeIfAbsent(from, k -> new TreeMap<>());
      Matcher ref = REFERENCE.matcher(text.substring(0, pkg.start()) + text.substring(pkg.end()));
      while (ref.find()) {
        String to = ref.group(1) == null ? ROOT : ref.group(1);
        if (!to.equals(from)) edges.putIfAbsent(to, SOURCES.relativize(file).toString().replace('\\', '/'));
        graph.computeIfAbsent(to, k -> new TreeMap<>());
      }
    }
  }

  @Test
  void theGraphIsReadFromTheSources() {
    assertThat(graph.keySet()).as("top-level packages found under " + SOURCES.toAbsolutePath()).hasSizeGreaterThanOrEqualTo(5);
    assertThat(graph.values().stream().mapToInt(Map::size).sum()).as("edges between packages: " + graph).isGreaterThanOrEqualTo(5);
  }

  @Test
  void topLevelPackagesFormNoCycle() {
    StringBuilder report = new StringBuilder();
    for (List<String> component : stronglyConnectedComponents()) {
      if (component.size() < 2) continue;
      TreeSet<String> members = new TreeSet<>(component);
      report.append("\ncycle among ").append(members).append(':');
      for (String from : members) {
        graph.get(from).forEach((to, file) -> {
          if (members.contains(to)) report.append("\n  ").append(from).append(" -> ").append(to).append(" (").append(file).append(')');
        });
      }
    }
    assertThat(report.toString()).as("package cycles (DESIGN.md §5: no package cycle)").isEmpty();
  }

  /** Tarjan's algorithm over {@link #graph}. */
  private static List<List<String>> stronglyConnectedComponents() {
    Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    List<List<String>> components = new ArrayList<>();
    for (String node : graph.keySet()) {
      if (!index.containsKey(node)) visit(node, index, low, stack, components);
    }
    return components;
  }

  private static void visit(String node, Map<String, Integer> index, Map<String, Integer> low,
                            Deque<String> stack, List<List<String>> components) {
    index.put(node, index.size());
    low.put(node, index.get(node));
    stack.push(node);
    for (String next : graph.get(node).keySet()) {
      if (!index.containsKey(next)) {
        visit(next, index, low, stack, components);
        low.put(node, Math.min(low.get(node), low.get(next)));
      } else if (stack.contains(next)) {
        low.put(node, Math.min(low.get(node), index.get(next)));
      }
    }
    if (low.get(node).equals(index.get(node))) {
      List<String> component = new ArrayList<>();
      String member;
      do {
        member = stack.pop();
        component.add(member);
      } while (!member.equals(node));
      components.add(component);
    }
  }
}
