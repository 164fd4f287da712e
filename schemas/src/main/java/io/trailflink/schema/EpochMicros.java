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
}
