package com.scairelay.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command to its end, never longer than a limit (then it is killed), and answers its output. */
final class Exec {
  record Output(int exitCode, String text) {
  }

  private Exec() {
  }

  static Output run(List<String> command, Duration limit) throws IOException, InterruptedException {
    return run(command, Map.of(), limit);
  }

  /** The same, with {@code env} added to this process's environment (e.g. PGPASSWORD for psql). */
  static Output run(List<String> command, Map<String, String> env, Duration limit) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process p = builder.start();
    Thread killer = new Thread(() -> {
      try {
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
      }
    }, "exec-limit");
    killer.setDaemon(true);
    killer.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    killer.interrupt();
    return new Output(p.exitValue(), out);
  }
}
