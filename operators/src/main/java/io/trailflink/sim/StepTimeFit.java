package io.trailflink.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * Calibrates the simulator's {@link StepTimeModel} on a live engine: a non-negative least-squares fit of each
 * command's busy time to the work it did,
 * {@code busy ≈ fixed·iterations + perSequence·sequenceSteps + perContextToken·contextTokenSteps
 * + perPrefillToken·prefillTokens + perProbeToken·probeTokens}.
 * A command of the live job runs several decode iterations (its quantum), so its fixed cost counts once per
 * iteration and its sequence cost once per token decoded.
 */
public final class StepTimeFit {
  private StepTimeFit() {}

  /**
   * One live command.
   *
   * @param iterations decode iterations it ran (its longest request's new tokens)
   * @param sequenceSteps tokens it decoded, over all requests (Σ batch size over iterations)
   * @param contextTokenSteps context attended to, over all requests and iterations (Σ prompt + generated)
   * @param prefillTokens prompt (or recomputed) tokens it prefilled
   * @param probeTokens prompt tokens of waiting requests it embedded for their initial prediction
   * @param busyMs engine compute time (ms)
   */
  public record Sample(int iterations, long sequenceSteps, long contextTokenSteps, long prefillTokens,
      long probeTokens, double busyMs) {
    double feature(int i) {
      return switch (i) {
        case 0 -> iterations;
        case 1 -> sequenceSteps;
        case 2 -> prefillTokens;
        case 3 -> probeTokens;
        default -> contextTokenSteps;
      };
    }
  }

