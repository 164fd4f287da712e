package io.trailflink.predictor.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfTest {
  @Test
  void knownEncodings() {
    assertEquals((short) 0x3c00, Half.fromFloat(1f));
    assertEquals((short) 0xc000, Half.fromFloat(-2f));
    assertEquals((short) 0x7bff, Half.fromFloat(65504f));
    assertEquals((short) 0x7c00, Half.fromFloat(1e6f)); // overflow → inf
    assertEquals((short) 0x0001, Half.fromFloat(5.9604645e-8f)); // smallest subnormal
    assertEquals((short) 0x3c00, Half.fromFloat(1f + 1f / 4096)); // ties to even: stays 1.0
    assertEquals((short) 0x3c01, Half.fromFloat(1f + 3f / 4096)); // above the tie: rounds up
    assertEquals(65504f, Half.toFloat((short) 0x7bff));
    assertEquals(5.9604645e-8f, Half.toFloat((short) 0x0001));
    assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(Float.NaN))));
  }

  @Test
  void roundTripIsWithinHalfAnUlp() {
    Random r = new Random(1);
    for (int i = 0; i < 100_000; i++) {
      float f = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(6) - 2));
      float back = Half.toFloat(Half.fromFloat(f));
      float tol = Math.max(Math.abs(f) / 2048f, 3e-8f);
      assertEquals(f, back, tol, "value " + f);
    }
  }
}
