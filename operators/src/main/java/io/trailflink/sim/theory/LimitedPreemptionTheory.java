package io.trailflink.sim.theory;

import java.util.Arrays;

/**
 * Closed-form M/G/1 mean response time of SPRPT with limited preemption, from the SOAP framework (Scully,
 * Harchol-Balter, Scheller-Wolf, "SOAP: One Clean Analysis of All Age-Based Scheduling Policies", POMACS 2018,
 * Theorem 5.5). Derivation: {@code docs/theory.md}.
 *
 * <p>A job has size x and prediction y (fixed at arrival). Its rank at age a is {@code y − a} while it is
 * preemptible ({@code a = 0} or {@code a < C·y}) and −∞ afterwards (it can no longer be preempted). Lower rank is
 * served first; ties go to the earlier arrival. Then, with λ the arrival rate and (x', y') an independent job,
 * <pre>
 *   ρ_new(r)  = λ E[x' · 1{y' < r}]                      new arrivals that would overtake rank r
 *   ρ_old0(r) = λ E[x' · 1{y' ≤ r}]
 *   S_old(r)  = E[x'² · 1{y' ≤ r}] + E[(x' − c(r))₊² · 1{y' > r}],   c(r) = min(y' − r, C·y')
 *   E[T(x, y)] = λ S_old(y) / (2 (1 − ρ_old0(y)) (1 − ρ_new(y)))
 *              + ∫₀^{min(x, C·y)} da / (1 − ρ_new(y − a)) + (x − C·y)₊
 * </pre>
 * and E[T] is its mean over the job distribution. C = 0 gives the non-preemptive priority formula (shortest
 * predicted job first); C = 1 gives SPRPT with predictions (Mitzenmacher 2019; SOAP §6).
 *
 * <p>The job distribution is given as an empirical sample of (x, y) pairs; expectations are sample means.
 */
public final class LimitedPreemptionTheory {
  private final double[] ySorted; // predictions, ascending
  private final double[] xBySortedY; // sizes in the same order
  private final double[] prefixX; // prefixX[i] = Σ_{j<i} x_j (by ascending y)
  private final double[] prefixX2;
  private final double[] xs; // original order, for the outer expectation
  private final double[] ys;
  private final double[] cumulative; // G at ySorted[i]: ∫ dr / (1 − ρ_new(r)) up to ySorted[i]
  private final double[] gridR; // S_old(r) tabulated on this grid of r
  private final double[] gridS;
  private final double lambda; // arrivals per unit time
  private final double c;
  private final int n;

  public LimitedPreemptionTheory(double[] sizes, double[] predictions, double lambda, double c) {
    if (sizes.length != predictions.length || sizes.length == 0) {
      throw new IllegalArgumentException("need equally many sizes and predictions");
    }
    this.n = sizes.length;
    this.xs = sizes.clone();
    this.ys = predictions.clone();
    this.lambda = lambda;
    this.c = c;
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Double.compare(predictions[a], predictions[b]));
    ySorted = new double[n];
    xBySortedY = new double[n];
    prefixX = new double[n + 1];
    prefixX2 = new double[n + 1];
    for (int i = 0; i < n; i++) {
      ySorted[i] = predictions[idx[i]];
      xBySortedY[i] = sizes[idx[i]];
      prefixX[i + 1] = prefixX[i] + xBySortedY[i];
      prefixX2[i + 1] = prefixX2[i] + xBySortedY[i] * xBySortedY[i];
    }
    double load = lambda * prefixX[n] / n;
    if (!(load < 1)) {
      throw new IllegalArgumentException("load λ·E[x] = " + load + " must be < 1");
    }
    cumulative = new double[n];
    cumulative[0] = ySorted[0];
    for (int i = 1; i < n; i++) { // on (y[i-1], y[i]] exactly the first i predictions are below r
      cumulative[i] = cumulative[i - 1] + (ySorted[i] - ySorted[i - 1]) / (1 - lambda * prefixX[i] / n);
    }
    int points = 2001;
    gridR = new double[points];
    gridS = new double[points];
    for (int g = 0; g < points; g++) {
      gridR[g] = ySorted[0] + (ySorted[n - 1] - ySorted[0]) * g / (points - 1);
      gridS[g] = sOldExact(gridR[g]);
    }
  }

  /** Number of sample predictions strictly below r. */
  private int countBelow(double r) {
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ySorted[mid] < r) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Number of sample predictions at most r. */
  private int countAtMost(double r) {
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ySorted[mid] <= r) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  double rhoNew(double r) {
    return lambda * prefixX[countBelow(r)] / n;
  }

  double rhoOld0(double r) {
    return lambda * prefixX[countAtMost(r)] / n;
  }

  /** S_old(r), linearly interpolated on the grid (it is continuous in r). */
  double sOld(double r) {
    if (r <= gridR[0]) {
      return sOldExact(r);
    }
    if (r >= gridR[gridR.length - 1]) {
      return sOldExact(r);
    }
    double pos = (r - gridR[0]) / (gridR[1] - gridR[0]);
    int g = Math.min((int) pos, gridR.length - 2);
    double f = pos - g;
    return gridS[g] * (1 - f) + gridS[g + 1] * f;
  }

  /** S_old(r): second moment of old jobs' relevant work, exactly over the sample. */
  double sOldExact(double r) {
    int k = countAtMost(r);
    double s = prefixX2[k];
    for (int i = k; i < n; i++) { // y' > r: the part of the job after its rank has fallen to r (or to −∞)
      double y = ySorted[i];
      double cut = Math.min(y - r, c * y);
      double rest = xBySortedY[i] - cut;
      if (rest > 0) {
        s += rest * rest;
      }
    }
    return s / n;
  }

  /** ∫₀^{m} da / (1 − ρ_new(y − a)) = G(y) − G(y − m), with G the cumulative integral over r. */
  double preemptiveIntegral(double y, double m) {
    return m <= 0 ? 0 : g(y) - g(y - m);
  }

  /** G(r) = ∫ dr / (1 − ρ_new(r)), anchored at G(ySorted[0]) = ySorted[0]; ρ_new = 0 below every prediction. */
  private double g(double r) {
    if (r <= ySorted[0]) {
      return r;
    }
    int k = countBelow(r); // r in (y[k-1], y[k]]: the first k predictions are below r
    return cumulative[k - 1] + (r - ySorted[k - 1]) / (1 - lambda * prefixX[k] / n);
  }

  /** Mean response time of a job of size x and prediction y. */
  public double responseTime(double x, double y) {
    double waiting = lambda * sOld(y) / (2 * (1 - rhoOld0(y)) * (1 - rhoNew(y)));
    double preemptible = Math.min(x, c * y);
    return waiting + preemptiveIntegral(y, preemptible) + Math.max(0, x - preemptible);
  }

  /**
   * Mean response time over the job distribution, averaging {@link #responseTime} over (at most {@code maxJobs})
   * sample jobs.
   */
  public double meanResponseTime(int maxJobs) {
    int step = Math.max(1, n / maxJobs);
    double sum = 0;
    int count = 0;
    for (int i = 0; i < n; i += step) {
      sum += responseTime(xs[i], ys[i]);
      count++;
    }
    return sum / count;
  }
}
