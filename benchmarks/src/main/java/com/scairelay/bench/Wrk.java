package com.scairelay.bench;

import io.vertx.core.json.JsonObject;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drives {@code wrk} (the C load generator, Debian package {@code wrk}) with pre-generated requests: the
 * harness writes one data file per wrk thread (one request a line: {@code path TAB Name: value TAB … TAB body}),
 * and a Lua script whose {@code init} turns every line into a raw HTTP request once ({@code wrk.format}), so
 * {@code request()} only hands out the next string. The requests are generated right before each run, so
 * signature timestamps are fresh; the script cycles through them if wrk sends more than were loaded and counts
 * how many it sent again ({@code recycled}: duplicates for a server that deduplicates). {@code done} prints a
 * JSON line with the summary and the latency percentiles, which {@link #run} parses.
 */
final class Wrk {
  /** One request: POSTed to {@code path} with these headers and body (no tabs or newlines in any of them). */
  record Request(String path, Map<String, String> headers, String body) {
  }

  /**
   * What wrk measured. {@code requests} are completed responses, {@code statusErrors} those with a status above
   * 399 (wrk's "Non-2xx or 3xx responses"); latencies in milliseconds; {@code cpuSeconds} is wrk's own CPU.
   */
  record Result(String name, int threads, int connections, long requests, double seconds, long statusErrors, long connectErrors,
                long readErrors, long writeErrors, long timeouts, long loaded, long served, double mean, double p50, double p90,
                double p99, double p999, double max, double cpuSeconds, String output) {
    long socketErrors() {
      return connectErrors + readErrors + writeErrors + timeouts;
    }

    /** Answers wrk counted as 2xx or 3xx. */
    long successes() {
      return requests - statusErrors;
    }

    /** Requests handed out again after the loaded ones ran out (the warm-up call wrk makes to check the script is counted too). */
    long recycled() {
      return Math.max(0, served - loaded);
    }

    double rate() {
      return requests / seconds;
    }
  }

  private static final String SCRIPT = """
      -- Written by the ScaiRelay benchmark harness (Wrk.java) for one run; the data files go with it.
      local files = {%s}
      local threads = {}
      local next_file = 0

      function setup(thread)
        next_file = next_file + 1
        thread:set("datafile", files[next_file])
        table.insert(threads, thread)
      end

      function init(args)
        reqs = {}
        n = 0
        i = 0
        served = 0
        for line in io.lines(datafile) do
          local fields = {}
          local from = 1
          while true do
            local tab = string.find(line, "\\t", from, true)
            if not tab then
              fields[#fields + 1] = string.sub(line, from)
              break
            end
            fields[#fields + 1] = string.sub(line, from, tab - 1)
            from = tab + 1
          end
          local headers = {}
          for k = 2, #fields - 1 do
            local colon = string.find(fields[k], ":", 1, true)
            headers[string.sub(fields[k], 1, colon - 1)] = string.sub(fields[k], colon + 2)
          end
          n = n + 1
          reqs[n] = wrk.format("POST", fields[1], headers, fields[#fields])
        end
      end

      function request()
        i = i + 1
        if i > n then
          i = 1
        end
        served = served + 1
        return reqs[i]
      end

      function done(summary, latency, requests)
        local loaded, handed = 0, 0
        for _, thread in ipairs(threads) do
          loaded = loaded + (thread:get("n") or 0)
          handed = handed + (thread:get("served") or 0)
        end
        local e = summary.errors
        io.write(string.format('WRK_JSON {"requests":%%.0f,"duration_us":%%.0f,"bytes":%%.0f,"connect":%%.0f,"read":%%.0f,' ..
          '"write":%%.0f,"status":%%.0f,"timeout":%%.0f,"loaded":%%.0f,"served":%%.0f,"mean_us":%%.1f,"max_us":%%.0f,' ..
          '"p50_us":%%.0f,"p90_us":%%.0f,"p99_us":%%.0f,"p999_us":%%.0f}\\n',
          summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, loaded, handed,
          latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
      end
      """;

  private final Path work;
  private final int threads;
  private final int connections;

  Wrk(Path work, int threads, int connections) {
    this.work = work;
    this.threads = threads;
    this.connections = connections;
  }

  /** True when a {@code wrk} binary can be run. */
  static boolean available() {
    try {
      return Exec.run(List.of(binary(), "--version"), Duration.ofSeconds(10)).text().startsWith("wrk");
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String binary() {
    return Files.isExecutable(Path.of("/usr/bin/wrk")) ? "/usr/bin/wrk" : "wrk";
  }

  /**
   * Writes {@code count} requests ({@code requests.apply(0 … count-1)}; request k goes to thread k % threads),
   * then runs {@code wrk -t<threads> -c<connections> -d<duration>s --latency} against 127.0.0.1:{@code port}.
   * The requests are generated here, right before wrk starts. The data files are deleted afterwards.
   */
  Result run(String name, int port, Duration duration, long count, LongFunction<Request> requests) throws IOException, InterruptedException {
    return run(name, port, duration, count, requests, threads, connections);
  }

  Result run(String name, int port, Duration duration, long count, LongFunction<Request> requests, int threads, int connections)
      throws IOException, InterruptedException {
    long generating = System.nanoTime();
    List<Path> files = new ArrayList<>();
    List<BufferedWriter> writers = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        Path file = work.resolve("wrk-" + name + "-" + t + ".txt");
        files.add(file);
        writers.add(Files.newBufferedWriter(file, StandardCharsets.UTF_8));
      }
      for (long k = 0; k < count; k++) {
        Request r = requests.apply(k);
        BufferedWriter out = writers.get((int) (k % threads));
        out.write(r.path());
        for (Map.Entry<String, String> h : r.headers().entrySet()) {
          out.write('\t');
          out.write(h.getKey());
          out.write(": ");
          out.write(h.getValue());
        }
        out.write('\t');
        out.write(r.body());
        out.write('\n');
      }
    } finally {
      for (BufferedWriter w : writers) {
        w.close();
      }
    }
    StringBuilder list = new StringBuilder();
    for (Path f : files) {
      list.append(list.length() == 0 ? "" : ", ").append('"').append(f.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    }
    Path script = work.resolve("wrk-" + name + ".lua");
    Files.writeString(script, SCRIPT.formatted(list));
    System.out.printf("  [%s] %,d signed requests written in %.1f s; wrk -t%d -c%d -d%ds%n", name, count,
        (System.nanoTime() - generating) / 1e9, threads, connections, duration.toSeconds());
    try {
      return execute(name, port, duration, script, threads, connections);
    } finally {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(script);
    }
  }

  private Result execute(String name, int port, Duration duration, Path script, int threads, int connections)
      throws IOException, InterruptedException {
    List<String> command = List.of(binary(), "-t" + threads, "-c" + connections, "-d" + Math.max(1, duration.toSeconds()) + "s",
        "--timeout", "10s", "--latency", "-s", script.toString(), "http://127.0.0.1:" + port + "/");
    double childrenBefore = childrenCpuSeconds();
    // Loading the requests takes a few seconds before the measured duration starts; wrk then stops by itself.
    Exec.Output run = Exec.run(command, duration.plusSeconds(180));
    double cpu = childrenCpuSeconds() - childrenBefore;
    String output = run.text();
    for (String line : output.split("\n")) {
      if (!line.startsWith("WRK_JSON ")) {
        System.out.println("    " + line);
      }
    }
    Matcher json = Pattern.compile("WRK_JSON (\\{.*})").matcher(output);
    if (run.exitCode() != 0 || !json.find()) {
      throw new IOException("wrk (" + String.join(" ", command) + ") exited with " + run.exitCode() + ":\n" + output);
    }
    JsonObject j = new JsonObject(json.group(1));
    long status = j.getLong("status");
    // Cross-check the summary with the line wrk prints itself.
    Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(output);
    long printed = non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0;
    if (printed != status) {
      System.out.printf("  !! wrk printed %d non-2xx/3xx responses, its summary says %d; using the larger%n", printed, status);
      status = Math.max(status, printed);
    }
    return new Result(name, threads, connections, j.getLong("requests"), j.getDouble("duration_us") / 1e6, status, j.getLong("connect"),
        j.getLong("read"), j.getLong("write"), j.getLong("timeout"), j.getLong("loaded"), j.getLong("served"), j.getDouble("mean_us") / 1000,
        j.getDouble("p50_us") / 1000, j.getDouble("p90_us") / 1000, j.getDouble("p99_us") / 1000, j.getDouble("p999_us") / 1000,
        j.getDouble("max_us") / 1000, cpu, output);
  }

  /** CPU seconds of this JVM's children that have ended and been reaped (wrk, once waited for): /proc/self/stat cutime + cstime. */
  static double childrenCpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[13]) + Long.parseLong(fields[14])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }
}
