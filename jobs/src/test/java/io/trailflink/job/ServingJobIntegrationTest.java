package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.ChatTurn;
import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.InferenceRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole serving job on the embedded default: a real Kafka broker, a Flink MiniCluster, the CPU engine with
 * the bundled model. Every accepted request gets exactly one final response whose token count matches the chunks
 * streamed for it; every kind of bad input lands in the dead-letter topic with its reason, and the job goes on.
 * The first test runs two engines with load-aware placement: a repeated id and a cancel must still reach the engine
 * that holds their request.
 */
class ServingJobIntegrationTest {
  static final Path MODEL = Path.of("../models/trail-tiny");
  @TempDir Path tmp;

  static InferenceRequest request(String id, String prompt, int maxNew) {
    return InferenceRequest.newBuilder().setId(id).setPrompt(prompt).setMaxNewTokens(maxNew)
        .setSubmittedAtMs(System.currentTimeMillis()).build();
  }

  @Test
  @Timeout(600)
  void everyRequestGetsExactlyOneFinalResponseAndBadInputIsDeadLettered() throws Exception {
    ServingOptions o = new ServingOptions();
    o.policy = "trail";
    o.engines = 2;
    o.placement = "least-requests";
    o.maxRunning = 8;
    o.kvBlocks = 256;
    o.decodeSteps = 8;
    o.maxNewTokensLimit = 64;
    o.checkpointIntervalMs = 2_000;
    o.device = "cpu";
    try (EmbeddedServing serving = EmbeddedServing.start(o, MODEL, tmp, 0);
        ResponseCollector collector = new ResponseCollector(serving.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(serving.bootstrapServers(), o.topics())) {
      String[] prompts = {"List 3 fruits.", "Count from 1 to 6.", "Spell the word \"river\".",
          "Write a short story about a brave fox.", "Name 4 colors."};
      int n = 20;
      for (int i = 0; i < n; i++) {
        producer.send(request("ok-" + i, prompts[i % prompts.length], 16 + (i % 4) * 16));
      }
      producer.send(request("ok-0", "List 2 animals.", 8)); // duplicate while ok-0 is in flight
      producer.sendRaw("junk", new byte[] {1, 2, 3, (byte) 0xff});
      byte[] whole = AvroBytes.encode(request("cut", "Count from 1 to 3.", 8));
      producer.sendRaw("cut", java.util.Arrays.copyOf(whole, 6)); // a request with its fields cut off
      producer.send(request("empty", "  ", 8));
      producer.send(request("zero", "List 2 fruits.", 0));
      producer.send(request("huge", "List 2 fruits.", 100_000));
      producer.send(request("long", "word ".repeat(1500), 8));
      // a conversation goes through the model's chat template; an unknown role is refused
      producer.send(InferenceRequest.newBuilder(request("chat", "", 16)).setMessages(List.of(
          new ChatTurn("system", "Answer briefly."), new ChatTurn("user", "Name 3 animals."))).build());
      producer.send(InferenceRequest.newBuilder(request("wizard", "", 16)).setMessages(List.of(
          new ChatTurn("wizard", "Abracadabra."))).build());
      // a stop string ends the answer before it
      producer.send(InferenceRequest.newBuilder(request("stopped", "Count from 1 to 9.", 48)).setStop(List.of("5"))
          .build());
      // a cancel while the request waits behind the others: one final response, cancelled; an unknown id: nothing
      producer.send(request("to-cancel", "Write a short story about a brave fox.", 64));
      producer.send(InferenceRequest.newBuilder(request("to-cancel", "", 1)).setCancel(true).build());
      producer.send(InferenceRequest.newBuilder(request("never-sent", "", 1)).setCancel(true).build());
      producer.flush();
      n += 3; // the conversation, the stopped request, the cancelled one

      long deadline = System.currentTimeMillis() + 240_000;
      while ((collector.completed() < n || collector.deadLetters().size() < 8) && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      Thread.sleep(3_000); // a duplicate final response would arrive by now
      Map<String, List<FinalResponse>> finals = collector.finals();
      assertEquals(n, finals.size(), "final responses for " + finals.keySet());
      assertTrue(finals.containsKey("chat"), finals.keySet().toString());
      assertEquals("cancelled", finals.get("to-cancel").get(0).getFinishReason());
      assertTrue(!finals.containsKey("never-sent"), "a cancel of an unknown id answers nothing");
      FinalResponse stopped = finals.get("stopped").get(0);
      assertEquals("stop", stopped.getFinishReason());
      assertTrue(!stopped.getText().contains("5") && !stopped.getText().isBlank(), stopped.getText());
      Map<String, Integer> chunks = collector.chunkTokens();
      for (var e : finals.entrySet()) {
        assertEquals(1, e.getValue().size(), "exactly one final response for " + e.getKey());
        FinalResponse f = e.getValue().get(0);
        if (!e.getKey().equals("to-cancel")) {
          assertNull(f.getError(), e.getKey() + " failed: " + f.getError());
        }
        assertTrue(f.getOutputTokens() >= (e.getKey().equals("to-cancel") ? 0 : 1) && f.getOutputTokens() <= 64,
            e.getKey() + " tokens " + f.getOutputTokens());
        assertEquals(f.getOutputTokens(), chunks.getOrDefault(e.getKey(), 0), "chunk tokens of " + e.getKey());
        assertTrue(f.getLatencyMs() >= f.getTtftMs() && f.getTtftMs() >= 0, e.getKey() + " timings");
        assertTrue(List.of("stop", "length").contains(f.getFinishReason()) || e.getKey().equals("to-cancel"),
            f.getFinishReason());
      }
      Map<String, String> reasons = collector.deadLetters().stream()
          .collect(Collectors.toMap(d -> d.getRequestId() == null ? "offset-" + d.getSourceOffset() : d.getRequestId(),
              DeadLetter::getReason, (a, b) -> a + " | " + b));
      assertEquals(8, collector.deadLetters().size(), "dead letters: " + reasons);
      assertTrue(reasons.get("wizard").startsWith("messages[0]: unknown message role 'wizard'"), reasons.toString());
      assertTrue(reasons.get("ok-0").contains("duplicate"), reasons.toString());
      assertTrue(reasons.get("empty").contains("empty prompt"), reasons.toString());
      assertTrue(reasons.get("zero").contains("max_new_tokens"), reasons.toString());
      assertTrue(reasons.get("huge").contains("max_new_tokens"), reasons.toString());
      assertTrue(reasons.get("long").contains("context"), reasons.toString());
      long notAvro = collector.deadLetters().stream().filter(d -> d.getReason().startsWith("not an Avro")).count();
      assertEquals(2, notAvro, reasons.toString());
      assertTrue(collector.deadLetters().stream().allMatch(d -> d.getRaw().remaining() > 0), "raw bytes kept");

      // the job is still running and serves a request sent after the bad input
      producer.send(request("after", "List 2 fruits.", 16));
      producer.flush();
      while (!collector.finals().containsKey("after") && System.currentTimeMillis() < deadline + 60_000) {
        Thread.sleep(200);
      }
      assertEquals(1, collector.finals().getOrDefault("after", List.of()).size());
      Map<String, Long> perEngine = collector.finals().values().stream()
          .collect(Collectors.groupingBy(l -> l.get(0).getEngine(), Collectors.counting()));
      assertEquals(2, perEngine.size(), "both engines served: " + perEngine);
    }
  }

  /** A free TCP port for the web UI, so that the test can read the job's exception history over REST. */
  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  @Timeout(300)
  void noRecordCanCrashLoopTheJob() throws Exception {
    ServingOptions o = new ServingOptions();
    o.maxRunning = 4;
    o.kvBlocks = 128;
    o.maxNewTokensLimit = 16;
    o.checkpointIntervalMs = 1_000;
    o.device = "cpu";
    int webUi = freePort();
    try (EmbeddedServing serving = EmbeddedServing.start(o, MODEL, tmp, webUi);
        ResponseCollector collector = new ResponseCollector(serving.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(serving.bootstrapServers(), o.topics())) {
      // (a) a request just under Kafka's 1 MiB limit: its dead letter used to exceed max.request.size, fail the sink
      // and restart the job onto the same record
      byte[] nearLimit = AvroBytes.encode(request("near-1mib", "a".repeat(1_040_000), 8));
      producer.sendRaw("near-1mib", nearLimit);
      // (b) 35 bytes whose prompt length prefix claims 1.9 GB: Avro used to allocate it
      byte[] bomb = new byte[35];
      byte[] head = {8, 'b', 'o', 'm', 'b', (byte) 0x80, (byte) 0xcc, (byte) 0xfd, (byte) 0x93, 0x0e}; // 1.9e9, zig-zag
      System.arraycopy(head, 0, bomb, 0, head.length);
      producer.sendRaw("bomb", bomb);
      // (c) ids that differ only in bytes that are not UTF-8 used to collapse into one
      for (byte bad : new byte[] {(byte) 0xff, (byte) 0xfe}) {
        byte[] b = AvroBytes.encode(request("u?", "List 2 fruits.", 8));
        b[2] = bad;
        producer.sendRaw("utf8", b);
      }
      int n = 3;
      for (int i = 0; i < n; i++) {
        producer.send(request("after-" + i, "Name " + (i + 2) + " colors.", 8));
      }
      producer.flush();
      long deadline = System.currentTimeMillis() + 180_000;
      while ((collector.completed() < n || collector.deadLetters().size() < 4) && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      Thread.sleep(2_000);
      assertEquals(n, collector.completed(), "the valid requests behind the bad records are answered");
      Map<String, DeadLetter> dead = collector.deadLetters().stream()
          .collect(Collectors.toMap(d -> d.getRequestId() == null ? "offset-" + d.getSourceOffset() : d.getRequestId(),
              d -> d, (a, b) -> a));
      assertEquals(4, collector.deadLetters().size(), "dead letters: " + dead.keySet());
      DeadLetter big = dead.get("near-1mib");
      assertTrue(big.getReason().contains("field prompt: string of 1040000 bytes exceeds the limit"), big.getReason());
      assertEquals(nearLimit.length, big.getRawSize());
      assertTrue(big.getRawTruncated() && big.getRaw().remaining() < nearLimit.length, "payload cut to fit");
      assertTrue(dead.get("bomb").getReason().contains("field prompt: string of 1900000000 bytes exceeds the limit"),
          dead.get("bomb").getReason());
      assertEquals(2, collector.deadLetters().stream().filter(d -> d.getReason().equals("field id: not valid UTF-8"))
          .count(), dead.toString());
      assertEquals(0, JobFailures.count("http://127.0.0.1:" + webUi, serving.job().getJobID()), "job restarts");
    }
  }

  @Test
  @Timeout(300)
  void withBackpressureTheQueueStaysWithinMaxWaitingAndNothingIsRefused() throws Exception {
    ServingOptions o = new ServingOptions();
    o.maxRunning = 2;
    o.maxWaiting = 2;
    o.overload = "backpressure";
    o.kvBlocks = 128;
    o.maxNewTokensLimit = 16;
    o.device = "cpu";
    int n = 100; // more than the gate holds (64) plus the engine's room (4): the source must stop reading
    try (EmbeddedServing serving = EmbeddedServing.start(o, MODEL, tmp, 0);
        ResponseCollector collector = new ResponseCollector(serving.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(serving.bootstrapServers(), o.topics())) {
      for (int i = 0; i < n; i++) {
        producer.send(request("bp-" + i, "Name " + (2 + i % 5) + " animals.", 8));
      }
      producer.flush();
      long deadline = System.currentTimeMillis() + 240_000;
      while (collector.completed() < n && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      assertEquals(n, collector.completed(), "every request answered");
      for (var e : collector.finals().entrySet()) {
        assertEquals(1, e.getValue().size(), e.getKey());
        assertNull(e.getValue().get(0).getError(), "nothing refused: " + e.getKey());
      }
      int mostQueued = collector.engineStatus().stream().mapToInt(st -> st.getWaiting() + st.getPreempted())
          .max().orElse(-1);
      assertTrue(mostQueued >= 1 && mostQueued <= o.maxWaiting + 2, "queued at most --max-waiting (a status or two of "
          + "lag allowed), saw " + mostQueued + " (without the gate: up to " + (n - o.maxRunning) + ")");
    }
  }

  @Test
  @Timeout(300)
  void exactlyOnceResponsesArriveAtCheckpointsOncePerRequest() throws Exception {
    ServingOptions o = new ServingOptions();
    o.maxRunning = 4;
    o.kvBlocks = 128;
    o.maxNewTokensLimit = 32;
    o.checkpointIntervalMs = 1_000;
    o.exactlyOnce = true;
    o.device = "cpu";
    try (EmbeddedServing serving = EmbeddedServing.start(o, MODEL, tmp, 0);
        ResponseCollector collector = new ResponseCollector(serving.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(serving.bootstrapServers(), o.topics())) {
      for (int i = 0; i < 4; i++) {
        producer.send(request("eo-" + i, "Name " + (i + 2) + " animals.", 16));
      }
      producer.send(request("eo-bad", " ", 16));
      producer.flush();
      long deadline = System.currentTimeMillis() + 240_000;
      while ((collector.completed() < 4 || collector.deadLetters().isEmpty()) && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      Thread.sleep(2_500); // one more checkpoint: a duplicate would have shown up by now
      assertEquals(4, collector.completed());
      for (var e : collector.finals().entrySet()) {
        assertEquals(1, e.getValue().size(), "one final response for " + e.getKey());
        assertEquals(collector.chunkTokens().get(e.getKey()), e.getValue().get(0).getOutputTokens());
      }
      assertEquals(1, collector.deadLetters().size(), "dead letters are transactional too");
    }
  }

  @Test
  @Timeout(300)
  void exactlyOneFinalResponseAcrossAnEngineFailureAndRestore() throws Exception {
    ServingOptions o = new ServingOptions();
    o.maxRunning = 4;
    o.kvBlocks = 128;
    o.maxNewTokensLimit = 48;
    o.decodeSteps = 4;
    o.checkpointIntervalMs = 500;
    o.exactlyOnce = true;
    o.failAtCommand = 14; // the engine task fails mid-run; the job restores from its last checkpoint
    o.device = "cpu";
    int webUi = freePort();
    try (EmbeddedServing serving = EmbeddedServing.start(o, MODEL, tmp, webUi);
        ResponseCollector collector = new ResponseCollector(serving.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(serving.bootstrapServers(), o.topics())) {
      int n = 8;
      for (int i = 0; i < n; i++) {
        producer.send(request("r-" + i, "Count from 1 to " + (5 + i) + ".", 40));
      }
      producer.flush();
      long deadline = System.currentTimeMillis() + 240_000;
      while (collector.completed() < n && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      Thread.sleep(2_000); // later checkpoints would expose a duplicate
      assertEquals(n, collector.completed(), "every request finished after the restore");
      assertEquals(1, JobFailures.count("http://127.0.0.1:" + webUi, serving.job().getJobID()),
          "the drill's one failure shows in the job's exception history");
      for (var e : collector.finals().entrySet()) {
        assertEquals(1, e.getValue().size(), "one final response for " + e.getKey());
        FinalResponse f = e.getValue().get(0);
        assertNull(f.getError(), e.getKey());
        assertEquals(collector.chunkTokens().get(e.getKey()), f.getOutputTokens(),
            "the chunks a consumer saw add up to the final response of " + e.getKey());
      }
    }
  }
}
