package com.scairelay.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** The figures of one benchmark run: JSON, a Markdown table and PNG charts, in one folder. */
final class Report {
  /** One reported figure, with the target it is held against (null: no target) and a note. */
  record Figure(String scenario, String measure, double value, String unit, String target, String verdict, String note) {
  }

  private final JsonObject machine;
  private final String command;
  private final List<Figure> figures = new ArrayList<>();
  private final List<LoadGenerator.Result> runs = new ArrayList<>();
  /** pg_stat_statements of each measured run, by run name: {calls, total_ms, top: […]} or {unavailable: reason}. */
  private final java.util.Map<String, JsonObject> statements = new java.util.LinkedHashMap<>();
  private String elapsed = "";
  /** The report's title; what its headline figures are called (Markdown heading, stdout, the JSON flag of each figure); its note. */
  private final String title;
  private final String headlinesName;
  private final String headlineKey;
  private final String note;
  private final boolean charts;
  /** Sections after the tables: a Markdown heading and text, and the same as JSON under their key. */
  private final List<String[]> sections = new ArrayList<>();
  private final JsonObject sectionsJson = new JsonObject();

  /** The report of benchmarks/run.sh: the targets of issue 10, charts of the load runs. */
  Report(JsonObject machine, String command) {
    this(machine, command, "ScaiRelay benchmark run", "Targets of issue 10", "issue_10",
        "the load generator, the sink and the node share the machine's cores; `wrk-…` runs are driven by wrk"
            + " (C, one thread), the others by the harness's Java generator.", true);
  }

  /**
   * @param headlinesName what the headline figures are called ("Targets of issue 10"), {@code headlineKey} the JSON
   *     flag that marks them; {@code charts}: write throughput.png and latency.png
   */
  Report(JsonObject machine, String command, String title, String headlinesName, String headlineKey, String note, boolean charts) {
    this.machine = machine;
    this.command = command;
    this.title = title;
    this.headlinesName = headlinesName;
    this.headlineKey = headlineKey;
    this.note = note;
    this.charts = charts;
  }

  /** A section of its own after the tables: {@code markdown} under {@code heading}, and {@code json} under {@code key} in results.json. */
  void section(String key, String heading, String markdown, Object json) {
    sections.add(new String[] {heading, markdown});
    sectionsJson.put(key, json);
  }

  void run(LoadGenerator.Result result) {
    runs.add(result);
  }

  void statements(String run, JsonObject top) {
    statements.put(run, top);
    JsonArray rows = top.getJsonArray("top");
    if (rows != null) {
      System.out.printf("  [%s] PostgreSQL: %s statements, %s ms in all; the top %d by total time:%n", run,
          top.getValue("calls"), top.getValue("total_ms"), rows.size());
      for (int i = 0; i < rows.size(); i++) {
        JsonObject r = rows.getJsonObject(i);
        System.out.printf("    %10s ms %9s calls %8s ms mean  %s%n", r.getValue("total_ms"), r.getValue("calls"), r.getValue("mean_ms"),
            r.getString("query"));
      }
    }
  }

  void elapsed(String text) {
    this.elapsed = text;
  }

  /** The figures held against the targets of issue 10, in the order they were measured. */
  private final List<Figure> headlines = new ArrayList<>();

  /** A figure that is also one of the targets of issue 10: listed again in the summary at the top and at the end. */
  void headline(String scenario, String measure, double value, String unit, String target, Boolean met, String note) {
    figure(scenario, measure, value, unit, target, met, note);
    headlines.add(figures.get(figures.size() - 1));
  }

  /** {@link #headline} if {@code headline}, else {@link #figure}. */
  void add(boolean headline, String scenario, String measure, double value, String unit, String target, Boolean met, String note) {
    if (headline) {
      headline(scenario, measure, value, unit, target, met, note);
    } else {
      figure(scenario, measure, value, unit, target, met, note);
    }
  }

