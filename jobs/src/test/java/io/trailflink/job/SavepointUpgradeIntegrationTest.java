package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.embedded.EmbeddedKafka;
import io.trailflink.schema.EngineLoopState;
import io.trailflink.schema.FinalResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upgrade as an operator does it, on the embedded default: stop the serving job with a savepoint while requests
 * are in flight, then submit a build whose scheduler state record gained a field, from that savepoint. Every request
 * gets exactly one final response (read_committed), with every token it streamed before and after the upgrade.
 */
class SavepointUpgradeIntegrationTest {
  static final String[] ANIMALS = {"fox", "whale", "sparrow", "tortoise", "cat"};
  @TempDir Path tmp;

  @Test
  @Timeout(400)
  void stopWithSavepointThenResubmitInABuildWhoseStateGainedAFieldLosesAndRepeatsNothing() throws Exception {
    ServingOptions o = new ServingOptions();
    o.maxRunning = 2; // a queue stays behind the first answers, so the savepoint catches requests in flight
    o.kvBlocks = 128;
    o.maxNewTokensLimit = 48;
    o.decodeSteps = 4;
    o.checkpointIntervalMs = 1_000;
    o.exactlyOnce = true;
    o.device = "cpu";
    int n = 60; // enough work that both savepoints come while most requests still wait
    Path savepoints = Files.createDirectories(tmp.resolve("savepoints"));
    try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"))) {
      int webUi = ServingJobIntegrationTest.freePort();
      EmbeddedServing before = EmbeddedServing.onBroker(kafka, o, ServingJobIntegrationTest.MODEL, webUi);
      String savepoint;
      int answeredBefore;
      try (ResponseCollector collector = new ResponseCollector(kafka.bootstrapServers(), o.topics());
          RequestProducer producer = new RequestProducer(kafka.bootstrapServers(), o.topics())) {
        for (int i = 0; i < n; i++) {
          producer.send(ServingJobIntegrationTest.request("u-" + i, "Write a long story about a " + ANIMALS[i % 5]
              + " who learns to count to " + (20 + i) + ".", 48));
        }
        producer.flush();
        long deadline = System.currentTimeMillis() + 180_000;
        while (collector.completed() < 1 && System.currentTimeMillis() < deadline) {
          Thread.sleep(100);
        }
        // as `trail savepoint --stop` does it: through the JobManager's REST API
        Savepoints rest = new Savepoints("http://127.0.0.1:" + webUi);
        String whileRunning = rest.take(rest.runningJob(), savepoints.toUri().toString(), false, Duration.ofMinutes(2),
            p -> {});
        assertTrue(Files.isDirectory(Path.of(java.net.URI.create(whileRunning))), "a savepoint while it runs: " + whileRunning);
        savepoint = rest.take(rest.runningJob(), savepoints.toUri().toString(), true, Duration.ofMinutes(2), p -> {});
        Thread.sleep(500);
        answeredBefore = collector.completed();
      } finally {
        before.close();
      }
      assertTrue(answeredBefore >= 1 && answeredBefore < n,
          "the savepoint was taken with requests in flight: " + answeredBefore + " of " + n + " answered");

      o.fromSavepoint = savepoint;
      o.engineStateSchema = new Schema.Parser().parse(EngineLoopState.getClassSchema().toString().replaceFirst(
          "\"fields\":\\[", "\"fields\":[{\"name\":\"added_in_the_next_build\",\"type\":\"long\",\"default\":0},"))
          .toString();
      JobClient after = LocalCluster.submit(o, ServingJobIntegrationTest.MODEL, 0, true);
      try (ResponseCollector collector = new ResponseCollector(kafka.bootstrapServers(), o.topics())) {
        long deadline = System.currentTimeMillis() + 240_000;
        while (collector.completed() < n && System.currentTimeMillis() < deadline) {
          Thread.sleep(200);
        }
        Thread.sleep(2_500); // later checkpoints would expose a duplicate
        assertEquals(n, collector.completed(), "every request answered across the upgrade");
        for (var e : collector.finals().entrySet()) {
          assertEquals(1, e.getValue().size(), "one final response for " + e.getKey());
          FinalResponse f = e.getValue().get(0);
          assertNull(f.getError(), e.getKey());
          assertEquals(collector.chunkTokens().get(e.getKey()), f.getOutputTokens(),
              "the chunks streamed before and after the upgrade add up to the final response of " + e.getKey());
        }
      } finally {
        after.cancel().get(60, TimeUnit.SECONDS);
      }
    }
  }
}
