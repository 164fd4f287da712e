package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.engine.SamplingParams;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.serving.records.RecordLimits;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/** The requests topic's gate: what it refuses, with which reason, and that refusing costs no more than the record. */
class RequestValidatorTest {
  static final ServingConfig CONFIG = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000);

  static RawRecord raw(InferenceRequest r) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(InferenceRequest.class).write(r, enc);
    enc.flush();
    return new RawRecord("trail.requests", 0, 1, out.toByteArray());
  }

  static InferenceRequest request(String id, String prompt) {
    return InferenceRequest.newBuilder().setId(id).setPrompt(prompt).setMaxNewTokens(8).setSubmittedAtMs(1).build();
  }

  @Test
  void aRequestJustUnderKafkasLimitIsRefusedBeforeItsPromptIsDecodedOrTokenized() throws Exception {
    AtomicInteger tokenized = new AtomicInteger();
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, SamplingParams.GREEDY, (p, m) -> {
      tokenized.incrementAndGet();
      return new int[p.length()];
    });
    RequestValidator.Outcome o = v.validate(raw(request("near-1mib", "a".repeat(1_040_000))));
    assertFalse(o.valid());
    assertEquals("near-1mib", o.requestId(), "the id read before the prompt names the dead letter");
    assertEquals("field prompt: string of 1040000 bytes exceeds the limit of 262144 bytes", o.reason());
    assertEquals(0, tokenized.get());
  }

  @Test
  void aTokenizerThatThrowsRefusesTheRequestInsteadOfFailingTheJob() throws Exception {
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, SamplingParams.GREEDY, (p, m) -> {
      throw new IllegalStateException("tokenizer broke");
    });
    RequestValidator.Outcome o = v.validate(raw(request("t", "hello")));
    assertEquals("t", o.requestId());
    assertTrue(o.reason().startsWith("prompt could not be tokenized") && o.reason().contains("tokenizer broke"),
        o.reason());
  }

  static InferenceRequest chat(String id, String... roleContent) {
    java.util.List<io.trailflink.schema.ChatTurn> turns = new java.util.ArrayList<>();
    for (int i = 0; i < roleContent.length; i += 2) {
      turns.add(new io.trailflink.schema.ChatTurn(roleContent[i], roleContent[i + 1]));
    }
    return InferenceRequest.newBuilder().setId(id).setMessages(turns).setMaxNewTokens(8).setSubmittedAtMs(1).build();
  }

  @Test
  void messagesGoThroughTheChatTemplateAndBadOnesAreRefusedWithTheReason() throws Exception {
    try (var encoder = io.trailflink.engine.text.PromptEncoder.forCheckpoint(java.nio.file.Path.of("../models/trail-tiny"))) {
      RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, SamplingParams.GREEDY,
          (p, m) -> m == null ? encoder.prompt(p, false) : encoder.chat(m));
      RequestValidator.Outcome ok = v.validate(raw(chat("c1", "system", "Be brief.", "user", "List 3 fruits.")));
      assertTrue(ok.valid(), ok.reason());
      assertEquals(encoder.codec().encode("<s><|user|>\nBe brief.\n<|user|>\nList 3 fruits.\n<|assistant|>\n").length,
          ok.request().promptTokenIds().length);
      assertEquals("messages[1]: unknown message role 'wizard' (known: system, user, assistant, tool)",
          v.validate(raw(chat("c2", "user", "hi", "wizard", "abracadabra"))).reason());
      assertEquals("messages is empty", v.validate(raw(chat("c3"))).reason());
      InferenceRequest both = chat("c4", "user", "hi");
      both.setPrompt("hello");
      assertEquals("give prompt or messages, not both", v.validate(raw(both)).reason());
    }
  }

  @Test
  void aConversationTheTemplateRefusesIsDeadLetteredWithTheTemplatesWords() throws Exception {
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, SamplingParams.GREEDY, (p, m) -> {
      throw new io.trailflink.engine.text.ChatTemplate.RenderException("chat template failed: roles must alternate");
    });
    assertEquals("chat template failed: roles must alternate", v.validate(raw(chat("t", "user", "a", "user", "b"))).reason());
  }

  @Test
  void aRequestWrittenWithTheFirstReleasedSchemaIsStillServed() throws Exception {
    // producers built against v1 (no messages, stop, top_k, repetition_penalty) write shorter records
    var history = io.trailflink.schema.SchemaHistory.released("InferenceRequest"); // newest first
    org.apache.avro.Schema v1 = history.get(history.size() - 1);
    org.apache.avro.Schema current = InferenceRequest.getClassSchema();
    assertEquals(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
        org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(current, v1).getType(),
        "the current schema reads v1 records");
    var sampling = new org.apache.avro.generic.GenericData.Record(v1.getField("sampling").schema().getTypes().get(1));
    sampling.put("temperature", 0.5f);
    sampling.put("top_p", 0.9f);
    sampling.put("seed", 3L);
    var old = new org.apache.avro.generic.GenericData.Record(v1);
    old.put("id", "old-1");
    old.put("prompt", "List 3 fruits.");
    old.put("max_new_tokens", 8);
    old.put("submitted_at_ms", 5L);
    old.put("tenant", "legacy");
    old.put("sampling", sampling);
    old.put("forced_output_tokens", null);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new org.apache.avro.generic.GenericDatumWriter<>(v1).write(old, enc);
    enc.flush();
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, SamplingParams.GREEDY, (p, m) -> {
      assertNull(m, "a v1 request has no messages");
      return new int[] {1, 2};
    });
    RequestValidator.Outcome o = v.validate(new RawRecord("trail.requests", 0, 7, out.toByteArray()));
    assertTrue(o.valid(), o.reason());
    assertEquals("legacy", o.request().tenant());
    long v1Print = io.trailflink.schema.SchemaFingerprints.of(v1);
    RequestValidator.Outcome named = v.validate(new RawRecord("trail.requests", 0, 8, out.toByteArray(), v1Print, null));
    assertTrue(named.valid(), "read with the writer schema its header names: " + named.reason());
    RequestValidator.Outcome unknown = v.validate(new RawRecord("trail.requests", 0, 9, out.toByteArray(), 42L, null));
    assertTrue(!unknown.valid() && unknown.reason().startsWith("unknown writer schema: header trail.schema.fingerprint "
        + "000000000000002a names no released InferenceRequest schema"), unknown.reason());
    RequestValidator.Outcome wrong = v.validate(new RawRecord("trail.requests", 0, 10, out.toByteArray(),
        io.trailflink.schema.SchemaFingerprints.of(current), null));
    assertTrue(!wrong.valid(), "v1 bytes under a header naming the current schema are not a current record");
    assertEquals(0.5f, o.request().sampling().getTemperature());
    assertEquals(0, o.request().sampling().getTopK(), "new fields take their defaults");
    assertEquals(1f, o.request().sampling().getRepetitionPenalty());
    assertTrue(o.request().stop().isEmpty());
  }

  @Test
  void aRequestWithoutSamplingTakesTheModelsDefaultsSeededByItsId() throws Exception {
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, new SamplingParams(0.6, 0.9, 0, 50, 1.1),
        (p, m) -> new int[] {1});
    var s = v.validate(raw(request("d1", "hi"))).request().sampling();
    assertEquals(0.6f, s.getTemperature(), 1e-6);
    assertEquals(50, s.getTopK());
    assertEquals(1.1f, s.getRepetitionPenalty(), 1e-6);
    assertEquals("d1".hashCode(), s.getSeed());
    InferenceRequest bad = request("d2", "hi");
    bad.setSampling(io.trailflink.schema.Sampling.newBuilder().setTopK(-1).build());
    assertEquals("sampling.top_k must be >= 0, got -1", v.validate(raw(bad)).reason());
    InferenceRequest stop = request("d3", "hi");
    stop.setStop(java.util.List.of("ok", ""));
    assertEquals("a stop string is empty", v.validate(raw(stop)).reason());
  }

  @Test
  void aValidRequestPassesWithItsTokensAndEngine() throws Exception {
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, SamplingParams.GREEDY, (p, m) -> new int[] {1, 2, 3});
    RequestValidator.Outcome o = v.validate(raw(request("ok", "hello")));
    assertTrue(o.valid(), o.reason());
    assertNull(o.reason());
    assertEquals(3, o.request().promptTokenIds().length);
  }
}
