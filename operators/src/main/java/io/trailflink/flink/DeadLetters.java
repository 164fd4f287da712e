package io.trailflink.flink;

import io.trailflink.schema.DeadLetter;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.records.DeadLetterRecords;
import org.apache.flink.util.OutputTag;

/** The side output every refused request goes to, and how a refusal is written down. */
public final class DeadLetters {
  public static final OutputTag<DeadLetter> TAG = new OutputTag<>("dead-letters") {};

  private DeadLetters() {}

  public static DeadLetter of(RawRecord raw, String requestId, String reason) {
    return DeadLetterRecords.refused(raw, requestId, reason, System.currentTimeMillis());
  }
}
