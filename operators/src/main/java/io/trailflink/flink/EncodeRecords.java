package io.trailflink.flink;

import io.trailflink.serving.records.DeadLetterRecords;
import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordEncoder;
import java.io.Serializable;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.util.Collector;

/**
 * Records of one output topic (responses, chunks, ETAs, engine status), encoded and sized for its sink; one that
 * cannot be written becomes a dead letter naming its key.
 *
 * @param <T> the topic's record type
 */
public class EncodeRecords<T extends SpecificRecord> extends EncodeForKafka<T> {
  private static final long serialVersionUID = 1L;

  /** The Kafka key of a record (a request id or an engine). */
  public interface KeyOf<T> extends Function<T, String>, Serializable {}

  private final KeyOf<T> keyOf;

  public EncodeRecords(Class<T> type, String topic, int maxRecordBytes, KeyOf<T> keyOf) {
    super(type, topic, maxRecordBytes);
    this.keyOf = keyOf;
  }

  @Override
  protected String key(T r) {
    return keyOf.apply(r);
  }

  @Override
  protected void refused(T r, RecordEncoder.Outcome why, Context ctx, Collector<KafkaBytes> out) {
    ctx.output(DeadLetters.TAG, DeadLetterRecords.unwritable(topic, why.attempted(), key(r),
        "record not written: " + why.refusal(), System.currentTimeMillis()));
  }
}
