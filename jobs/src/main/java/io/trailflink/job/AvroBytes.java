package io.trailflink.job;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/** Avro binary encoding of the contracts, as the topics carry them (no framing, no schema registry). */
public final class AvroBytes {
  private AvroBytes() {}

  public static <T extends SpecificRecord> byte[] encode(T record) {
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
      @SuppressWarnings("unchecked")
      SpecificDatumWriter<T> w = new SpecificDatumWriter<>((Class<T>) record.getClass());
      w.write(record, enc);
      enc.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static <T extends SpecificRecord> T decode(byte[] bytes, Class<T> type) {
    try {
      return new SpecificDatumReader<>(type).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether a record read from a topic was written with {@code type}'s current schema, as its
   * {@code trail.schema.fingerprint} header says (a record without the header is taken to be): readers skip the
   * others instead of misreading them (e.g. the responses topic's records of release v1, a union).
   */
  public static boolean writtenAs(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> r,
      Class<? extends SpecificRecord> type) {
    org.apache.kafka.common.header.Header h = r.headers().lastHeader(io.trailflink.schema.SchemaFingerprints.HEADER);
    if (h == null) {
      return true;
    }
    Long writer = io.trailflink.schema.SchemaFingerprints.parse(h.value());
    return writer != null && writer == io.trailflink.schema.SchemaFingerprints.of(
        org.apache.avro.specific.SpecificData.get().getSchema(type));
  }
}
