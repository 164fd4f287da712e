package io.trailflink.flink;

import io.trailflink.schema.DeadLetter;
import io.trailflink.serving.RawRecord;
import java.nio.ByteBuffer;
import org.apache.flink.util.OutputTag;

/** The side output every refused request goes to, and how a refusal is written down. */
public final class DeadLetters {
  public static final OutputTag<DeadLetter> TAG = new OutputTag<>("dead-letters") {};

  private DeadLetters() {}

  public static DeadLetter of(RawRecord raw, String requestId, String reason) {
    return DeadLetter.newBuilder().setRaw(ByteBuffer.wrap(raw.value())).setRequestId(requestId)
        .setSourceTopic(raw.topic()).setSourcePartition(raw.partition()).setSourceOffset(raw.offset())
        .setReason(reason).setRefusedAtMs(System.currentTimeMillis()).build();
  }
}
