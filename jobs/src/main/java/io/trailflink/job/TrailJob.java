package io.trailflink.job;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Entry point of the shaded job jar on a Flink cluster:
 * {@code flink run jobs/target/trail-flink-job.jar --bootstrap-servers kafka:9092 --model /opt/trail/models/trail-tiny}.
 * The model directory must exist at that path on every TaskManager (mounted). Missing topics are created at
 * submission (one partition each) unless {@code --no-create-topics}.
 */
@Command(name = "trail-flink-job", mixinStandardHelpOptions = true,
    description = "TRAIL LLM serving job (submit with flink run).")
public final class TrailJob implements java.util.concurrent.Callable<Integer> {
  @Mixin ServingOptions options;

  @CommandLine.Option(names = "--no-create-topics", description = "Do not create missing topics at submission.")
  boolean noCreateTopics;

  @CommandLine.Option(names = "--replication", defaultValue = "1", description = "Replication of topics it creates.")
  short replication;

  @Override
  public Integer call() throws Exception {
    if (options.modelDir == null || !Files.isRegularFile(Path.of(options.modelDir, "config.json"))) {
      System.err.println("trail-flink-job: --model DIR (with config.json, readable here and on every TaskManager) is required");
      return 2;
    }
    if (!noCreateTopics) {
      try {
        TopicAdmin.ensure(options.bootstrapServers, options.topics(), replication, 30);
      } catch (IllegalArgumentException e) {
        System.err.println("trail-flink-job: " + e.getMessage());
        return 2;
      }
    }
    if (options.fromSavepoint != null) {
      System.err.println("trail-flink-job: --from-savepoint is for the embedded runner; on a cluster restore with "
          + "flink run -s " + options.fromSavepoint);
      return 2;
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    try {
      options.check(Path.of(options.modelDir));
      ClusterSlots.check(env.getConfiguration(), options.engines);
    } catch (IllegalArgumentException e) {
      System.err.println("trail-flink-job: " + e.getMessage());
      return 2;
    }
    TrailServingJob.build(env, options, Path.of(options.modelDir), System.currentTimeMillis());
    env.execute("trail-serving (" + options.policy + ")");
    return 0;
  }

  public static void main(String[] args) {
    int code = new CommandLine(new TrailJob()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
