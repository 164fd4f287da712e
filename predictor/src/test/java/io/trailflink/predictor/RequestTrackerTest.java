package io.trailflink.predictor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RequestTrackerTest {
  static ByteBuffer rows(float[]... rows) {
    ByteBuffer b = ByteBuffer.allocate(rows.length * rows[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] r : rows) {
      for (float v : r) {
        b.putFloat(v);
      }
    }
    return b.flip();
  }

  static float[] vec(long seed) {
    Random r = new Random(seed);
    float[] v = new float[16];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * 3;
    }
    return v;
  }

  @Test
  void prefillGivesTheInitialPredictionThenRefreshesSmoothEveryToken() {
    TrailPredictor p = TrailPredictorTest.random(16, 1);
    RequestTracker t = new RequestTracker(p);
    float[] mean = vec(1);
    float[] s1 = vec(2);
    float[] s2 = vec(3);
    // admit + 2 decode steps in one command: rows at 0 (prompt mean), 1 and 2 generated; 3 tokens out
    RequestTracker.Result r = t.observe(null, 16, rows(mean, s1, s2), List.of(0, 1, 2), 3);
    RemainingLength init = p.initial(mean);
    RemainingLength expected = p.refresh(p.refresh(init, s1, 1), s2, 2);
    assertArrayEquals(expected.posterior(), r.state().posterior(), 1e-7f);
    assertEquals(2, r.updates().size());
    assertEquals(0, r.updates().get(0).generated());
    assertEquals(init.estimate(0, 512), r.updates().get(0).remaining(), 1e-9);
    assertEquals(3, r.updates().get(1).generated());
    assertEquals(expected.estimate(3, 512), r.updates().get(1).remaining(), 1e-9);
    // a later step carries on from the returned state
    float[] s3 = vec(4);
    RequestTracker.Result next = t.observe(r.state(), 16, rows(s3), List.of(3), 4);
    assertArrayEquals(p.refresh(expected, s3, 3).posterior(), next.state().posterior(), 1e-7f);
    assertEquals(1, next.updates().size());
  }

  @Test
  void betweenRefreshesTheEstimateCountsDown() {
    TrailPredictor p = TrailPredictorTest.random(16, 8);
    RequestTracker t = new RequestTracker(p);
    RequestTracker.Result r = t.observe(null, 16, rows(vec(1), vec(2), vec(3)), List.of(0, 1, 2), 3);
    assertEquals(0, r.state().refreshedAt(), "no refresh due before 8 tokens");
    assertEquals(r.state().estimate(3, 512), r.updates().get(1).remaining(), 1e-9);
    assertEquals(Math.max(0, r.state().expected() - 3), r.updates().get(1).remaining(), 1e-9);
  }

  @Test
  void stepsWithoutTapRowsKeepTheStateAndAWrongWidthIsRefused() {
    TrailPredictor p = TrailPredictorTest.random(16, 1);
    RequestTracker t = new RequestTracker(p);
    RemainingLength s = p.initial(vec(1));
    RequestTracker.Result r = t.observe(s, 0, ByteBuffer.allocate(0), List.of(), 5);
    assertEquals(s, r.state());
    assertEquals(1, r.updates().size());
    assertThrows(IllegalArgumentException.class, () -> t.observe(s, 8, rows(new float[8]), List.of(6), 7));
    assertEquals(0, t.observe(null, 0, ByteBuffer.allocate(0), List.of(), 5).updates().size());
  }
}
