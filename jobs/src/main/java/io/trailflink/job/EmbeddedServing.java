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
  private final boolean ownsKafka; // false: a broker shared by several runs (bench), closed by its owner
  private final JobClient job;
  private final String webUi;

  private EmbeddedServing(EmbeddedKafka kafka, boolean ownsKafka, JobClient job, String webUi) {
    this.kafka = kafka;
    this.ownsKafka = ownsKafka;
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
      return start(kafka, true, options, modelDir, webUiPort);
    } catch (Exception e) {
      kafka.close();
      throw e;
    }
  }

  /**
   * The job on a broker that is already running and stays up after {@link #close} (several runs on one broker,
   * each under its own {@code --topic-prefix}).
   */
  public static EmbeddedServing onBroker(EmbeddedKafka kafka, ServingOptions options, Path modelDir, int webUiPort)
      throws Exception {
    return start(kafka, false, options, modelDir, webUiPort);
  }

  private static EmbeddedServing start(EmbeddedKafka kafka, boolean owns, ServingOptions options, Path modelDir,
      int webUiPort) throws Exception {
    options.bootstrapServers = kafka.bootstrapServers();
    Map<String, Integer> partitions = new LinkedHashMap<>();
    options.topics().all().forEach(t -> partitions.put(t, 1));
    kafka.createTopics(partitions);
    JobClient job = LocalCluster.submit(options, modelDir, webUiPort, true);
    String ui = webUiPort > 0 ? "http://127.0.0.1:" + webUiPort : "(web UI on a free port; see the log)";
    return new EmbeddedServing(kafka, owns, job, ui);
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
    if (ownsKafka) {
      kafka.close();
    }
  }
}
