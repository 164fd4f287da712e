package io.trailflink.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** float32 → half in Java, bit for bit as PyTorch casts it (round to nearest even, subnormals, overflow, NaN). */
class HalfConversionTest {
  @Test
  void everyValueConvertsToPyTorchsHalfBits() {
    Random rnd = new Random(5);
    int n = 200_000;
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = switch (i % 5) {
        case 0 -> (float) rnd.nextGaussian() * 0.02f; // weights
        case 1 -> Float.intBitsToFloat(rnd.nextInt()); // any bit pattern: NaN, inf, huge, tiny
        case 2 -> (float) (rnd.nextGaussian() * 70_000); // around the overflow edge
        case 3 -> (float) (rnd.nextGaussian() * 1e-6); // subnormal halves
        default -> DType.f16ToFloat((short) rnd.nextInt()) * (1 + (rnd.nextInt(3) - 1) * 0x1p-11f); // ties
      };
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray half = m.create(values).toType(DataType.FLOAT16, false);
      ByteBuffer bits = half.toByteBuffer().order(ByteOrder.nativeOrder());
      for (int i = 0; i < n; i++) {
        short torch = bits.getShort(2 * i);
        short ours = DType.floatToF16(values[i]);
        if (Float.isNaN(values[i])) {
          assertEquals(0x7c00, ours & 0x7c00, "NaN stays NaN");
          assertEquals(true, (ours & 0x3ff) != 0, "NaN stays NaN");
          continue;
        }
        assertEquals(torch, ours, "value " + values[i] + " (bits " + Integer.toHexString(Float.floatToRawIntBits(values[i])) + ")");
      }
    }
  }
}
