package com.scairelay.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A ScaiRelay node (or the no-op ceiling server) as a separate process, with its CPU time, RSS and heap. */
final class NodeProcess implements AutoCloseable {
  final Process process;
  final List<String> lines = new CopyOnWriteArrayList<>();

  NodeProcess(List<String> command, Map<String, String> env, Path log) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.redirectErrorStream(true);
    process = builder.start();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
          Files.writeString(log, line + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "node-output");
    reader.setDaemon(true);
    reader.start();
  }

  String awaitLine(String prefix, long timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < deadline) {
      for (String line : lines) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      if (!process.isAlive()) {
        break;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the process never printed '" + prefix + "':\n" + String.join("\n", lines));
  }

  long pid() {
    return process.pid();
  }

  /** User + system CPU time of the process, in seconds (/proc/pid/stat, clock ticks of 1/100 s). */
  double cpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** CPU seconds used so far by every PostgreSQL process of the machine (the server under test shares it). */
  static double postgresCpuSeconds() {
    double total = 0;
    java.io.File[] procs = new java.io.File("/proc").listFiles((dir, name) -> name.chars().allMatch(Character::isDigit));
    if (procs == null) {
      return Double.NaN;
    }
    for (java.io.File proc : procs) {
      try {
        String stat = Files.readString(proc.toPath().resolve("stat"));
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (comm.startsWith("postgres")) {
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          total += (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        }
      } catch (IOException | RuntimeException ignored) {
        // the process ended meanwhile
      }
    }
    return total;
  }

  /**
   * CPU seconds of one PostgreSQL server: its postmaster (with the backends it has reaped: cutime + cstime)
   * and the backends still running (the processes whose parent it is). Other servers of the machine (tests
   * running meanwhile) are not counted. NaN when the postmaster is gone.
   */
  static double postgresCpuSeconds(long postmasterPid) {
    double total;
    try {
      String[] own = statFields(Path.of("/proc/" + postmasterPid + "/stat"));
      total = (Long.parseLong(own[11]) + Long.parseLong(own[12]) + Long.parseLong(own[13]) + Long.parseLong(own[14])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
    java.io.File[] procs = new java.io.File("/proc").listFiles((dir, name) -> name.chars().allMatch(Character::isDigit));
    for (java.io.File proc : procs == null ? new java.io.File[0] : procs) {
      try {
        String[] f = statFields(proc.toPath().resolve("stat"));
        if (Long.parseLong(f[1]) == postmasterPid) {
          total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        }
      } catch (IOException | RuntimeException ignored) {
        // the process ended meanwhile
      }
    }
    return total;
  }

  /** The fields of a /proc/…/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
  private static String[] statFields(Path stat) throws IOException {
    String s = Files.readString(stat);
    return s.substring(s.lastIndexOf(')') + 2).split(" ");
  }

  /** Resident set size in MiB. */
  double rssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // gone
    }
    return Double.NaN;
  }

  /** Heap in use after a full GC, in MiB, as jcmd reports it. */
  double heapUsedAfterGcMiB() {
    try {
      run("jcmd", Long.toString(pid()), "GC.run");
      String info = run("jcmd", Long.toString(pid()), "GC.heap_info");
      // One line per heap space ("PSYoungGen total …K, used …K", "ParOldGen …", "garbage-first heap …");
      // Metaspace and class space are not heap.
      long usedKiB = 0;
      boolean found = false;
      for (String line : info.split("\n")) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(line);
        if (!line.contains("Metaspace") && !line.contains("class space") && m.find()) {
          usedKiB += Long.parseLong(m.group(1));
          found = true;
        }
      }
      return found ? usedKiB / 1024.0 : Double.NaN;
    } catch (IOException | InterruptedException e) {
      return Double.NaN;
    }
  }

  private static String run(String... command) throws IOException, InterruptedException {
    return Exec.run(List.of(command), java.time.Duration.ofSeconds(60)).text();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
