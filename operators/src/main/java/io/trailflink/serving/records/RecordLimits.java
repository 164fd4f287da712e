package io.trailflink.serving.records;

import java.io.Serializable;

/**
 * Sizes the job enforces on what it reads and writes, so that no single record can exhaust memory or be refused
 * by Kafka (which would fail the sink, restart the job and replay the same record forever).
 *
 * @param maxRecordBytes largest Kafka record the job writes, key plus value (bytes); keep it under the producer's
 *     {@code max.request.size} and the topics' {@code max.message.bytes} (both 1 MiB by default)
 * @param maxIdBytes longest request id accepted (UTF-8 bytes)
 * @param maxPromptBytes longest prompt accepted (UTF-8 bytes); checked before the prompt is decoded or tokenized
 */
public record RecordLimits(int maxRecordBytes, int maxIdBytes, int maxPromptBytes) implements Serializable {
  public static final RecordLimits DEFAULT = new RecordLimits(1_000_000, 512, 256 * 1024);

  /** Room a dead letter keeps for everything but its raw bytes: id, reason, topic, hash (bytes). */
  static final int DEAD_LETTER_OVERHEAD_BYTES = 4 * DeadLetterRecords.MAX_NAME_BYTES
      + 3 * DeadLetterRecords.MAX_REASON_CHARS + 1_024;

  /** Longest string field of a request other than the id and prompt, e.g. the tenant (UTF-8 bytes). */
  public static final int MAX_OTHER_STRING_BYTES = 4_096;

  public RecordLimits {
    if (maxRecordBytes < 2 * DEAD_LETTER_OVERHEAD_BYTES) {
      throw new IllegalArgumentException("--max-record-bytes must be >= " + 2 * DEAD_LETTER_OVERHEAD_BYTES + ", got "
          + maxRecordBytes);
    }
    if (maxIdBytes < 1 || maxIdBytes > 4_096) {
      throw new IllegalArgumentException("--max-id-bytes must be in [1, 4096], got " + maxIdBytes);
    }
    if (maxPromptBytes < 1) {
      throw new IllegalArgumentException("--max-prompt-bytes must be >= 1, got " + maxPromptBytes);
    }
  }

  /** Most raw bytes a dead letter carries; longer payloads are cut (their size and hash kept). */
  public int maxDeadLetterRawBytes() {
    return maxRecordBytes - DEAD_LETTER_OVERHEAD_BYTES;
  }
}
