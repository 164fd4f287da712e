package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.SchemaFingerprints;
import io.trailflink.sim.SimResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.flink.types.Row;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped queries over the records of a real run: the job serves requests of two tenants on the embedded
 * broker (plus bad records), then each file in {@code sql/queries} runs bounded over the topics, and its figures
 * must equal the same figures computed in Java from the records a plain consumer read.
 */
class SqlOverTheJobIntegrationTest {
  @TempDir Path tmp;

  @Test
  @Timeout(600)
  void eachShippedQueryAgreesWithTheRecordsItReads() throws Exception {
    ServingOptions o = new ServingOptions();
    o.policy = "trail";
    o.maxRunning = 4;
    o.kvBlocks = 256;
    o.maxNewTokensLimit = 64;
    o.device = "cpu";
    o.etaEveryMs = 200;
    String[] prompts = {"List 3 fruits.", "Count from 1 to 9.", "Write a short story about a brave fox.",
        "Name 4 colors.", "Spell the word \"river\"."};
    int n = 12;
    try (EmbeddedServing serving = EmbeddedServing.start(o, ServingJobIntegrationTest.MODEL, tmp, 0);
        ResponseCollector collector = new ResponseCollector(serving.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(serving.bootstrapServers(), o.topics())) {
      for (int i = 0; i < n; i++) {
        producer.send(InferenceRequest.newBuilder(ServingJobIntegrationTest.request("q-" + i, prompts[i % 5], 16 + i * 3))
            .setTenant(i % 3 == 0 ? "blue" : "green").build());
      }
      producer.sendRaw("junk", new byte[] {1, 2, 3});
      producer.send(ServingJobIntegrationTest.request("empty", " ", 8));
      producer.send(ServingJobIntegrationTest.request("zero", "List 2 fruits.", 0));
      sendWithUnknownSchema(serving.bootstrapServers(), o.topics().requests());
      producer.flush();
      long deadline = System.currentTimeMillis() + 300_000;
      while ((collector.completed() < n || collector.deadLetters().size() < 4) && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      Thread.sleep(2_000); // the last engine status and ETAs
      List<FinalResponse> finals = collector.finals().values().stream().map(l -> l.get(0)).toList();
      assertEquals(n, finals.size());
      List<DeadLetter> dead = collector.deadLetters();
      assertTrue(dead.stream().anyMatch(d -> d.getReason().startsWith("unknown writer schema: header "
          + SchemaFingerprints.HEADER)), "a record naming an unknown schema is dead-lettered: " + dead);

      try (SqlRunner sql = new SqlRunner(SqlTablesTest.TABLES, serving.bootstrapServers(), o.topicPrefix, true)) {
        checkLatencyPerMinute(run(sql, "latency-per-minute.sql"), finals);
        checkPredictionErrorByBin(run(sql, "prediction-error-by-bin.sql"), finals);
        checkEtaAccuracy(run(sql, "eta-accuracy.sql"), collector.etas(), finals);
        checkEngineLoad(run(sql, "engine-load.sql"), collector.engineStatus());
        checkDeadLetters(run(sql, "dead-letters-by-reason.sql"), dead);
      }
    }
  }

  private static List<Row> run(SqlRunner sql, String query) throws Exception {
    Path file = SqlTablesTest.QUERIES.resolve(query);
    List<Row> changes = new ArrayList<>();
    sql.run(file, Files.readString(file), changes::add);
    return SqlRunner.materialize(changes);
  }

  private static void checkLatencyPerMinute(List<Row> rows, List<FinalResponse> finals) {
    Map<String, List<FinalResponse>> groups = finals.stream().collect(Collectors.groupingBy(f ->
        minute(f.getFinishedAt().toEpochMilli()) + "/" + f.getPolicy() + "/" + f.getTenant()));
    assertEquals(groups.size(), rows.size(), rows.toString());
    for (Row r : rows) {
      long start = ((LocalDateTime) r.getField("window_start")).toInstant(ZoneOffset.UTC).toEpochMilli();
      List<FinalResponse> g = groups.get(start + "/" + r.getField("policy") + "/" + r.getField("tenant"));
      assertEquals(g.size(), ((Number) r.getField("requests")).intValue(), r.toString());
      double[] latency = g.stream().mapToDouble(FinalResponse::getLatencyMs).toArray();
      // Flink's PERCENTILE interpolates linearly between the two nearest ranks, as SimResult.percentile does
      assertEquals(SimResult.percentile(latency, 50), (Double) r.getField("p50_latency_ms"), 1e-6, r.toString());
      assertEquals(SimResult.percentile(latency, 99), (Double) r.getField("p99_latency_ms"), 1e-6, r.toString());
      double meanTtft = g.stream().mapToLong(FinalResponse::getTtftMs).average().orElseThrow();
      assertEquals(meanTtft, (Double) r.getField("mean_ttft_ms"), 1e-6, r.toString());
    }
  }

  private static void checkPredictionErrorByBin(List<Row> rows, List<FinalResponse> finals) {
    Map<Integer, List<FinalResponse>> bins = finals.stream().filter(f -> f.getInitialPrediction() != null)
        .collect(Collectors.groupingBy(f -> Math.min((int) Math.floor(f.getOutputTokens() / 51.2), 9)));
    assertTrue(!bins.isEmpty(), "TRAIL made initial predictions");
    assertEquals(bins.size(), rows.size(), rows.toString());
    for (Row r : rows) {
      List<FinalResponse> b = bins.get((Integer) r.getField("length_bin"));
      assertEquals(b.size(), ((Number) r.getField("requests")).intValue());
      double mae = b.stream().mapToDouble(f -> Math.abs(f.getInitialPrediction() - f.getOutputTokens())).average()
          .orElseThrow();
      assertEquals(mae, (Double) r.getField("mae_tokens"), 1e-6, r.toString());
    }
  }

  private static void checkEtaAccuracy(List<Row> rows, List<EtaUpdate> etas, List<FinalResponse> finals) {
    Map<String, Long> finished = finals.stream()
        .collect(Collectors.toMap(FinalResponse::getRequestId, f -> f.getFinishedAt().toEpochMilli()));
    Map<String, List<Double>> errors = new HashMap<>();
    for (EtaUpdate e : etas) {
      Long end = finished.get(e.getRequestId());
      if (end != null && e.getPredictedFinishAt() != null) {
        errors.computeIfAbsent(e.getCause(), k -> new ArrayList<>())
            .add((end - e.getPredictedFinishAt().toEpochMilli()) / 1000.0);
      }
    }
    assertTrue(errors.containsKey("refresh"), "ETAs were refreshed while requests ran: " + errors.keySet());
    assertEquals(errors.size(), rows.size(), rows.toString());
    for (Row r : rows) {
      List<Double> e = errors.get((String) r.getField("cause"));
      assertEquals(e.size(), ((Number) r.getField("estimates")).intValue(), r.toString());
      double mae = e.stream().mapToDouble(Math::abs).average().orElseThrow();
      assertEquals(mae, ((Number) r.getField("mae_s")).doubleValue(), 1e-6, r.toString());
    }
    long accepted = etas.stream().filter(e -> e.getCause().equals("accepted")).count();
    assertEquals(finals.size(), accepted, "one ETA at acceptance per request");
  }

  private static void checkEngineLoad(List<Row> rows, List<EngineStatus> status) {
    assertEquals(status.size(), rows.stream().mapToLong(r -> ((Number) r.getField("commands")).longValue()).sum());
    int maxWaiting = status.stream().mapToInt(EngineStatus::getWaiting).max().orElseThrow();
    assertEquals(maxWaiting, rows.stream().mapToInt(r -> (Integer) r.getField("max_waiting")).max().orElseThrow());
    long tokens = status.stream().mapToLong(EngineStatus::getNewTokens).sum();
    assertEquals(tokens / 10.0, rows.stream().mapToDouble(r -> ((Number) r.getField("tokens_per_s")).doubleValue())
        .sum(), 1e-6);
  }

  private static void checkDeadLetters(List<Row> rows, List<DeadLetter> dead) {
    Map<String, Long> byKind = dead.stream().collect(Collectors.groupingBy(DeadLetter::getReasonKind,
        Collectors.counting()));
    Map<String, Long> fromSql = rows.stream().collect(Collectors.toMap(r -> (String) r.getField("reason_kind"),
        r -> ((Number) r.getField("dead_letters")).longValue()));
    assertEquals(byKind, fromSql);
  }

  private static long minute(long epochMs) {
    return epochMs / 60_000 * 60_000;
  }

  private static void sendWithUnknownSchema(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, "from-the-future".getBytes(StandardCharsets.UTF_8),
          AvroBytes.encode(ServingJobIntegrationTest.request("from-the-future", "List 2 fruits.", 8)));
      r.headers().add(SchemaFingerprints.HEADER, "00000000deadbeef".getBytes(StandardCharsets.US_ASCII));
      producer.send(r);
    }
  }
}
