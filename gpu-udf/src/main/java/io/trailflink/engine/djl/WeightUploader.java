package io.trailflink.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.TensorSlice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * Puts checkpoint tensors on the device at the engine's width ({@code FLOAT16} or {@code FLOAT32}) straight from the
 * memory-mapped file: no {@code float[]} on the Java heap. F32 and F16 bytes go to PyTorch as they are (a cast on
 * the device when the widths differ). BF16 is converted while it streams in, in a direct buffer, never through a
 * BFLOAT16 array: DJL 0.32 and 0.36 abort the JVM on any BFLOAT16 tensor. Converting to F16 clamps values beyond
 * its range (±65504) and counts them ({@link #clampedToF16}).
 */
final class WeightUploader {
  static final float F16_MAX = 65504f;

  private final NDManager manager;
  private final DataType target; // FLOAT16 or FLOAT32
  private long clamped; // BF16 values beyond F16's range

  WeightUploader(NDManager manager, DataType target) {
    if (target != DataType.FLOAT16 && target != DataType.FLOAT32) {
      throw new IllegalArgumentException("engine dtype must be FLOAT16 or FLOAT32, got " + target);
    }
    this.manager = manager;
    this.target = target;
  }

  /** The tensor on the device; {@code transpose}: as a contiguous (in, out) matrix. */
  NDArray upload(TensorSlice slice, boolean transpose) {
    try (NDManager staging = manager.newSubManager()) { // everything but the result is freed on return
      // the file's bytes, or for BF16 the converted ones: freed at the end, not at some later GC
      ByteBuffer bytes = slice.dtype() == DType.BF16 ? fromBf16(slice) : slice.map();
      try {
        DataType width = switch (slice.dtype()) {
          case F32 -> DataType.FLOAT32;
          case F16 -> DataType.FLOAT16;
          case BF16 -> target;
        };
        NDArray raw = staging.create(bytes, new Shape(slice.shape()), width);
        // an owned, contiguous copy in the target width: the mapped or staging buffers are not kept
        NDArray a = raw.getDataType() == target ? raw : raw.toType(target, false);
        NDArray result = transpose ? a.transpose().duplicate() : a.duplicate();
        result.attach(manager);
        return result;
      } finally {
        MappedFiles.free(bytes);
      }
    }
  }

  /**
   * BF16 values converted in Java to the target width (round to nearest even, as PyTorch casts) into one direct
   * (off-heap) buffer: no float32 staging copy of a 16-bit checkpoint.
   */
  private ByteBuffer fromBf16(TensorSlice slice) {
    ByteBuffer mapped = slice.map();
    try {
      ShortBuffer in = mapped.asShortBuffer();
      int n = (int) slice.count();
      boolean half = target == DataType.FLOAT16;
      ByteBuffer out = ByteBuffer.allocateDirect(n * (half ? 2 : 4)).order(ByteOrder.nativeOrder());
      for (int i = 0; i < n; i++) {
        float v = DType.bf16ToFloat(in.get(i));
        if (!half) {
          out.putFloat(v);
          continue;
        }
        if (Math.abs(v) > F16_MAX && Float.isFinite(v)) {
          clamped++;
          v = Math.copySign(F16_MAX, v);
        }
        out.putShort(DType.floatToF16(v));
      }
      return out.flip();
    } finally {
      MappedFiles.free(mapped);
    }
  }

  /** BF16 values so far that were beyond F16's range and clamped to ±65504. */
  long clampedToF16() {
    return clamped;
  }
}
