package com.scairelay.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A scrape in the Prometheus text format (0.0.4), parsed strictly: each sample line is
 * {@code name{label="value",…} number}, label values with their escapes ({@code \\ \" \n}); a line
 * that is neither a sample, a comment nor empty fails the parse.
 */
public final class PrometheusText {
  /** One sample: its metric name, labels and value. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private final List<Sample> samples;
  private final Map<String, String> types;

  private PrometheusText(List<Sample> samples, Map<String, String> types) {
    this.samples = samples;
    this.types = types;
  }

  public static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("#")) {
        String[] parts = line.split(" ");
        if (parts.length >= 4 && parts[1].equals("TYPE")) {
          types.put(parts[2], parts[3]);
        }
        continue;
      }
      samples.add(sample(line));
    }
    return new PrometheusText(samples, types);
  }

  private static Sample sample(String line) {
    int i = 0;
    while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_' || line.charAt(i) == ':')) {
      i++;
    }
    if (i == 0) {
      throw new IllegalArgumentException("not a sample line: " + line);
    }
    String name = line.substring(0, i);
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String label = line.substring(i, eq);
        if (line.charAt(eq + 1) != '"') {
          throw new IllegalArgumentException("label value not quoted: " + line);
        }
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        for (; line.charAt(j) != '"'; j++) {
          char c = line.charAt(j);
          if (c == '\\') {
            char next = line.charAt(++j);
            value.append(next == 'n' ? '\n' : next);
          } else {
            value.append(c);
          }
        }
        labels.put(label, value.toString());
        i = j + 1;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      i++;
    }
    if (line.charAt(i) != ' ') {
      throw new IllegalArgumentException("no value after the labels: " + line);
    }
    String[] rest = line.substring(i + 1).trim().split(" ");
    return new Sample(name, Map.copyOf(labels), parseValue(rest[0]));
  }

  private static double parseValue(String raw) {
    return switch (raw) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(raw);
    };
  }

  public List<Sample> samples() {
    return samples;
  }

  /** Every metric name that has a sample. */
  public Set<String> names() {
    Set<String> names = new TreeSet<>();
    samples.forEach(s -> names.add(s.name()));
    return names;
  }

  /** The label names that samples of {@code name} carry. */
  public Set<String> labelNames(String name) {
    Set<String> labels = new TreeSet<>();
    samples.stream().filter(s -> s.name().equals(name)).forEach(s -> labels.addAll(s.labels().keySet()));
    return labels;
  }

  /** The {@code # TYPE} of a metric family (counter, gauge, histogram, summary), or null. */
  public String type(String family) {
    return types.get(family);
  }

  /** The one sample of {@code name} whose labels include {@code labels}; fails unless exactly one matches. */
  public double value(String name, Map<String, String> labels) {
    List<Sample> matching = matching(name, labels);
    if (matching.size() != 1) {
      throw new AssertionError("expected one sample " + name + labels + ", found " + matching);
    }
    return matching.get(0).value();
  }

  /** The sum of the samples of {@code name} whose labels include {@code labels} (0 when none). */
  public double sum(String name, Map<String, String> labels) {
    return matching(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  public List<Sample> matching(String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())).toList();
  }
}
