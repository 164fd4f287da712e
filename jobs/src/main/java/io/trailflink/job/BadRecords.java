package io.trailflink.job;

import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.Sampling;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Malformed and invalid request records of every kind a producer can send, for {@code trail fuzz}: each must be
 * dead-lettered with a reason (a cancel for an unknown id must be counted and ignored), and none may restart the
 * job. Seeded: the same seed gives the same records.
 */
public final class BadRecords {
  /**
   * What a record is wrong with; {@link #expectsDeadLetter} says what the job must do with it. A
   * {@code DUPLICATE_ID_IN_FLIGHT} record is a valid request (64 tokens) sent twice in a row: the first copy is
   * served, the second arrives while it is in flight.
   */
  public enum Kind {
    RANDOM_BYTES, JSON_NOT_AVRO, TRUNCATED_AVRO, LENGTH_BOMB, EMPTY_PROMPT, PROMPT_NEAR_1_MIB, PROMPT_NOT_UTF8,
    ID_NOT_UTF8, MAX_NEW_TOKENS_ZERO, MAX_NEW_TOKENS_NEGATIVE, MAX_NEW_TOKENS_HUGE, TEMPERATURE_NAN, TOP_P_OUT_OF_RANGE,
    FORCED_OVER_CAP, DUPLICATE_ID_IN_FLIGHT, CANCEL_UNKNOWN_ID;

    /** Every kind is dead-lettered except a cancel for an id the job does not know (counted, not an error). */
    public boolean expectsDeadLetter() {
      return this != CANCEL_UNKNOWN_ID;
    }
  }

  /**
   * One record to send.
   *
   * @param kind what is wrong with it
   * @param key the Kafka key (the id where there is one)
   * @param value the record value
   */
  public record Bad(Kind kind, String key, byte[] value) {}

  private final SplittableRandom rnd;
  private int serial;

  public BadRecords(long seed) {
    this.rnd = new SplittableRandom(seed);
  }

  /** The next bad record, its kind drawn uniformly except the 1 MiB prompt (1 in 200: they are large). */
  public Bad next() {
    Kind[] kinds = Kind.values();
    Kind k;
    do {
      k = kinds[rnd.nextInt(kinds.length)];
    } while (k == Kind.PROMPT_NEAR_1_MIB && rnd.nextInt(200 / kinds.length + 1) != 0);
    return of(k);
  }

  /** A record of kind {@code k}. */
  public Bad of(Kind k) {
    String id = "fuzz-" + k.name().toLowerCase(java.util.Locale.ROOT) + "-" + serial++;
    return switch (k) {
      case RANDOM_BYTES -> {
        byte[] b = new byte[1 + rnd.nextInt(200)];
        rnd.nextBytes(b);
        b[0] |= 1; // zig-zag odd: the id's length is negative, so no random record is accidentally valid
        yield new Bad(k, null, b);
      }
      case JSON_NOT_AVRO -> new Bad(k, id, ("{\"id\":\"" + id + "\",\"prompt\":\"Hi\",\"max_new_tokens\":8}")
          .getBytes(StandardCharsets.UTF_8));
      case TRUNCATED_AVRO -> {
        byte[] whole = AvroBytes.encode(valid(id, "Name three rivers.", 8));
        yield new Bad(k, id, Arrays.copyOf(whole, 1 + rnd.nextInt(whole.length - 12)));
      }
      case LENGTH_BOMB -> {
        byte[] head = AvroBytes.encode(valid(id, "", 8));
        int idEnd = 1 + id.length(); // a one-byte length prefix, then the id
        byte[] b = Arrays.copyOf(head, idEnd + 5 + 20);
        long claimed = 1_000_000_000L + rnd.nextInt(1_000_000_000); // bytes the prompt's length prefix claims
        long zz = claimed << 1;
        for (int i = 0; i < 5; i++) { // zig-zag varint
          b[idEnd + i] = (byte) ((zz & 0x7f) | (i < 4 ? 0x80 : 0));
          zz >>>= 7;
        }
        yield new Bad(k, id, b);
      }
      case EMPTY_PROMPT -> encoded(k, valid(id, "   ", 8));
      case PROMPT_NEAR_1_MIB -> encoded(k, valid(id, "a".repeat(1_040_000), 8));
      case PROMPT_NOT_UTF8 -> {
        byte[] b = AvroBytes.encode(valid(id, "List 2 fruits.", 8));
        b[1 + id.length() + 2] = (byte) 0xff; // inside the prompt's bytes
        yield new Bad(k, id, b);
      }
      case ID_NOT_UTF8 -> {
        byte[] b = AvroBytes.encode(valid(id, "List 2 fruits.", 8));
        b[2] = (byte) 0xfe;
        yield new Bad(k, id, b);
      }
      case MAX_NEW_TOKENS_ZERO -> encoded(k, valid(id, "List 2 fruits.", 0));
      case MAX_NEW_TOKENS_NEGATIVE -> encoded(k, valid(id, "List 2 fruits.", -1 - rnd.nextInt(1000)));
      case MAX_NEW_TOKENS_HUGE -> encoded(k, valid(id, "List 2 fruits.", 1_000_000 + rnd.nextInt(1 << 30)));
      case TEMPERATURE_NAN -> encoded(k, InferenceRequest.newBuilder(valid(id, "List 2 fruits.", 8))
          .setSampling(Sampling.newBuilder().setTemperature(Float.NaN).build()).build());
      case TOP_P_OUT_OF_RANGE -> encoded(k, InferenceRequest.newBuilder(valid(id, "List 2 fruits.", 8))
          .setSampling(Sampling.newBuilder().setTopP(rnd.nextBoolean() ? 0f : 1.5f).build()).build());
      case FORCED_OVER_CAP -> encoded(k, InferenceRequest.newBuilder(valid(id, "List 2 fruits.", 8))
          .setForcedOutputTokens(9 + rnd.nextInt(100)).build());
      case DUPLICATE_ID_IN_FLIGHT -> encoded(k, InferenceRequest.newBuilder(valid(id, "Count to 50.", 64))
          .setForcedOutputTokens(64).build()); // sent twice: the first is served, the second is the duplicate
      case CANCEL_UNKNOWN_ID -> encoded(k, InferenceRequest.newBuilder(valid("never-sent-" + serial, "", 1))
          .setCancel(true).build());
    };
  }

  /** A valid request. */
  public static InferenceRequest valid(String id, String prompt, int maxNew) {
    return InferenceRequest.newBuilder().setId(id).setPrompt(prompt).setMaxNewTokens(maxNew)
        .setSubmittedAtMs(System.currentTimeMillis()).setTenant("fuzz").build();
  }

  private static Bad encoded(Kind k, InferenceRequest r) {
    return new Bad(k, r.getId(), AvroBytes.encode(r));
  }

  /** Every kind once, for tests. */
  public List<Bad> oneOfEach() {
    return Arrays.stream(Kind.values()).map(this::of).toList();
  }
}
