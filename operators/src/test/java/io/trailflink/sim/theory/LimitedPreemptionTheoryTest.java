package io.trailflink.sim.theory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The closed form against classical special cases, and against the simulator run as an M/G/1 queue. */
class LimitedPreemptionTheoryTest {
  private static double[][] sample(int n, long seed, double predictionNoise) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -Math.log(1 - rnd.nextDouble()) * 10;
      y[i] = Math.max(0.1, x[i] + predictionNoise * rnd.nextGaussian());
    }
    return new double[][] {x, y};
  }

  @Test
  void constantPredictionIsFcfsAndMatchesPollaczekKhinchine() {
    double[][] s = sample(50_000, 1, 0);
    double[] y = new double[s[0].length];
    java.util.Arrays.fill(y, 5.0); // every job predicted alike: ties → arrival order
    double lambda = 0.07; // ρ ≈ 0.7
    double ex = 0;
    double ex2 = 0;
    for (double v : s[0]) {
      ex += v / s[0].length;
      ex2 += v * v / s[0].length;
    }
    double pk = ex + lambda * ex2 / (2 * (1 - lambda * ex));
    for (double c : new double[] {0, 0.5, 1}) {
      // with every rank equal and C < 1, nobody overtakes anybody: FCFS whatever C is
      assertEquals(pk, new LimitedPreemptionTheory(s[0], y, lambda, c).meanResponseTime(50_000), pk * 1e-9);
    }
  }

  @Test
  void cZeroIsTheNonPreemptivePriorityFormula() {
    double[][] s = sample(20_000, 2, 4);
    double lambda = 0.06;
    double ex2 = 0;
    for (double v : s[0]) {
      ex2 += v * v / s[0].length;
    }
    LimitedPreemptionTheory t = new LimitedPreemptionTheory(s[0], s[1], lambda, 0);
    // independent evaluation: W(y) = λE[S²] / (2 (1 − ρ_{<y}) (1 − ρ_{≤y})), T = W + x
    double sum = 0;
    int n = 2000;
    for (int i = 0; i < n; i++) {
      double y = s[1][i];
      double below = 0;
      double atMost = 0;
      for (int j = 0; j < s[0].length; j++) {
        if (s[1][j] < y) {
          below += s[0][j];
        }
        if (s[1][j] <= y) {
          atMost += s[0][j];
        }
      }
      double rhoBelow = lambda * below / s[0].length;
      double rhoAtMost = lambda * atMost / s[0].length;
      sum += lambda * ex2 / (2 * (1 - rhoBelow) * (1 - rhoAtMost)) + s[0][i];
    }
    double expected = sum / n;
    double got = 0;
    for (int i = 0; i < n; i++) {
      got += t.responseTime(s[0][i], s[1][i]) / n;
    }
    assertEquals(expected, got, expected * 2e-3); // S_old is interpolated on a grid
  }

  @Test
  void simulatorAsAnMG1QueueAgreesWithTheClosedForm() {
    MG1Check check = new MG1Check(20, 6, 4000, 6, 3);
    for (double c : new double[] {0, 0.8}) {
      MG1Check.Row row = check.run(0.6, c, m -> { });
      double tolerance = Math.max(3 * row.ciHalfWidth(), 0.02 * row.theory());
      assertTrue(Math.abs(row.theory() - row.simulated()) <= tolerance,
          "C=" + c + ": theory " + row.theory() + " vs simulated " + row.simulated() + " ± " + row.ciHalfWidth());
    }
  }
}
