package io.trailflink.cli;

import io.trailflink.job.LocalCluster;
import io.trailflink.job.ServingOptions;
import io.trailflink.job.TopicAdmin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trail serve}: the serving job on a local Flink MiniCluster (with its web UI) against an existing Kafka
 * cluster; runs until interrupted (Ctrl-C cancels the job), with a status line every {@code --status-every-s}.
 */
@Command(name = "serve", description = "Run the serving job on a local MiniCluster against an existing Kafka.")
final class ServeCommand implements Callable<Integer> {
  @Mixin ServingOptions serving;
  @Option(names = "--web-ui-port", defaultValue = "8081", description = "Flink web UI port (default: ${DEFAULT-VALUE}).") int webUiPort;
  @Option(names = "--no-create-topics", description = "Fail instead of creating missing topics.") boolean noCreateTopics;
  @Option(names = "--replication", defaultValue = "1", description = "Replication of topics it creates (default: ${DEFAULT-VALUE}).") short replication;
  @Option(names = "--status-every-s", defaultValue = "10") int statusEveryS;

  @Override
  public Integer call() throws Exception {
    Path modelDir = serving.modelDir != null ? Path.of(serving.modelDir) : TrailCli.defaultModel();
    if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
      throw new TrailCli.UsageException("--model " + modelDir + " has no config.json");
    }
    serving.check(modelDir);
    List<String> missing = TopicAdmin.missing(serving.bootstrapServers, serving.topics(), replication, 15,
        !noCreateTopics);
    if (noCreateTopics && !missing.isEmpty()) {
      throw new TrailCli.UsageException("topics missing on " + serving.bootstrapServers + ": " + missing
          + " (create them, or drop --no-create-topics)");
    } else if (!missing.isEmpty()) {
      System.err.println("created topics " + missing);
    }
    JobClient job = LocalCluster.submit(serving, modelDir, webUiPort, false);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        job.cancel().get();
      } catch (Exception e) {
        // already done
      }
    }));
    System.err.printf("serving on Kafka %s (topics %s*), policy %s, %d engine(s); Flink web UI http://localhost:%d%n",
        serving.bootstrapServers, serving.topicPrefix, serving.policy, serving.engines, webUiPort);
    long start = System.currentTimeMillis();
    // the result, not the status: a job stopped with a savepoint finishes and its MiniCluster shuts down at once
    java.util.concurrent.CompletableFuture<?> result = job.getJobExecutionResult();
    while (true) {
      try {
        result.get(statusEveryS, java.util.concurrent.TimeUnit.SECONDS);
        System.err.println("job FINISHED (stopped; with a savepoint, --from-savepoint resumes its requests)");
        return 0;
      } catch (java.util.concurrent.TimeoutException stillRunning) {
        System.err.printf("[%.0f s] job %s%n", (System.currentTimeMillis() - start) / 1000.0, job.getJobStatus().get());
      } catch (java.util.concurrent.ExecutionException failed) {
        System.err.println("job ended: " + failed.getCause());
        return 1;
      }
    }
  }
}
