package io.trailflink.flink;

import io.trailflink.schema.EngineLoopState;
import io.trailflink.serving.EngineLoop;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * State serializer of the scheduler's {@link EngineSlot}s: each engine's loop is written as an
 * {@link EngineLoopState} Avro record (length-prefixed binary) and the schema it was written with goes into the
 * serializer's snapshot, so a checkpoint or savepoint restores in a build whose state schema gained or dropped fields
 * with defaults — Avro's schema resolution reads the old bytes — and a build whose schema cannot read them fails the
 * restore naming both, instead of misreading state. Nothing Java-serialized is ever written: {@link #copy} (the heap
 * backend's copy-on-write of a value a running checkpoint still reads) deep-copies the live loop in memory.
 *
 * <p>The keyed state must stay on the heap backend (the job sets it): there the loop is a live object graph and this
 * serializer runs only when a checkpoint is taken or restored, not per access.
 */
public final class EngineSlotSerializer extends TypeSerializer<EngineSlot> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(EngineSlotSerializer.class);
  private static final JavaSerializer<EngineLoop> IN_MEMORY_COPY = new JavaSerializer<>(EngineLoop.class);

  /** The schema this build writes its state with (JSON); {@link EngineLoopState}'s own in the job. */
  private final String declaredSchema;
  /** The schema the bytes this serializer reads were written with (JSON): the declared one, or an older one's. */
  private final String writerSchema;
  private transient Schema declared;
  private transient Schema writer;

  /** The serializer of this build: writes and reads {@link EngineLoopState}'s schema. */
  public EngineSlotSerializer() {
    this(EngineLoopState.getClassSchema());
  }

  /**
   * A serializer that declares {@code schema} as its state's schema: what a build whose state record differs would
   * write (upgrade tests). Records are still converted through {@link EngineLoopState}.
   */
  public EngineSlotSerializer(Schema schema) {
    this(schema.toString(), schema.toString());
  }

  private EngineSlotSerializer(String declaredSchema, String writerSchema) {
    this.declaredSchema = declaredSchema;
    this.writerSchema = writerSchema;
  }

  private Schema declared() {
    if (declared == null) {
      declared = new Schema.Parser().parse(declaredSchema);
    }
    return declared;
  }

  private Schema writer() {
    if (writer == null) {
      writer = new Schema.Parser().parse(writerSchema);
    }
    return writer;
  }

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public TypeSerializer<EngineSlot> duplicate() {
    return new EngineSlotSerializer(declaredSchema, writerSchema); // the parsed schemas are not shared
  }

  @Override
  public EngineSlot createInstance() {
    return null;
  }

  @Override
  public EngineSlot copy(EngineSlot from) {
    if (from == null) {
      return null;
    }
    return from.pending() ? EngineSlot.restoredFrom(from.toState()) : EngineSlot.of(IN_MEMORY_COPY.copy(from.liveLoop()));
  }

  @Override
  public EngineSlot copy(EngineSlot from, EngineSlot reuse) {
    return copy(from);
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(EngineSlot slot, DataOutputView target) throws IOException {
    byte[] b = encode(slot.toState());
    target.writeInt(b.length);
    target.write(b);
  }

  @Override
  public EngineSlot deserialize(DataInputView source) throws IOException {
    byte[] b = new byte[source.readInt()];
    source.readFully(b);
    return EngineSlot.restoredFrom(decode(b));
  }

  @Override
  public EngineSlot deserialize(EngineSlot reuse, DataInputView source) throws IOException {
    return deserialize(source);
  }

  @Override
  public void copy(DataInputView source, DataOutputView target) throws IOException {
    int n = source.readInt();
    target.writeInt(n);
    target.write(source, n);
  }

  /** The record in the declared schema's binary form. */
  byte[] encode(EngineLoopState state) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder out = EncoderFactory.get().binaryEncoder(bytes, null);
    Schema own = EngineLoopState.getClassSchema();
    if (declared().equals(own)) {
      new SpecificDatumWriter<>(EngineLoopState.class).write(state, out);
    } else { // a build that declares another schema: the record resolved into it (new fields get their defaults)
      ByteArrayOutputStream plain = new ByteArrayOutputStream();
      BinaryEncoder enc = EncoderFactory.get().binaryEncoder(plain, null);
      new SpecificDatumWriter<>(EngineLoopState.class).write(state, enc);
      enc.flush();
      GenericRecord asDeclared = new GenericDatumReader<GenericRecord>(own, declared())
          .read(null, DecoderFactory.get().binaryDecoder(plain.toByteArray(), null));
      new GenericDatumWriter<GenericRecord>(declared()).write(asDeclared, out);
    }
    out.flush();
    return bytes.toByteArray();
  }

  /** A record written with the writer schema, resolved into {@link EngineLoopState}. */
  EngineLoopState decode(byte[] b) throws IOException {
    DatumReader<EngineLoopState> reader = new SpecificDatumReader<>(writer(), EngineLoopState.getClassSchema());
    return reader.read(null, DecoderFactory.get().binaryDecoder(b, null));
  }

  @Override
  public boolean equals(Object obj) {
    return obj instanceof EngineSlotSerializer o && o.declaredSchema.equals(declaredSchema)
        && o.writerSchema.equals(writerSchema);
  }

  @Override
  public int hashCode() {
    return declaredSchema.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<EngineSlot> snapshotConfiguration() {
    return new Snapshot(declaredSchema);
  }

  /** The schema a checkpoint's state was written with; decides whether this build can read it. */
  public static final class Snapshot implements TypeSerializerSnapshot<EngineSlot> {
    private static final int VERSION = 1;
    private String schema;

    /** For Flink's restore (reads the schema with {@link #readSnapshot}). */
    public Snapshot() {}

    Snapshot(String schema) {
      this.schema = schema;
    }

    @Override
    public int getCurrentVersion() {
      return VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
      byte[] b = schema.getBytes(StandardCharsets.UTF_8);
      out.writeInt(b.length);
      out.write(b);
    }

    @Override
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
      if (readVersion != VERSION) {
        throw new IOException("engine state serializer snapshot version " + readVersion + " is not known here");
      }
      byte[] b = new byte[in.readInt()];
      in.readFully(b);
      schema = new String(b, StandardCharsets.UTF_8);
    }

    /** Reads state written with this snapshot's schema, resolved into this build's record. */
    @Override
    public TypeSerializer<EngineSlot> restoreSerializer() {
      return new EngineSlotSerializer(schema, schema);
    }

    /**
     * Called on this build's snapshot with the checkpoint's: as is when the schemas are equal, after migration (read
     * with the old schema, written with the new from then on) when this build's schema and record both read the old
     * one, incompatible otherwise.
     */
    @Override
    public TypeSerializerSchemaCompatibility<EngineSlot> resolveSchemaCompatibility(
        TypeSerializerSnapshot<EngineSlot> old) {
      if (!(old instanceof Snapshot o)) {
        LOG.error("engine state written by {} cannot be read by {}", old.getClass().getName(), getClass().getName());
        return TypeSerializerSchemaCompatibility.incompatible();
      }
      Schema before = new Schema.Parser().parse(o.schema);
      Schema now = new Schema.Parser().parse(schema);
      if (before.equals(now)) {
        return TypeSerializerSchemaCompatibility.compatibleAsIs();
      }
      for (Schema reader : new Schema[] {now, EngineLoopState.getClassSchema()}) {
        SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(reader, before);
        if (c.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
          LOG.error("engine state of the checkpoint cannot be read by this build: {}", c.getDescription());
          return TypeSerializerSchemaCompatibility.incompatible();
        }
      }
      LOG.info("engine state of the checkpoint has another schema; it is read with it and written with this build's");
      return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
    }
  }
}
