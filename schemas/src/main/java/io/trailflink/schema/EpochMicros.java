package io.trailflink.schema;

import java.time.Instant;

/** The clock behind the records' {@code *_at_us} fields: wall-clock time in microseconds since the epoch. */
public final class EpochMicros {
  private EpochMicros() {}

  /** Now, in epoch microseconds (the system clock's resolution; microseconds on Linux). */
  public static long now() {
    Instant t = Instant.now();
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  /** A record's instant in epoch µs: its {@code *_at_us} field, or its {@code *_at_ms} one where that is 0. */
  public static long of(long atUs, long atMs) {
    return atUs > 0 ? atUs : atMs * 1_000;
  }
}
