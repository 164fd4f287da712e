package io.trailflink.cli;

import io.trailflink.job.Savepoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail savepoint}: a savepoint of the running serving job through Flink's REST API — with {@code --stop} the
 * job stops with it, the first half of an upgrade; {@code serve --from-savepoint PATH} (or {@code flink run -s PATH})
 * is the second. Prints the savepoint's path on stdout.
 */
@Command(name = "savepoint", description = "Take a savepoint of the running job (--stop: and stop it, for an upgrade); prints its path.")
final class SavepointCommand implements Callable<Integer> {
  @Option(names = "--web-ui", defaultValue = "http://localhost:8081",
      description = "The JobManager's REST address: serve's web UI, or a cluster's (default: ${DEFAULT-VALUE}).")
  String webUi;
  @Option(names = "--job", description = "The job id (default: the one running job).") String job;
  @Option(names = "--dir", required = true, description = "Where to write it (a folder, or a URI every TaskManager can write).")
  String dir;
  @Option(names = "--stop", description = "Stop the job with the savepoint (in-flight requests resume from it).")
  boolean stop;
  @Option(names = "--timeout-s", defaultValue = "300", description = "Give up after (default: ${DEFAULT-VALUE}).")
  int timeoutS;

  @Override
  public Integer call() throws Exception {
    String target = dir.contains("://") ? dir : Path.of(dir).toAbsolutePath().toUri().toString();
    if (!dir.contains("://")) {
      Files.createDirectories(Path.of(dir));
    }
    Savepoints savepoints = new Savepoints(webUi);
    String id;
    try {
      id = job != null ? job : savepoints.runningJob();
    } catch (IllegalArgumentException e) {
      throw new TrailCli.UsageException(e.getMessage());
    }
    String path = savepoints.take(id, target, stop, Duration.ofSeconds(timeoutS), System.err::println);
    System.err.println((stop ? "job " + id + " stopped with savepoint " : "savepoint of job " + id + ": ") + path
        + (stop ? "\nresume it with: ./trail serve … --from-savepoint " + path : ""));
    System.out.println(path);
    return 0;
  }
}
