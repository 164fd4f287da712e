package io.trailflink.job;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.serving.records.BoundedAvroReader;
import io.trailflink.serving.records.MalformedRecordException;
import java.util.Map;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the predictions topic, the loop's return path. Only the job writes it, but a record written there by
 * anything else must not fail the source (a failing deserializer restarts the job onto the same record): such a
 * record is logged with its offset and skipped; it carries no request, so nothing is lost.
 */
final class FeedbackDeserializer implements KafkaRecordDeserializationSchema<EngineFeedback> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(FeedbackDeserializer.class);

  private transient BoundedAvroReader<EngineFeedback> reader;

  @Override
  public void open(DeserializationSchema.InitializationContext context) {
    reader = new BoundedAvroReader<>(EngineFeedback.class, Map.of(), Integer.MAX_VALUE);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<EngineFeedback> out) {
    try {
      out.collect(reader.read(r.value()));
    } catch (MalformedRecordException e) {
      LOG.warn("skipped a record of {}-{}@{} that is not the job's feedback: {}", r.topic(), r.partition(), r.offset(),
          e.getMessage());
    }
  }

  @Override
  public TypeInformation<EngineFeedback> getProducedType() {
    return new AvroTypeInfo<>(EngineFeedback.class);
  }
}
