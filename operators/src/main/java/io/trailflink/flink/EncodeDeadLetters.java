package io.trailflink.flink;

import io.trailflink.schema.DeadLetter;
import io.trailflink.serving.records.DeadLetterRecords;
import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordEncoder;
import io.trailflink.serving.records.RecordLimits;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead letters for their topic. One too large for a Kafka record is written with its raw bytes cut to fit (its
 * raw_size and raw_sha256 still those of the whole); it is never dropped and never fails the sink.
 */
public class EncodeDeadLetters extends EncodeForKafka<DeadLetter> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(EncodeDeadLetters.class);

  private final int maxRawBytes;

  public EncodeDeadLetters(String topic, RecordLimits limits) {
    super(DeadLetter.class, topic, limits.maxRecordBytes());
    this.maxRawBytes = limits.maxDeadLetterRawBytes();
  }

  @Override
  protected String key(DeadLetter d) {
    return d.getRequestId() == null ? "" : d.getRequestId();
  }

  @Override
  protected void refused(DeadLetter d, RecordEncoder.Outcome why, Context ctx, Collector<KafkaBytes> out) {
    for (int maxRaw : new int[] {maxRawBytes, 0}) {
      KafkaBytes cut = encodeReplacement(DeadLetterRecords.truncated(d, maxRaw));
      if (cut != null) {
        out.collect(cut);
        return;
      }
    }
    LOG.error("dead letter from {}@{} could not be written even without its payload: {} (reason: {})",
        d.getSourceTopic(), d.getSourceOffset(), why.refusal(), d.getReason());
  }
}
