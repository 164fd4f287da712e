package io.trailflink.serving;

/**
 * A Kafka record exactly as read, before any parsing, so that bytes that are not a request can still reach the
 * dead-letter topic with where they came from.
 *
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param value the record value (may be empty, never null)
 */
public record RawRecord(String topic, int partition, long offset, byte[] value) implements java.io.Serializable {}
