package io.trailflink.serving;

/**
 * A Kafka record exactly as read, before any parsing, so that bytes that are not a request can still reach the
 * dead-letter topic with where they came from.
 *
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param value the record value (may be empty, never null)
 * @param schemaFingerprint the writer schema its {@code trail.schema.fingerprint} header names; null without one
 * @param badHeader why the header could not be read (then the record is refused); null when fine or absent
 */
public record RawRecord(String topic, int partition, long offset, byte[] value, Long schemaFingerprint,
    String badHeader) implements java.io.Serializable {
  /** A record without a schema header. */
  public RawRecord(String topic, int partition, long offset, byte[] value) {
    this(topic, partition, offset, value, null, null);
  }
}