  /**
   * The fitted costs (ms) and the fit's coefficient of determination over the samples.
   *
   * @param fixedMs per iteration
   * @param perSequenceMs per request per iteration
   * @param perPrefillTokenMs per prefilled token
   * @param perProbeTokenMs per probed prompt token
   * @param perContextTokenMs per token of context attended to per iteration
   * @param r2 1 − residual / total sum of squares of busy time
   * @param busyShare the commands' predicted busy time over their measured busy time (1 for least squares; below
   *     1 for the robust fit, by the time outliers add)
   * @param samples commands fitted
   */
  public record Fit(double fixedMs, double perSequenceMs, double perPrefillTokenMs, double perProbeTokenMs,
      double perContextTokenMs, double r2, double busyShare, int samples) {
    /**
     * The simulator's model: the loop's overhead outside engine compute is charged once per command, and each
     * request's probe is charged with its prefill (the simulator runs no probes; every request is probed once and
     * prefilled once, so the work is the same).
     */
    public StepTimeModel model(double overheadPerCommandMs) {
      return new StepTimeModel(fixedMs, perSequenceMs, perPrefillTokenMs + perProbeTokenMs, perContextTokenMs,
          Math.max(0, overheadPerCommandMs));
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "busy = %.3f ms/iteration + %.4f ms/sequence-step + %.6f ms/context"
          + " token + %.5f ms/prefill token + %.5f ms/probe token (R² %.3f, %.1f %% of the busy time, over %d commands)",
          fixedMs, perSequenceMs, perContextTokenMs, perPrefillTokenMs, perProbeTokenMs, r2, 100 * busyShare, samples);
    }
  }

  private static final int FEATURES = 5;

  /**
   * Fits by active-set non-negative least squares: a cost that would come out negative (a feature the samples do
   * not exercise, or noise) is fixed at 0 and the rest refitted.
   *
   * @throws IllegalArgumentException with fewer samples than features, or when no decode cost can be fitted
   */
  public static Fit fit(List<Sample> samples) {
    double[] ones = new double[samples.size()];
    java.util.Arrays.fill(ones, 1);
    return result(samples, nnls(samples, ones));
  }

  /**
   * As {@link #fit}, but robust to commands whose time was stretched by something other than their work (the
   * engine thread waiting for a core while other threads run): Huber-weighted (k = 1.345 robust standard
   * deviations of the residuals), iteratively reweighted. The costs then describe a typical command; the time the
   * outliers add on top is what {@link Fit#busyShare} leaves unexplained.
   */
  public static Fit fitRobust(List<Sample> samples) {
    double[] w = new double[samples.size()];
    java.util.Arrays.fill(w, 1);
    double[] coef = nnls(samples, w);
    for (int iteration = 0; iteration < 30; iteration++) {
      double[] abs = new double[samples.size()];
      for (int i = 0; i < abs.length; i++) {
        abs[i] = Math.abs(samples.get(i).busyMs() - predict(coef, samples.get(i)));
      }
      double[] sorted = abs.clone();
      java.util.Arrays.sort(sorted);
      double k = 1.345 * 1.4826 * Math.max(1e-9, sorted[sorted.length / 2]);
      for (int i = 0; i < abs.length; i++) {
        w[i] = abs[i] <= k ? 1 : k / abs[i];
      }
      coef = nnls(samples, w);
    }
    return result(samples, coef);
  }

  private static double predict(double[] coef, Sample s) {
    double p = 0;
    for (int i = 0; i < FEATURES; i++) {
      p += coef[i] * s.feature(i);
    }
    return p;
  }

  /** Non-negative weighted least squares by an active set: the most negative cost is dropped and the rest refitted. */
  private static double[] nnls(List<Sample> samples, double[] weights) {
    if (samples.size() < FEATURES) {
      throw new IllegalArgumentException("a step-time fit needs at least " + FEATURES + " commands, got "
          + samples.size());
    }
    List<Integer> active = new ArrayList<>(List.of(0, 1, 2, 3, 4));
    double[] coef = new double[FEATURES];
    while (!active.isEmpty()) {
      double[] solved = solve(samples, weights, active);
      int worst = -1;
      for (int j = 0; j < active.size(); j++) {
        if (solved[j] < 0 && (worst < 0 || solved[j] < solved[worst])) {
          worst = j;
        }
      }
      if (worst < 0) {
        for (int j = 0; j < active.size(); j++) {
          coef[active.get(j)] = solved[j];
        }
        break;
      }
      active.remove(worst);
    }
    if (coef[0] + coef[1] + coef[4] <= 0) {
      throw new IllegalArgumentException("the commands' busy times give no positive decode cost");
    }
    return coef;
  }

  private static Fit result(List<Sample> samples, double[] coef) {
    double mean = samples.stream().mapToDouble(Sample::busyMs).average().orElse(0);
    double ssRes = 0;
    double ssTot = 0;
    double predictedSum = 0;
    double busySum = 0;
    for (Sample s : samples) {
      double predicted = predict(coef, s);
      ssRes += (s.busyMs() - predicted) * (s.busyMs() - predicted);
      ssTot += (s.busyMs() - mean) * (s.busyMs() - mean);
      predictedSum += predicted;
      busySum += s.busyMs();
    }
    return new Fit(coef[0], coef[1], coef[2], coef[3], coef[4], ssTot == 0 ? 1 : 1 - ssRes / ssTot,
        busySum == 0 ? 1 : predictedSum / busySum, samples.size());
  }

  /** Weighted least squares over the active features (normal equations, Gaussian elimination, partial pivoting). */
  private static double[] solve(List<Sample> samples, double[] weights, List<Integer> active) {
    int n = active.size();
    double[][] a = new double[n][n + 1];
    for (int i = 0; i < samples.size(); i++) {
      Sample s = samples.get(i);
      double w = weights[i];
      for (int r = 0; r < n; r++) {
        double fr = s.feature(active.get(r)) * w;
        for (int c = 0; c < n; c++) {
          a[r][c] += fr * s.feature(active.get(c));
        }
        a[r][n] += fr * s.busyMs();
      }
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      double[] t = a[col];
      a[col] = a[pivot];
      a[pivot] = t;
      if (Math.abs(a[col][col]) < 1e-12) {
        a[col][col] = 1e-12; // a feature the samples never exercise: its cost comes out 0
      }
      for (int r = 0; r < n; r++) {
        if (r != col) {
          double f = a[r][col] / a[col][col];
          for (int c = col; c <= n; c++) {
            a[r][c] -= f * a[col][c];
          }
        }
      }
    }
    double[] x = new double[n];
    for (int r = 0; r < n; r++) {
      x[r] = a[r][n] / a[r][r];
    }
    return x;
  }
}
