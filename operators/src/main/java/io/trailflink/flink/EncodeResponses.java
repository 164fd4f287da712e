package io.trailflink.flink;

import io.trailflink.schema.ResponseEvent;
import io.trailflink.serving.records.DeadLetterRecords;
import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordEncoder;
import org.apache.flink.util.Collector;

/** Response events for the responses topic; one that cannot be written becomes a dead letter naming the request. */
public class EncodeResponses extends EncodeForKafka<ResponseEvent> {
  private static final long serialVersionUID = 1L;

  public EncodeResponses(String topic, int maxRecordBytes) {
    super(ResponseEvent.class, topic, maxRecordBytes);
  }

  @Override
  protected String key(ResponseEvent r) {
    return r.getRequestId();
  }

  @Override
  protected void refused(ResponseEvent r, RecordEncoder.Outcome why, Context ctx, Collector<KafkaBytes> out) {
    ctx.output(DeadLetters.TAG, DeadLetterRecords.unwritable(topic, why.attempted(), r.getRequestId(),
        "response not written: " + why.refusal(), System.currentTimeMillis()));
  }
}