  /** The issue-10 summary on stdout: every target with its figure and verdict. */
  void printHeadlines() {
    if (headlines.isEmpty()) {
      return;
    }
    System.out.println("== " + headlinesName.toLowerCase());
    for (Figure f : headlines) {
      System.out.printf("  %-8s %-66s %10s %-14s target %-34s %s%n", f.scenario(), f.measure(), format(f.value()), f.unit(), f.target(),
          f.verdict().isEmpty() ? "(not measured)" : f.verdict());
    }
  }

  void figure(String scenario, String measure, double value, String unit, String target, Boolean met, String note) {
    String verdict = met == null ? "" : met ? "met" : "not met";
    figures.add(new Figure(scenario, measure, value, unit, target == null ? "" : target, verdict, note == null ? "" : note));
    System.out.printf("  => %s / %s: %s %s %s%n", scenario, measure, format(value), unit, verdict.isEmpty() ? "" : "(" + target + ": " + verdict + ")");
  }

  void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    JsonArray figs = new JsonArray();
    figures.forEach(f -> figs.add(new JsonObject().put("scenario", f.scenario()).put("measure", f.measure())
        .put("value", Double.isNaN(f.value()) ? null : f.value()).put("unit", f.unit()).put("target", f.target())
        .put("verdict", f.verdict()).put("note", f.note()).put(headlineKey, headlines.contains(f))));
    JsonArray rs = new JsonArray();
    for (LoadGenerator.Result r : runs) {
      rs.add(new JsonObject().put("name", r.name()).put("offered_rate", r.offeredRate()).put("connections", r.connections())
          .put("requests", r.requests()).put("ok", r.ok()).put("errors", r.errors()).put("seconds", r.seconds())
          .put("throughput", r.throughput()).put("p50_ms", r.p50()).put("p90_ms", r.p90()).put("p99_ms", r.p99()).put("max_ms", r.max())
          .put("answers", new JsonObject(new java.util.HashMap<String, Object>(r.answers())))
          .put("pg_statements", statements.get(r.name()))
          .put("rate_per_second", new JsonArray(r.ratePerSecond())).put("p99_per_second_ms", new JsonArray(r.p99PerSecond())));
    }
    JsonObject json = new JsonObject().put("machine", machine).put("command", command)
        .put("elapsed", elapsed).put("figures", figs).put("runs", rs);
    sectionsJson.forEach(e -> json.put(e.getKey(), e.getValue()));
    Files.writeString(dir.resolve("results.json"), json.encodePrettily());
    Files.writeString(dir.resolve("results.md"), markdown());
    if (charts) {
      charts(dir);
    }
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("# ").append(title).append("\n\n");
    md.append("- date: ").append(machine.getString("date")).append('\n');
    md.append("- machine: ").append(machine.getString("cpu")).append(", ").append(machine.getInteger("cores")).append(" cores, ")
        .append(machine.getString("memory")).append(", ").append(machine.getString("os")).append('\n');
    md.append("- java: ").append(machine.getString("java")).append('\n');
    md.append("- command: `").append(command).append("`\n");
    if (!elapsed.isEmpty()) {
      md.append("- elapsed: ").append(elapsed).append('\n');
    }
    md.append("- note: ").append(note).append("\n\n");
    if (!headlines.isEmpty()) {
      md.append("## ").append(headlinesName).append("\n\n| scenario | measure | value | target | verdict |\n| --- | --- | --- | --- | --- |\n");
      for (Figure f : headlines) {
        md.append("| ").append(f.scenario()).append(" | ").append(f.measure()).append(" | ").append(format(f.value())).append(' ').append(f.unit())
            .append(" | ").append(f.target()).append(" | ").append(f.verdict().isEmpty() ? "not measured" : f.verdict()).append(" |\n");
      }
      md.append("\n## Every figure\n\n");
    }
    md.append("| scenario | measure | value | target | verdict | note |\n| --- | --- | --- | --- | --- | --- |\n");
    for (Figure f : figures) {
      md.append("| ").append(f.scenario()).append(" | ").append(f.measure()).append(" | ").append(format(f.value())).append(' ').append(f.unit())
          .append(" | ").append(f.target()).append(" | ").append(f.verdict()).append(" | ").append(f.note()).append(" |\n");
    }
    md.append("\n## Load runs\n\n| run | offered | connections | ok | errors | throughput/s | p50 ms | p90 ms | p99 ms | max ms |\n")
        .append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (LoadGenerator.Result r : runs) {
      md.append(String.format("| %s | %s | %d | %d | %d | %.0f | %.2f | %.2f | %.2f | %.1f |%n", r.name(),
          r.offeredRate() > 0 ? String.format("%.0f/s", r.offeredRate()) : "max", r.connections(), r.ok(), r.errors(),
          r.throughput(), r.p50(), r.p90(), r.p99(), r.max()));
    }
    if (!statements.isEmpty()) {
      md.append("\n## PostgreSQL: top statements of each run (pg_stat_statements, by total execution time)\n");
      statements.forEach((run, top) -> {
        md.append("\n### ").append(run).append("\n\n");
        if (top.containsKey("unavailable")) {
          md.append("not recorded: ").append(top.getString("unavailable")).append('\n');
          return;
        }
        md.append(String.format("%s statements, %s ms of execution in all.%n%n", top.getValue("calls"), top.getValue("total_ms")));
        md.append("| total ms | calls | mean ms | rows | statement |\n| --- | --- | --- | --- | --- |\n");
        JsonArray rows = top.getJsonArray("top", new JsonArray());
        for (int i = 0; i < rows.size(); i++) {
          JsonObject r = rows.getJsonObject(i);
          md.append("| ").append(r.getValue("total_ms")).append(" | ").append(r.getValue("calls")).append(" | ").append(r.getValue("mean_ms"))
              .append(" | ").append(r.getValue("rows")).append(" | `").append(r.getString("query").replace("|", "\\|").replace("`", "'"))
              .append("` |\n");
        }
      });
    }
    for (String[] section : sections) {
      md.append("\n## ").append(section[0]).append("\n\n").append(section[1]);
      if (!section[1].endsWith("\n")) {
        md.append('\n');
      }
    }
    if (charts) {
      md.append("\n![throughput](throughput.png)\n\n![latency](latency.png)\n");
    }
    return md.toString();
  }

  private void charts(Path dir) throws IOException {
    XYChart throughput = new XYChartBuilder().width(1000).height(500).title("Completed requests per second")
        .xAxisTitle("second of run").yAxisTitle("requests/s").build();
    for (LoadGenerator.Result r : runs) {
      if (!r.ratePerSecond().isEmpty()) {
        List<Integer> x = IntStream.rangeClosed(1, r.ratePerSecond().size()).boxed().toList();
        throughput.addSeries(r.name(), x, r.ratePerSecond());
      }
    }
    BitmapEncoder.saveBitmap(throughput, dir.resolve("throughput").toString(), BitmapEncoder.BitmapFormat.PNG);

    CategoryChart latency = new CategoryChartBuilder().width(1000).height(500).title("Latency percentiles")
        .xAxisTitle("run").yAxisTitle("ms (log)").build();
    latency.getStyler().setYAxisLogarithmic(true);
    latency.getStyler().setYAxisMin(0.01);
    latency.getStyler().setXAxisLabelRotation(30);
    List<String> names = runs.stream().map(LoadGenerator.Result::name).toList();
    latency.addSeries("p50", names, runs.stream().map(r -> clamp(r.p50())).toList());
    latency.addSeries("p90", names, runs.stream().map(r -> clamp(r.p90())).toList());
    latency.addSeries("p99", names, runs.stream().map(r -> clamp(r.p99())).toList());
    BitmapEncoder.saveBitmap(latency, dir.resolve("latency").toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static double clamp(double ms) {
    return Double.isNaN(ms) || ms < 0.01 ? 0.01 : ms;
  }

  static String format(double value) {
    if (Double.isNaN(value)) {
      return "n/a";
    }
    return Math.abs(value) >= 100 ? String.format("%,.0f", value) : String.format("%.2f", value);
  }
}
