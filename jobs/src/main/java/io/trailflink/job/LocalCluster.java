package io.trailflink.job;

import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The serving job on a Flink MiniCluster in this JVM, with its web UI: for {@code serve}, {@code demo} and tests. */
public final class LocalCluster {
  private LocalCluster() {}

  /**
   * Starts the MiniCluster (two slots per engine, at least four; Prometheus when asked for) and submits the job.
   *
   * @param webUiPort port of the web UI, 0 for a free one
   * @param loopbackOnly bind the web UI to 127.0.0.1 only
   */
  public static JobClient submit(ServingOptions options, Path modelDir, int webUiPort, boolean loopbackOnly)
      throws Exception {
    return submit(options, modelDir, webUiPort, loopbackOnly, new KafkaServingIO(options));
  }

  /** The same with the job's requests and answers on {@code io} instead of the Kafka topics. */
  public static JobClient submit(ServingOptions options, Path modelDir, int webUiPort, boolean loopbackOnly,
      ServingIO io) throws Exception {
    Configuration conf = new Configuration();
    conf.set(RestOptions.PORT, webUiPort);
    if (loopbackOnly) {
      conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    }
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, Math.max(4, options.engines * 2));
    options.configureLocalCluster(conf);
    if (options.checkpointDir == null) { // file-system checkpoints, never the JobManager's 5 MB of memory
      options.checkpointDir = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "trail-checkpoints",
          options.groupId + "-" + System.currentTimeMillis()).toUri().toString();
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
    env.setParallelism(options.engines);
    TrailServingJob.build(env, options, modelDir, System.currentTimeMillis(), io);
    return env.executeAsync("trail-serving (" + options.policy + ")");
  }
}
