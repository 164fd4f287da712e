package io.trailflink.job;

import io.trailflink.serving.records.BoundedAvroReader;
import io.trailflink.serving.records.MalformedRecordException;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a topic the job writes and reads back: the predictions topic (the feedback loop's return path) and the
 * engine-status topic (the placement operator's view of the engines). Only the job writes them, but a record written
 * there by anything else, or by another release of the schema, must not fail the source (a failing deserializer
 * restarts the job onto the same record): such a record is logged with its offset and skipped; it carries no
 * request, so nothing is lost.
 *
 * @param <T> the record type
 */
final class ReadBackDeserializer<T extends SpecificRecordBase> implements KafkaRecordDeserializationSchema<T> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ReadBackDeserializer.class);

  private final Class<T> type;
  private transient BoundedAvroReader<T> reader;

  ReadBackDeserializer(Class<T> type) {
    this.type = type;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext context) {
    reader = new BoundedAvroReader<>(type, Map.of(), Integer.MAX_VALUE);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<T> out) {
    if (!AvroBytes.writtenAs(r, type)) {
      LOG.debug("skipped a record of {}-{}@{} written with another schema release", r.topic(), r.partition(),
          r.offset());
      return;
    }
    try {
      out.collect(reader.read(r.value()));
    } catch (MalformedRecordException e) {
      LOG.warn("skipped a record of {}-{}@{} that is not a {}: {}", r.topic(), r.partition(), r.offset(),
          type.getSimpleName(), e.getMessage());
    }
  }

  @Override
  public TypeInformation<T> getProducedType() {
    return new AvroTypeInfo<>(type);
  }
}
