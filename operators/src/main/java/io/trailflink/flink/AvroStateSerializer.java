package io.trailflink.flink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed-state serializer that writes a live Java object as an Avro record of declared fields (length-prefixed
 * binary) and keeps the schema it wrote with in the serializer's snapshot. A checkpoint or savepoint therefore
 * restores in a build whose state record gained or dropped fields with defaults — Avro's schema resolution reads the
 * old bytes — and a build whose record cannot read them fails the restore naming the difference, instead of
 * misreading state. Nothing Java-serialized is ever written.
 *
 * <p>With the heap backend (the job pins it) this runs only when a checkpoint is taken or restored, not per access;
 * {@link #copy} is the backend's copy-on-write of a value a running checkpoint still reads.
 *
 * <p>A subclass names its record and converts; it needs a public no-argument constructor (this build's schema) so
 * that a restore can make it from the snapshot.
 *
 * @param <T> the state's live type
 * @param <R> its record (generated from an {@code .avsc} with a release in {@code schema-history})
 */
public abstract class AvroStateSerializer<T, R extends SpecificRecordBase> extends TypeSerializer<T> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(AvroStateSerializer.class);

  /** The schema this build writes (JSON): the record's own, or another one an upgrade test declares. */
  private String declaredSchema;
  /** The schema the bytes this serializer reads were written with (JSON). */
  private String writerSchema;
  private transient Schema declared;
  private transient Schema writer;

  /** With the record's own schema. */
  protected AvroStateSerializer() {}

  /** The record class of the state. */
  protected abstract Class<R> recordClass();

  /** The checkpoint form of {@code value}. */
  protected abstract R toRecord(T value);

  /** The value a checkpoint kept. */
  protected abstract T fromRecord(R record);

  /** An independent deep copy of a live value (default: through its record). */
  protected T copyLive(T value) {
    return fromRecord(toRecord(value));
  }

  /** A serializer of the same kind that declares {@code declared} and reads bytes written with {@code writer}. */
  final AvroStateSerializer<T, R> withSchemas(String declared, String writer) {
    try {
      @SuppressWarnings("unchecked")
      AvroStateSerializer<T, R> s = getClass().getDeclaredConstructor().newInstance();
      s.declaredSchema = declared;
      s.writerSchema = writer;
      return s;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(getClass().getName() + " needs a public no-argument constructor", e);
    }
  }

  /**
   * This serializer declaring {@code schema} as its state's: what a build whose state record differs would write
   * (upgrade tests). Values still convert through {@link #recordClass()}.
   */
  public final AvroStateSerializer<T, R> declaring(Schema schema) {
    return withSchemas(schema.toString(), schema.toString());
  }

  private Schema own() {
    return SpecificData.get().getSchema(recordClass());
  }

  private Schema declared() {
    if (declared == null) {
      declared = declaredSchema == null ? own() : new Schema.Parser().parse(declaredSchema);
    }
    return declared;
  }

  private Schema writer() {
    if (writer == null) {
      writer = writerSchema == null ? own() : new Schema.Parser().parse(writerSchema);
    }
    return writer;
  }

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public TypeSerializer<T> duplicate() {
    return withSchemas(declaredSchema, writerSchema); // the parsed schemas are not shared between threads
  }

  @Override
  public T createInstance() {
    return null;
  }

  @Override
  public T copy(T from) {
    return from == null ? null : copyLive(from);
  }

  @Override
  public T copy(T from, T reuse) {
    return copy(from);
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(T value, DataOutputView target) throws IOException {
    byte[] b = encode(toRecord(value));
    target.writeInt(b.length);
    target.write(b);
  }

  @Override
  public T deserialize(DataInputView source) throws IOException {
    byte[] b = new byte[source.readInt()];
    source.readFully(b);
    return fromRecord(decode(b));
  }

  @Override
  public T deserialize(T reuse, DataInputView source) throws IOException {
    return deserialize(source);
  }

  @Override
  public void copy(DataInputView source, DataOutputView target) throws IOException {
    int n = source.readInt();
    target.writeInt(n);
    target.write(source, n);
  }

  /** The record in the declared schema's binary form. */
  byte[] encode(R record) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder out = EncoderFactory.get().binaryEncoder(bytes, null);
    new SpecificDatumWriter<>(recordClass()).write(record, out);
    out.flush();
    if (declared().equals(own())) {
      return bytes.toByteArray();
    }
    // a build that declares another schema: the record resolved into it (new fields get their defaults)
    GenericRecord asDeclared = new GenericDatumReader<GenericRecord>(own(), declared())
        .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    ByteArrayOutputStream resolved = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(resolved, null);
    new GenericDatumWriter<GenericRecord>(declared()).write(asDeclared, enc);
    enc.flush();
    return resolved.toByteArray();
  }

  /** A record written with the writer schema, resolved into this build's record. */
  R decode(byte[] b) throws IOException {
    return new SpecificDatumReader<R>(writer(), own()).read(null, DecoderFactory.get().binaryDecoder(b, null));
  }

  @Override
  public boolean equals(Object obj) {
    return obj != null && obj.getClass() == getClass() && declared().equals(((AvroStateSerializer<?, ?>) obj).declared())
        && writer().equals(((AvroStateSerializer<?, ?>) obj).writer());
  }

  @Override
  public int hashCode() {
    return getClass().hashCode();
  }

  @Override
  public TypeSerializerSnapshot<T> snapshotConfiguration() {
    return new Snapshot<>(getClass().getName(), declared().toString());
  }

  /** The serializer's kind and the schema a checkpoint's state was written with: whether this build can read it. */
  public static final class Snapshot<T> implements TypeSerializerSnapshot<T> {
    private static final int VERSION = 1;
    private String serializerClass;
    private String schema;
    private transient ClassLoader classLoader;

    /** For Flink's restore ({@link #readSnapshot} fills it). */
    public Snapshot() {}

    Snapshot(String serializerClass, String schema) {
      this.serializerClass = serializerClass;
      this.schema = schema;
    }

    @Override
    public int getCurrentVersion() {
      return VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
      out.writeUTF(serializerClass);
      byte[] b = schema.getBytes(StandardCharsets.UTF_8);
      out.writeInt(b.length);
      out.write(b);
    }

    @Override
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader loader) throws IOException {
      if (readVersion != VERSION) {
        throw new IOException("state serializer snapshot version " + readVersion + " is not known to this build");
      }
      serializerClass = in.readUTF();
      byte[] b = new byte[in.readInt()];
      in.readFully(b);
      schema = new String(b, StandardCharsets.UTF_8);
      classLoader = loader;
    }

    /** Reads state written with this snapshot's schema, resolved into this build's record. */
    @Override
    public TypeSerializer<T> restoreSerializer() {
      try {
        ClassLoader loader = classLoader != null ? classLoader : Snapshot.class.getClassLoader();
        @SuppressWarnings("unchecked")
        AvroStateSerializer<T, ?> kind = (AvroStateSerializer<T, ?>) Class.forName(serializerClass, true, loader)
            .getDeclaredConstructor().newInstance();
        return kind.withSchemas(schema, schema);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot make the state serializer " + serializerClass, e);
      }
    }

    /**
     * Called on this build's snapshot with the checkpoint's: as is when the schemas are equal, after migration (read
     * with the old schema, written with the new from then on) when this build's declared schema and its record both
     * read the old one, incompatible otherwise (logged with Avro's reason).
     */
    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
      if (!(old instanceof Snapshot<T> o) || !o.serializerClass.equals(serializerClass)) {
        LOG.error("state written by {} cannot be read by {}", old instanceof Snapshot<T> o2 ? o2.serializerClass
            : old.getClass().getName(), serializerClass);
        return TypeSerializerSchemaCompatibility.incompatible();
      }
      Schema before = new Schema.Parser().parse(o.schema);
      Schema now = new Schema.Parser().parse(schema);
      if (before.equals(now)) {
        return TypeSerializerSchemaCompatibility.compatibleAsIs();
      }
      Schema record = ((AvroStateSerializer<?, ?>) restoreSerializer()).own();
      for (Schema reader : new Schema[] {now, record}) {
        SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(reader, before);
        if (c.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
          LOG.error("{} state of the checkpoint cannot be read by this build: {}", before.getName(), c.getDescription());
          return TypeSerializerSchemaCompatibility.incompatible();
        }
      }
      LOG.info("{} state of the checkpoint has another schema: read with it, written with this build's from now on",
          before.getName());
      return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
    }
  }
}
