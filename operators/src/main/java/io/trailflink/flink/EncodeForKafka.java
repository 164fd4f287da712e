package io.trailflink.flink;

import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The step before a Kafka sink: encodes each record and checks that it fits a Kafka record, so that the sink only
 * hands bytes to the producer. A record that cannot be written goes to {@link #refused} (a dead letter), never
 * to an exception: a sink that throws fails the job, which restores and throws again on the same record.
 *
 * @param <T> the record type of the topic
 */
public abstract class EncodeForKafka<T extends SpecificRecord> extends ProcessFunction<T, KafkaBytes> {
  private static final long serialVersionUID = 1L;

  // -- configuration
  private final Class<T> type;
  protected final String topic;
  protected final int maxRecordBytes; // key plus value (bytes)

  // -- runtime
  private transient RecordEncoder<T> encoder;
  private transient Counter refusals;

  protected EncodeForKafka(Class<T> type, String topic, int maxRecordBytes) {
    this.type = type;
    this.topic = topic;
    this.maxRecordBytes = maxRecordBytes;
  }

  @Override
  public void open(OpenContext ctx) {
    encoder = new RecordEncoder<>(type, maxRecordBytes);
    refusals = getRuntimeContext().getMetricGroup().counter("recordsRefused");
  }

  @Override
  public void processElement(T record, Context ctx, Collector<KafkaBytes> out) {
    RecordEncoder.Outcome o = encoder.encode(record, key(record));
    if (o.written()) {
      out.collect(o.record());
    } else {
      refusals.inc();
      refused(record, o, ctx, out);
    }
  }

  /** Encodes {@code record} once more, for a replacement; null when that fails too. */
  protected KafkaBytes encodeReplacement(T record) {
    RecordEncoder.Outcome o = encoder.encode(record, key(record));
    return o.written() ? o.record() : null;
  }

  /** The Kafka key (a UTF-8 id, or empty). */
  protected abstract String key(T record);

  /** What to do with a record that cannot be written: its outcome says why. */
  protected abstract void refused(T record, RecordEncoder.Outcome why, Context ctx, Collector<KafkaBytes> out);
}
