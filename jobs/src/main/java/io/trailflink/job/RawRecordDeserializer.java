package io.trailflink.job;

import io.trailflink.schema.SchemaFingerprints;
import org.apache.kafka.common.header.Header;

import io.trailflink.serving.RawRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Reads requests-topic records without parsing them, so malformed bytes reach validation (and the dead letters). */
final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<RawRecord> out) {
    Header h = r.headers().lastHeader(SchemaFingerprints.HEADER);
    Long fingerprint = h == null ? null : SchemaFingerprints.parse(h.value());
    String bad = h != null && fingerprint == null
        ? "header " + SchemaFingerprints.HEADER + " is not 16 hex digits (" + (h.value() == null ? 0 : h.value().length)
            + " bytes)" : null;
    out.collect(new RawRecord(r.topic(), r.partition(), r.offset(), r.value() == null ? new byte[0] : r.value(),
        fingerprint, bad));
  }

  @Override
  public TypeInformation<RawRecord> getProducedType() {
    return TypeInformation.of(RawRecord.class);
  }
}
