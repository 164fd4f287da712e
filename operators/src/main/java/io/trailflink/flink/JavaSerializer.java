package io.trailflink.flink;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Java serialization as a Flink serializer, for in-memory deep copies only: the heap backend's copy-on-write of an
 * engine's live loop while a checkpoint still reads it ({@link EngineSlotSerializer}). No state is written with it:
 * checkpoints hold Avro records of declared fields ({@link AvroStateSerializer}).
 */
public final class JavaSerializer<T extends Serializable> extends TypeSerializer<T> {
  private static final long serialVersionUID = 1L;
  private final Class<T> type;

  public JavaSerializer(Class<T> type) {
    this.type = type;
  }

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public TypeSerializer<T> duplicate() {
    return this;
  }

  @Override
  public T createInstance() {
    return null;
  }

  @Override
  public T copy(T from) {
    return from == null ? null : fromBytes(toBytes(from));
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
  public void serialize(T record, DataOutputView target) throws IOException {
    byte[] b = toBytes(record);
    target.writeInt(b.length);
    target.write(b);
  }

  @Override
  public T deserialize(DataInputView source) throws IOException {
    byte[] b = new byte[source.readInt()];
    source.readFully(b);
    return fromBytes(b);
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

  @Override
  public boolean equals(Object obj) {
    return obj instanceof JavaSerializer<?> o && o.type.equals(type);
  }

  @Override
  public int hashCode() {
    return type.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<T> snapshotConfiguration() {
    return new Snapshot<>(this);
  }

  private static byte[] toBytes(Object o) {
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream(); ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize " + o.getClass().getName(), e);
    }
  }

  private T fromBytes(byte[] b) {
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b)) {
      @Override
      protected Class<?> resolveClass(java.io.ObjectStreamClass desc) throws IOException, ClassNotFoundException {
        return Class.forName(desc.getName(), false, type.getClassLoader());
      }
    }) {
      return type.cast(in.readObject());
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("cannot restore " + type.getName() + " from state", e);
    }
  }

  /** Snapshot of this serializer's configuration (the class), for restores. */
  public static final class Snapshot<T extends Serializable> extends SimpleTypeSerializerSnapshot<T> {
    private Class<T> type;

    public Snapshot() {
      super(() -> null);
    }

    Snapshot(JavaSerializer<T> s) {
      super(() -> s);
      this.type = s.type;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
      out.writeUTF(type.getName());
    }

    @Override
    @SuppressWarnings("unchecked")
    public void readSnapshot(int version, DataInputView in, ClassLoader cl) throws IOException {
      try {
        type = (Class<T>) Class.forName(in.readUTF(), false, cl);
      } catch (ClassNotFoundException e) {
        throw new IOException(e);
      }
    }

    @Override
    public TypeSerializer<T> restoreSerializer() {
      return new JavaSerializer<>(type);
    }
  }
}
