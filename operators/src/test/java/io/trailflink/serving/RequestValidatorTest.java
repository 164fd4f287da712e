package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, p -> {
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
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, p -> {
      throw new IllegalStateException("tokenizer broke");
    });
    RequestValidator.Outcome o = v.validate(raw(request("t", "hello")));
    assertEquals("t", o.requestId());
    assertTrue(o.reason().startsWith("prompt could not be tokenized") && o.reason().contains("tokenizer broke"),
        o.reason());
  }

  @Test
  void aValidRequestPassesWithItsTokensAndEngine() throws Exception {
    RequestValidator v = new RequestValidator(CONFIG, RecordLimits.DEFAULT, p -> new int[] {1, 2, 3});
    RequestValidator.Outcome o = v.validate(raw(request("ok", "hello")));
    assertTrue(o.valid(), o.reason());
    assertNull(o.reason());
    assertEquals(3, o.request().promptTokenIds().length);
  }
}
