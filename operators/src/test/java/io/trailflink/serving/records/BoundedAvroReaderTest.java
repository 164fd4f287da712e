package io.trailflink.serving.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.Sampling;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/** Untrusted Avro: every length bounded before allocation, UTF-8 enforced, every failure a reason naming the field. */
class BoundedAvroReaderTest {
  static final BoundedAvroReader<InferenceRequest> READER =
      new BoundedAvroReader<>(InferenceRequest.class, Map.of("id", 64, "prompt", 1_000), 4_096);

  static <T extends SpecificRecord> byte[] avro(T r) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    @SuppressWarnings("unchecked")
    SpecificDatumWriter<T> w = new SpecificDatumWriter<>((Class<T>) r.getClass());
    w.write(r, enc);
    enc.flush();
    return out.toByteArray();
  }

  /** Avro's zig-zag varint encoding of {@code v}. */
  static byte[] varint(long v) {
    long z = (v << 1) ^ (v >> 63);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
    return out.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static InferenceRequest request(String id, String prompt) {
    return InferenceRequest.newBuilder().setId(id).setPrompt(prompt).setMaxNewTokens(16).setSubmittedAtMs(42)
        .setTenant("team-a").setSampling(Sampling.newBuilder().setTemperature(0.7f).setTopP(0.9f).setSeed(7L).setTopK(40).build()).setForcedOutputTokens(5).build();
  }

  static String reason(byte[] bytes) {
    return assertThrows(MalformedRecordException.class, () -> READER.read(bytes)).getMessage();
  }

  @Test
  void aValidRequestReadsBackWhole() throws Exception {
    InferenceRequest r = request("req-1", "List 3 fruits, é and 日本 included.");
    assertEquals(r, READER.read(avro(r)));
  }

  @Test
  void aLengthPrefixClaimingGigabytesIsRefusedWithoutAllocatingIt() {
    // the 35-byte record that made the job allocate 1.9 GB: an id, then a prompt whose length prefix claims 1.9e9
    byte[] bomb = concat(varint(4), "bomb".getBytes(StandardCharsets.US_ASCII), varint(1_900_000_000L), new byte[25]);
    assertEquals(35, bomb.length);
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    BoundedAvroReader<InferenceRequest> unlimited =
        new BoundedAvroReader<>(InferenceRequest.class, Map.of(), Integer.MAX_VALUE);
    String why = assertThrows(MalformedRecordException.class, () -> unlimited.read(bomb)).getMessage();
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(why.contains("field prompt") && why.contains("claims 1900000000 bytes but only 25"), why);
    assertTrue(allocated < 8 << 20, "allocated " + allocated + " bytes for a 35-byte record");
  }

  @Test
  void anArrayBlockClaimingMoreItemsThanBytesLeftIsRefused() throws Exception {
    byte[] ok = avro(EngineFeedback.newBuilder().setEngine("engine-0").setEngineIncarnation("i").setStepSeq(1)
        .setIssuedAtMs(1).setFinishedAtMs(2).setPublishedAtMs(3).setBusyMs(1).setBlocksUsed(0).setBlockCapacity(8)
        .build());
    BoundedAvroReader<EngineFeedback> feedback = new BoundedAvroReader<>(EngineFeedback.class, Map.of(), 1 << 20);
    assertEquals("engine-0", feedback.read(ok).getEngine());
    // progress is the first array after 12 fixed fields: replace its empty block (0) with a claim of 2^31 items
    // after progress (0 items), predictions (0 items) and error (null) come four doubles: probe, prefill, decode, cpu
    int progressAt = ok.length - 3 - 4 * Double.BYTES;
    byte[] bomb = concat(Arrays.copyOf(ok, progressAt), varint(1L << 31), new byte[3]);
    String why = assertThrows(MalformedRecordException.class, () -> feedback.read(bomb)).getMessage();
    assertTrue(why.contains("field progress") && why.contains("claims 2147483648 items"), why);
  }

  @Test
  void idsThatDifferOnlyInInvalidUtf8BytesAreRefusedNotCollapsedIntoOne() throws Exception {
    byte[] valid = avro(request("ab", "Name 2 colours."));
    for (byte bad : new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xc0}) {
      byte[] b = valid.clone();
      b[2] = bad; // the id's second byte
      assertEquals("field id: not valid UTF-8", reason(b));
    }
  }

  @Test
  void aPromptThatIsNotUtf8IsRefused() throws Exception {
    byte[] b = avro(request("p", "abc"));
    b[1 + 1 + 1 + 1] = (byte) 0xed; // "p" then the prompt's length, then its first byte
    assertEquals("field prompt: not valid UTF-8", reason(b));
  }

  @Test
  void aPromptOverItsLimitIsRefusedBeforeItIsDecoded() throws Exception {
    String why = reason(avro(request("big", "x".repeat(1_001))));
    assertEquals("field prompt: string of 1001 bytes exceeds the limit of 1000 bytes", why);
    assertEquals("field id: string of 65 bytes exceeds the limit of 64 bytes", reason(avro(request("i".repeat(65), "x"))));
  }

  @Test
  void truncatedTrailingAndEmptyRecordsEachSayWhatIsWrong() throws Exception {
    byte[] whole = avro(request("cut", "Count from 1 to 3."));
    String cut = reason(Arrays.copyOf(whole, 6));
    assertEquals("not an Avro InferenceRequest: field prompt: string length claims 18 bytes but only 1 are left in the"
        + " record", cut);
    String trailing = reason(concat(whole, new byte[] {0}));
    assertEquals("not an Avro InferenceRequest: 1 trailing byte(s) after the record", trailing);
    assertEquals("not an Avro InferenceRequest: empty record (no value; a tombstone?)", reason(new byte[0]));
  }

  @Test
  void aUnionBranchOutOfRangeNamesItsField() throws Exception {
    InferenceRequest r = request("u", "x");
    r.setSampling(null);
    r.setForcedOutputTokens(null);
    byte[] b = avro(r);
    // sampling and every field after it are null or empty: one byte each, at the end of the record
    var schema = InferenceRequest.getClassSchema();
    b[b.length - (schema.getFields().size() - schema.getField("sampling").pos())] = 14; // branch 7 of 2
    String why = reason(b);
    assertTrue(why.startsWith("not an Avro InferenceRequest: field sampling: union branch"), why);
  }

  @Test
  void randomBytesAndMutationsNeverThrowAnythingButAReason() throws Exception {
    Random rnd = new Random(17);
    byte[] valid = avro(request("fuzz", "Write a haiku about rivers."));
    int refused = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[rnd.nextInt(64)];
        rnd.nextBytes(b);
      } else {
        b = valid.clone();
        for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
          b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
        b = Arrays.copyOf(b, rnd.nextInt(4) == 0 ? rnd.nextInt(b.length + 1) : b.length);
      }
      try {
        READER.read(b);
      } catch (MalformedRecordException e) {
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank() && !e.getMessage().contains(": null"),
            "a reason for " + Arrays.toString(b) + ": " + e.getMessage());
        refused++;
      }
    }
    assertTrue(refused > 10_000, "most random inputs are refused: " + refused);
  }
}
