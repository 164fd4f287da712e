package io.trailflink.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.SchemaFingerprints;
import java.time.Instant;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.records.BoundedAvroReader;
import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordLimits;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** The step before each Kafka sink: what Kafka would refuse becomes a dead letter or a cut payload, never a throw. */
class EncodeForKafkaTest {
  static final RecordLimits LIMITS = new RecordLimits(100_000, 512, 50_000);

  static DeadLetter decode(KafkaBytes b) throws Exception {
    return new BoundedAvroReader<>(DeadLetter.class, Map.of(), Integer.MAX_VALUE).read(b.value());
  }

  @Test
  void aDeadLetterTooLargeForKafkaIsWrittenWithItsPayloadCutAndItsSizeAndHashKept() throws Exception {
    // regression: a request just under Kafka's 1 MiB limit made a dead letter over max.request.size; the sink threw
    // RecordTooLargeException and the job restarted onto the same record, 11 times in 3 minutes
    byte[] payload = new byte[150_000];
    payload[0] = 7;
    DeadLetter big = DeadLetters.of(new RawRecord("trail.requests", 0, 9, payload), "big", "too long");
    try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new EncodeDeadLetters("trail.dead-letters", LIMITS))) {
      h.processElement(big, 0);
      List<KafkaBytes> out = h.extractOutputValues();
      assertEquals(1, out.size());
      assertTrue(out.get(0).size() <= LIMITS.maxRecordBytes(), "fits: " + out.get(0).size());
      assertArrayEquals("big".getBytes(StandardCharsets.UTF_8), out.get(0).key());
      DeadLetter d = decode(out.get(0));
      assertTrue(d.getRawTruncated());
      assertEquals(150_000, d.getRawSize());
      assertEquals(LIMITS.maxDeadLetterRawBytes(), d.getRaw().remaining());
      assertEquals(7, d.getRaw().get(0));
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)), d.getRawSha256());
      assertEquals("too long", d.getReason());
      assertEquals(9, d.getSourceOffset());
    }
  }

  @Test
  void aDeadLetterThatFitsKeepsEveryByte() throws Exception {
    byte[] payload = {1, 2, 3};
    try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new EncodeDeadLetters("d", LIMITS))) {
      h.processElement(DeadLetters.of(new RawRecord("t", 0, 1, payload), null, "junk"), 0);
      DeadLetter d = decode(h.extractOutputValues().get(0));
      assertEquals(ByteBuffer.wrap(payload), d.getRaw());
      assertEquals(3, d.getRawSize());
      assertTrue(!d.getRawTruncated());
      assertEquals(0, h.extractOutputValues().get(0).key().length, "no id, empty key");
    }
  }

  @Test
  void aResponseTooLargeForKafkaBecomesADeadLetterNamingTheRequest() throws Exception {
    FinalResponse f = FinalResponse.newBuilder().setRequestId("r1").setText("x".repeat(120_000)).setPromptTokens(1)
        .setOutputTokens(1).setSubmittedAt(Instant.EPOCH).setFirstTokenAt(Instant.EPOCH).setFinishedAt(Instant.EPOCH)
        .setTtftMs(0).setLatencyMs(0).setQueueingMs(0).setPreemptions(0).setEvictions(0).setFinishReason("length")
        .setEngine("engine-0").setPolicy("trail").setInitialPrediction(null).build();
    FinalResponse small = FinalResponse.newBuilder(f).setRequestId("r0").setText("ok").build();
    try (var h = ProcessFunctionTestHarnesses.forProcessFunction(
        new EncodeRecords<>(FinalResponse.class, "trail.responses", 100_000, FinalResponse::getRequestId))) {
      h.processElement(small, 0);
      h.processElement(f, 0);
      assertEquals(1, h.extractOutputValues().size(), "the small response is written");
      KafkaBytes written = h.extractOutputValues().get(0);
      assertEquals(SchemaFingerprints.of(FinalResponse.getClassSchema()), written.schemaFingerprint(),
          "the writer schema travels with the record");
      var dead = List.copyOf(h.getSideOutput(DeadLetters.TAG));
      assertEquals(1, dead.size());
      DeadLetter d = dead.get(0).getValue();
      assertEquals("r1", d.getRequestId());
      assertEquals("trail.responses", d.getSourceTopic());
      assertEquals(-1, d.getSourceOffset());
      assertTrue(d.getReason().startsWith("record not written: record of ") && d.getReason().contains("100000"),
          d.getReason());
    }
  }
}
