package io.trailflink.serving.records;

import io.trailflink.schema.SchemaFingerprints;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.ResolvingDecoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/**
 * Reads one Avro binary record of type {@code T} from bytes nobody vouches for: lengths and counts are bounded
 * before anything is allocated, strings must be valid UTF-8, and every failure is a {@link MalformedRecordException}
 * naming the field (see {@link BoundedBinaryDecoder}). Nothing it reads can throw anything else or exhaust the heap.
 * Not thread-safe: one per operator instance.
 *
 * @param <T> the generated record class
 */
public final class BoundedAvroReader<T extends SpecificRecord> {
  private final BoundedBinaryDecoder decoder;
  private final FieldTrackingReader<T> reader;
  private final List<FieldTrackingReader<T>> olderWriters; // newest first
  private final Map<Long, FieldTrackingReader<T>> byFingerprint = new java.util.HashMap<>(); // every known writer
  private final String typeName;

  /**
   * @param type the record class
   * @param fieldLimits most bytes of a string or bytes value, by dotted field path (e.g. {@code prompt})
   * @param defaultLimitBytes the limit of every other string or bytes field
   */
  public BoundedAvroReader(Class<T> type, Map<String, Integer> fieldLimits, int defaultLimitBytes) {
    this(type, fieldLimits, defaultLimitBytes, List.of());
  }

  /**
   * @param olderWriterSchemas earlier versions of the record's schema, newest first: bytes that are not a record of
   *     the current schema are read as each of these in turn, resolved to the current one (new fields take their
   *     defaults), so that producers built against an older schema keep working without a schema registry
   */
  public BoundedAvroReader(Class<T> type, Map<String, Integer> fieldLimits, int defaultLimitBytes,
      List<Schema> olderWriterSchemas) {
    this.decoder = new BoundedBinaryDecoder(fieldLimits, defaultLimitBytes, type.getSimpleName());
    SpecificData data = new SpecificData(type.getClassLoader());
    data.setCustomCoders(false); // generated custom decoders would bypass the field tracking
    Schema schema = data.getSchema(type);
    this.reader = new FieldTrackingReader<>(schema, schema, data, decoder);
    byFingerprint.put(SchemaFingerprints.of(schema), reader);
    this.olderWriters = new ArrayList<>();
    for (Schema writer : olderWriterSchemas) {
      if (SchemaFingerprints.of(writer) == SchemaFingerprints.of(schema)) {
        continue; // the current schema's own release
      }
      FieldTrackingReader<T> older = new FieldTrackingReader<>(writer, schema, data, decoder);
      olderWriters.add(older);
      byFingerprint.putIfAbsent(SchemaFingerprints.of(writer), older);
    }
    this.typeName = type.getSimpleName();
  }

  /** The record in {@code bytes}, which must hold exactly one. */
  public T read(byte[] bytes) throws MalformedRecordException {
    return read(bytes, null);
  }

  /**
   * The record in {@code bytes}, read into {@code into} (a fresh instance, or null): when the bytes are refused,
   * {@code into} keeps the fields read before the fault — e.g. the id, so that a dead letter can name its request.
   */
  public T read(byte[] bytes, T into) throws MalformedRecordException {
    if (bytes == null || bytes.length == 0) {
      throw new MalformedRecordException("not an Avro " + typeName + ": empty record (no value; a tombstone?)");
    }
    try {
      return read(reader, bytes, into);
    } catch (MalformedRecordException current) {
      for (FieldTrackingReader<T> older : olderWriters) {
        try {
          return read(older, bytes, into);
        } catch (MalformedRecordException e) {
          // not that version either
        }
      }
      throw current; // the reason against the current schema says most
    }
  }

  /**
   * Like {@link #read(byte[], Object)}, but with the writer schema named by its fingerprint (the record's
   * {@link SchemaFingerprints#HEADER} header); null reads as {@link #read(byte[], Object)} does. A fingerprint of no
   * known version is refused.
   */
  public T read(byte[] bytes, T into, Long writerFingerprint) throws MalformedRecordException {
    if (writerFingerprint == null) {
      return read(bytes, into);
    }
    FieldTrackingReader<T> with = byFingerprint.get(writerFingerprint);
    if (with == null) {
      throw new MalformedRecordException("unknown writer schema: header " + SchemaFingerprints.HEADER + " "
          + java.util.HexFormat.of().toHexDigits(writerFingerprint) + " names no released " + typeName + " schema");
    }
    if (bytes == null || bytes.length == 0) {
      throw new MalformedRecordException("not an Avro " + typeName + ": empty record (no value; a tombstone?)");
    }
    return read(with, bytes, into);
  }

  private T read(FieldTrackingReader<T> with, byte[] bytes, T into) throws MalformedRecordException {
    decoder.reset(bytes);
    T record;
    try {
      record = with.read(into, decoder);
    } catch (MalformedRecordException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new MalformedRecordException(describe(e));
    }
    if (!decoder.isEnd()) {
      throw new MalformedRecordException("not an Avro " + typeName + ": " + decoder.remaining()
          + " trailing byte(s) after the record");
    }
    return record;
  }

  private String describe(Exception e) {
    String what = e instanceof IndexOutOfBoundsException ? "union branch or enum symbol out of range"
        : e.getClass().getSimpleName();
    return "not an Avro " + typeName + ": " + decoder.where() + what + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
  }

  /** Tells the decoder which field it is reading, so that errors can name it. */
  private static final class FieldTrackingReader<T> extends SpecificDatumReader<T> {
    private final BoundedBinaryDecoder decoder;

    FieldTrackingReader(Schema writer, Schema reader, SpecificData data, BoundedBinaryDecoder decoder) {
      super(writer, reader, data);
      this.decoder = decoder;
    }

    @Override
    protected void readField(Object record, Schema.Field field, Object oldDatum, ResolvingDecoder in, Object state)
        throws IOException {
      String outer = decoder.enterField(field.name());
      super.readField(record, field, oldDatum, in, state);
      decoder.leaveField(outer); // not restored on failure: the error names the innermost field
    }
  }
}
