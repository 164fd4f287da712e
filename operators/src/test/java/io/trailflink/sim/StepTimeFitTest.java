package io.trailflink.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StepTimeFitTest {
  /** Commands of a made-up engine: 2 ms per iteration, 0.5 ms per sequence-step, 0.01 ms per prefill token. */
  private static List<StepTimeFit.Sample> commands(double probeCost, double noiseMs, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<StepTimeFit.Sample> out = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      int iterations = 1 + rnd.nextInt(8);
      long seqSteps = (long) iterations * (1 + rnd.nextInt(16));
      long prefill = rnd.nextInt(4) == 0 ? rnd.nextInt(2000) : 0;
      long probe = rnd.nextInt(3) == 0 ? rnd.nextInt(1000) : 0;
      long context = seqSteps * (20 + rnd.nextInt(300));
      double busy = 2 * iterations + 0.5 * seqSteps + 0.001 * context + 0.01 * prefill + probeCost * probe
          + noiseMs * rnd.nextGaussian();
      out.add(new StepTimeFit.Sample(iterations, seqSteps, context, prefill, probe, busy));
    }
    return out;
  }

  @Test
  void recoversTheCostsOfTheEngineThatProducedTheCommands() {
    StepTimeFit.Fit f = StepTimeFit.fit(commands(0.004, 0.3, 1));
    assertEquals(2, f.fixedMs(), 0.1);
    assertEquals(0.5, f.perSequenceMs(), 0.01);
    assertEquals(0.01, f.perPrefillTokenMs(), 0.0005);
    assertEquals(0.004, f.perProbeTokenMs(), 0.0005);
    assertEquals(0.001, f.perContextTokenMs(), 0.0001);
    assertTrue(f.r2() > 0.99, f.toString());
    StepTimeModel m = f.model(0.5);
    assertEquals(f.fixedMs(), m.fixedMs(), 1e-9);
    assertEquals(0.5, m.perCommandMs(), 1e-12, "the loop's gap is charged once per command");
    assertEquals(f.perPrefillTokenMs() + f.perProbeTokenMs(), m.perPrefillTokenMs(), 1e-12);
    assertEquals(f.perContextTokenMs(), m.perContextTokenMs(), 1e-12);
  }

  @Test
  void aCostTheCommandsDoNotShowIsZeroNotNegative() {
    StepTimeFit.Fit f = StepTimeFit.fit(commands(0, 2, 2)); // probes free, noisy busy times
    assertTrue(f.perProbeTokenMs() >= 0 && f.perProbeTokenMs() < 0.002, f.toString());
    assertTrue(f.fixedMs() >= 0 && f.perSequenceMs() > 0);
  }

  @Test
  void theRobustFitIgnoresCommandsStretchedByContention() {
    List<StepTimeFit.Sample> clean = commands(0.004, 0.3, 4);
    List<StepTimeFit.Sample> stretched = new ArrayList<>();
    SplittableRandom rnd = new SplittableRandom(5);
    for (StepTimeFit.Sample s : clean) { // one command in ten with prefill waits 40-80 ms for a core
      double extra = s.prefillTokens() > 0 && rnd.nextInt(10) == 0 ? 40 + 40 * rnd.nextDouble() : 0;
      stretched.add(new StepTimeFit.Sample(s.iterations(), s.sequenceSteps(), s.contextTokenSteps(),
          s.prefillTokens(), s.probeTokens(), s.busyMs() + extra));
    }
    StepTimeFit.Fit ols = StepTimeFit.fit(stretched);
    StepTimeFit.Fit robust = StepTimeFit.fitRobust(stretched);
    assertEquals(0.01, robust.perPrefillTokenMs(), 0.002, robust.toString());
    assertTrue(ols.perPrefillTokenMs() > 0.012, "least squares charges the waits to prefill: " + ols);
    assertTrue(robust.busyShare() < 0.99 && ols.busyShare() > 0.99, robust.busyShare() + " " + ols.busyShare());
  }

  @Test
  void tooFewCommandsAreRefusedWithAReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StepTimeFit.fit(commands(0, 0, 3).subList(0, 2)));
    assertTrue(e.getMessage().contains("at least 5 commands"), e.getMessage());
  }
}
