package io.trailflink.serving.records;

import io.trailflink.schema.SchemaFingerprints;
import org.apache.avro.specific.SpecificData;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes records for a Kafka topic before the sink sees them, so that a record that cannot be encoded or is too
 * large for Kafka becomes a refusal the caller handles (a dead letter), never an exception inside the sink — which
 * would fail the job, restore it and fail again on the same record. Not thread-safe.
 *
 * @param <T> the generated record class
 */
public final class RecordEncoder<T extends SpecificRecord> {
  private final SpecificDatumWriter<T> writer;
  private final int maxRecordBytes; // key plus value (bytes)
  private final long fingerprint; // of the writer schema
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private BinaryEncoder encoder;

  /** The record as bytes, or why it cannot be written ({@code attempted}: what was encoded, if anything). */
  public record Outcome(KafkaBytes record, String refusal, byte[] attempted) {
    public boolean written() {
      return record != null;
    }
  }

  public RecordEncoder(Class<T> type, int maxRecordBytes) {
    this.writer = new SpecificDatumWriter<>(type);
    this.fingerprint = SchemaFingerprints.of(SpecificData.get().getSchema(type));
    this.maxRecordBytes = maxRecordBytes;
  }

  public Outcome encode(T record, String key) {
    byte[] keyBytes = key == null ? new byte[0] : key.getBytes(StandardCharsets.UTF_8);
    byte[] value;
    try {
      buffer.reset();
      encoder = EncoderFactory.get().directBinaryEncoder(buffer, encoder);
      writer.write(record, encoder);
      encoder.flush();
      value = buffer.toByteArray();
    } catch (IOException | RuntimeException e) {
      return new Outcome(null, "could not be encoded: " + e, new byte[0]);
    }
    KafkaBytes bytes = new KafkaBytes(keyBytes, value, fingerprint);
    if (bytes.size() > maxRecordBytes) {
      return new Outcome(null, "record of " + bytes.size() + " bytes exceeds the limit of " + maxRecordBytes
          + " bytes (--max-record-bytes)", value);
    }
    return new Outcome(bytes, null, null);
  }
}
