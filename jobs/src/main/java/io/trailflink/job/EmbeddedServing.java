package io.trailflink.job;

import io.trailflink.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;

/**
 * The embedded default: a real Kafka broker (child JVM, KRaft), the job's topics, and the serving job on a Flink
 * MiniCluster in this JVM with its web UI. Used by {@code trail demo} and the integration test.
 */
public final class EmbeddedServing implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final JobClient job;
  private final String webUi;

  private EmbeddedServing(EmbeddedKafka kafka, JobClient job, String webUi) {
    this.kafka = kafka;
    this.job = job;
    this.webUi = webUi;
  }

  /**
   * Starts everything; {@code options.bootstrapServers} is replaced by the embedded broker's.
   *
   * @param webUiPort port of Flink's web UI (0 picks a free one)
   */
  public static EmbeddedServing start(ServingOptions options, Path modelDir, Path workDir, int webUiPort)
      throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start(workDir.resolve("kafka"));
    try {
      options.bootstrapServers = kafka.bootstrapServers();
      Topics t = options.topics();
      Map<String, Integer> partitions = new LinkedHashMap<>();
      partitions.put(t.requests(), 1);
      partitions.put(t.responses(), 1);
      partitions.put(t.predictions(), 1);
      partitions.put(t.deadLetters(), 1);
      kafka.createTopics(partitions);

      JobClient job = LocalCluster.submit(options, modelDir, webUiPort, true);
      String ui = webUiPort > 0 ? "http://127.0.0.1:" + webUiPort : "(web UI on a free port; see the log)";
      return new EmbeddedServing(kafka, job, ui);
    } catch (Exception e) {
      kafka.close();
      throw e;
    }
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  public JobClient job() {
    return job;
  }

  public String webUi() {
    return webUi;
  }

  @Override
  public void close() throws Exception {
    try {
      job.cancel().get();
    } catch (Exception e) {
      // already finished or failed: nothing to cancel
    }
    kafka.close();
  }
}
