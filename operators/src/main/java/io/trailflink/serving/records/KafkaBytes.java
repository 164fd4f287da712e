package io.trailflink.serving.records;

import java.io.Serializable;

/**
 * A Kafka record already encoded, checked to fit: the sink only hands it to the producer.
 *
 * @param key the key (UTF-8 id), may be empty
 * @param value the Avro binary value
 */
public record KafkaBytes(byte[] key, byte[] value) implements Serializable {
  /** Key plus value (bytes). */
  public int size() {
    return key.length + value.length;
  }
}
