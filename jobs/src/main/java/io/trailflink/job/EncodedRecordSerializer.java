package io.trailflink.job;

import io.trailflink.schema.SchemaFingerprints;

import io.trailflink.serving.records.KafkaBytes;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Hands records that {@code EncodeForKafka} already encoded and sized to the producer, unchanged. */
final class EncodedRecordSerializer implements KafkaRecordSerializationSchema<KafkaBytes> {
  private static final long serialVersionUID = 1L;

  private final String topic;

  EncodedRecordSerializer(String topic) {
    this.topic = topic;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(KafkaBytes r, KafkaSinkContext context, Long timestamp) {
    ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topic, r.key(), r.value());
    out.headers().add(SchemaFingerprints.HEADER, SchemaFingerprints.headerValue(r.schemaFingerprint()));
    return out;
  }
}
