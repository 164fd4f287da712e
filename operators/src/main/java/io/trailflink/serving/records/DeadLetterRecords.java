package io.trailflink.serving.records;

import io.trailflink.schema.DeadLetter;
import io.trailflink.serving.RawRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * How refusals are written down as {@link DeadLetter}s: the raw bytes whole, with their size and SHA-256, and the
 * id and reason cut to bounded lengths. {@link #truncated} cuts the raw bytes when the whole dead letter would not
 * fit a Kafka record — one too large for its topic would fail the sink and restart the job on the same record.
 */
public final class DeadLetterRecords {
  /** Longest reason a dead letter carries (characters). */
  static final int MAX_REASON_CHARS = 2_000;
  /** Longest id or topic name a dead letter carries (UTF-8 bytes). */
  static final int MAX_NAME_BYTES = 4_096;

  private DeadLetterRecords() {}

  /** A record read from {@code raw}'s topic that the job refuses; {@code requestId} may be null. */
  public static DeadLetter refused(RawRecord raw, String requestId, String reason, long nowMs) {
    return build(raw.value(), requestId, raw.topic(), raw.partition(), raw.offset(), reason, nowMs);
  }

  /** A record the job made but could not write to {@code topic}; {@code bytes}: what it encoded, if anything. */
  public static DeadLetter unwritable(String topic, byte[] bytes, String requestId, String reason, long nowMs) {
    return build(bytes, requestId, topic, -1, -1, reason, nowMs);
  }

  /** {@code d} with at most {@code maxRawBytes} of its raw bytes (its raw_size and raw_sha256 stay the whole's). */
  public static DeadLetter truncated(DeadLetter d, int maxRawBytes) {
    ByteBuffer raw = d.getRaw().duplicate();
    if (raw.remaining() <= maxRawBytes) {
      return d;
    }
    byte[] head = new byte[Math.max(0, maxRawBytes)];
    raw.get(head);
    return DeadLetter.newBuilder(d).setRaw(ByteBuffer.wrap(head)).setRawTruncated(true).build();
  }

  private static DeadLetter build(byte[] raw, String requestId, String topic, int partition, long offset,
      String reason, long nowMs) {
    byte[] bytes = raw == null ? new byte[0] : raw;
    return DeadLetter.newBuilder()
        .setRaw(ByteBuffer.wrap(bytes)).setRawSize(bytes.length).setRawSha256(sha256(bytes)).setRawTruncated(false)
        .setRequestId(requestId == null ? null : truncateUtf8(requestId, MAX_NAME_BYTES))
        .setSourceTopic(truncateUtf8(topic == null ? "" : topic, MAX_NAME_BYTES))
        .setSourcePartition(partition).setSourceOffset(offset)
        .setReason(reason == null ? "(no reason given)" : truncateChars(reason, MAX_REASON_CHARS))
        .setReasonKind(kindOf(reason)).setRefusedAt(java.time.Instant.ofEpochMilli(nowMs)).build();
  }

  /** Most characters of a reason's kind. */
  static final int MAX_KIND_CHARS = 80;

  /**
   * A reason's kind, for grouping dead letters: the words before its first colon (reasons name their field or
   * their check first, then the particulars), without digits, at most {@link #MAX_KIND_CHARS} characters.
   */
  public static String kindOf(String reason) {
    if (reason == null || reason.isBlank()) {
      return "(no reason given)";
    }
    int colon = reason.indexOf(':');
    String head = (colon < 0 ? reason : reason.substring(0, colon)).replaceAll("[0-9]+", "N").strip();
    return head.length() <= MAX_KIND_CHARS ? head : head.substring(0, MAX_KIND_CHARS);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static String truncateChars(String s, int maxChars) {
    return s.length() <= maxChars ? s : s.substring(0, maxChars) + "… (" + s.length() + " characters)";
  }

  /** The longest prefix of {@code s} whose UTF-8 encoding has at most {@code maxBytes} bytes. */
  static String truncateUtf8(String s, int maxBytes) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length <= maxBytes) {
      return s;
    }
    int end = maxBytes;
    while (end > 0 && (b[end] & 0xC0) == 0x80) { // do not split a character
      end--;
    }
    return new String(b, 0, end, StandardCharsets.UTF_8);
  }
}
