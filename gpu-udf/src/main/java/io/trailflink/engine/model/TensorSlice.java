package io.trailflink.engine.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Where one tensor of a safetensors file lies, without its values: the engine maps the bytes straight from the file
 * ({@link #map}) and hands them to the device at their own width, so a checkpoint never passes through the Java
 * heap. {@link #toTensor} widens it to a float32 {@link Tensor} on the heap, for the plain-Java reference, training
 * and tests.
 *
 * @param file the safetensors file
 * @param name the tensor's name
 * @param dtype element type in the file
 * @param shape dimensions, outermost first
 * @param offset absolute byte offset of the first value in the file
 */
public record TensorSlice(Path file, String name, DType dtype, long[] shape, long offset) {

  /** Number of values. */
  public long count() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public long bytes() {
    return count() * dtype.bytes();
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  /** The tensor's bytes, memory-mapped read-only from the file, little-endian (no copy). */
  public ByteBuffer map() {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes()).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot map tensor '" + name + "' (" + e.getMessage() + ")", e);
    }
  }

  /** The values widened to float32, on the heap. */
  public Tensor toTensor() {
    if (count() > Integer.MAX_VALUE) {
      throw new CheckpointException(file + ": tensor '" + name + "' is too large for a float32 copy on the heap");
    }
    ByteBuffer buf = map();
    float[] data = new float[(int) count()];
    switch (dtype) {
      case F32 -> buf.asFloatBuffer().get(data);
      case BF16 -> {
        ShortBuffer s = buf.asShortBuffer();
        for (int i = 0; i < data.length; i++) {
          data[i] = DType.bf16ToFloat(s.get(i));
        }
      }
      case F16 -> {
        ShortBuffer s = buf.asShortBuffer();
        for (int i = 0; i < data.length; i++) {
          data[i] = DType.f16ToFloat(s.get(i));
        }
      }
      default -> throw new IllegalStateException(dtype.name());
    }
    return new Tensor(data, shape);
  }

  /** A float32 tensor's values as a buffer view (for tests of the no-copy path). */
  FloatBuffer floatView() {
    return map().asFloatBuffer();
  }
}
