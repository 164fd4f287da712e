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
}
