package io.trailflink.serving.records;

import java.io.Serializable;

/**
 * A Kafka record already encoded, checked to fit: the sink only hands it to the producer.
 *
 * @param key the key (UTF-8 id), may be empty
 * @param value the Avro binary value
 * @param schemaFingerprint the value's writer schema ({@link io.trailflink.schema.SchemaFingerprints}), sent as a
 *     header
 */
public record KafkaBytes(byte[] key, byte[] value, long schemaFingerprint) implements Serializable {
  /** Key plus value (bytes). */
  public int size() {
    return key.length + value.length;
  }
}
