package io.trailflink.predictor.train;

import io.trailflink.predictor.LengthBins;
import io.trailflink.predictor.LengthMlp;
import io.trailflink.predictor.PromptPrior;
import io.trailflink.predictor.RemainingLength;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.predictor.data.TapDataset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores remaining-length predictions on the held-out requests of a {@link TapDataset}, one sample per generated
 * token. Every method is clamped to {@code [0, cap − generated]} like the scheduler's estimate:
 *
 * <ul>
 *   <li>{@code prompt_text}: the prompt-only baseline's total, counted down one per token;
 *   <li>{@code generated_only}: no prompt and no state, only how many tokens are out: the mean remaining length of
 *       the training split's samples at the same count (what a scheduler knowing only a request's age would
 *       expect). A predictor that does not beat it has learnt nothing about this split's requests;
 *   <li>{@code initial}: the MLP on the prompt-mean embedding, counted down;
 *   <li>{@code refined_raw}: the MLP on the newest token's embedding at every token, no smoothing;
 *   <li>{@code refined_smoothed_kK}: the shipped predictor with Bayesian smoothing, refreshed every K tokens and
 *       counted down in between.
 * </ul>
 */
public final class PredictorEvaluation {
  /** Fraction-of-output buckets for the breakdown: [0, 0.2), [0.2, 0.4), … */
  public static final int FRACTION_BUCKETS = 5;

  /** Running error of one method. */
  public static final class Score {
    double absSum;
    long n;
    long binHits;
    final double[] absByFraction = new double[FRACTION_BUCKETS];
    final long[] nByFraction = new long[FRACTION_BUCKETS];
    final long[][] confusion;

    Score(int bins) {
      confusion = new long[bins][bins];
    }

    void add(double predicted, int remaining, int generated, int output, int predictedBin, int trueBin) {
      double err = Math.abs(predicted - remaining);
      absSum += err;
      n++;
      binHits += predictedBin == trueBin ? 1 : 0;
      int f = Math.min(FRACTION_BUCKETS - 1, (int) ((double) generated / output * FRACTION_BUCKETS));
      absByFraction[f] += err;
      nByFraction[f]++;
      confusion[trueBin][predictedBin]++;
    }

    /** Mean absolute error of remaining length (tokens). */
    public double mae() {
      return absSum / Math.max(1, n);
    }

    public double binAccuracy() {
      return (double) binHits / Math.max(1, n);
    }

    public double maeByFraction(int bucket) {
      return absByFraction[bucket] / Math.max(1, nByFraction[bucket]);
    }

    public long samples() {
      return n;
    }

    /** {@code [trueBin][predictedBin]} sample counts. */
    public long[][] confusion() {
      return confusion;
    }
  }

  private PredictorEvaluation() {}

  /**
   * @param x the predictor's layer of the dataset ({@code [sample * hidden + i]})
   * @param baseline prompt-only baseline, or null to skip it
   * @param refreshEvery cadences to score the smoothed predictor at
   */
  public static Map<String, Score> evaluate(TapDataset ds, float[] x, TrailPredictor predictor,
      PromptPrior baseline, List<Integer> refreshEvery) {
    LengthBins bins = predictor.bins();
    int hidden = ds.hidden();
    int cap = bins.cap();
    Map<String, Score> scores = new LinkedHashMap<>();
    Score text = baseline != null ? scores.computeIfAbsent("prompt_text", k -> new Score(bins.count())) : null;
    Score age = scores.computeIfAbsent("generated_only", k -> new Score(bins.count()));
    double[] meanRemainingAt = meanRemainingByGenerated(ds, cap);
    Score initial = scores.computeIfAbsent("initial", k -> new Score(bins.count()));
    Score raw = scores.computeIfAbsent("refined_raw", k -> new Score(bins.count()));
    Map<Integer, Score> smoothed = new LinkedHashMap<>();
    for (int k : refreshEvery) {
      smoothed.put(k, scores.computeIfAbsent("refined_smoothed_k" + k, n -> new Score(bins.count())));
    }
    Map<Integer, TrailPredictor> byK = new LinkedHashMap<>();
    for (int k : refreshEvery) {
      byK.put(k, predictor.withRefreshEvery(k));
    }
    float[] row = new float[hidden];
    for (TapDataset.RequestRecord r : ds.requests()) {
      if (!r.validation()) {
        continue;
      }
      int first = r.firstSample();
      int out = r.outputTokens();
      double textTotal = baseline != null ? baseline.predictTotal(r.prompt()) : 0;
      System.arraycopy(x, first * hidden, row, 0, hidden);
      RemainingLength init = predictor.initial(row);
      Map<Integer, RemainingLength> state = new LinkedHashMap<>();
      byK.keySet().forEach(k -> state.put(k, init));
      for (int s = first; s < first + r.sampleCount(); s++) {
        int g = ds.generatedAt(s);
        int rem = ds.remainingAt(s);
        int trueBin = bins.binOf(rem);
        if (text != null) {
          double e = clamp(textTotal - g, cap - g);
          text.add(e, rem, g, out, bins.binOf(e), trueBin);
        }
        double ea = clamp(meanRemainingAt[Math.min(g, cap - 1)], cap - g);
        age.add(ea, rem, g, out, bins.binOf(ea), trueBin);
        double e0 = init.estimate(g, cap);
        initial.add(e0, rem, g, out, bins.binOf(e0), trueBin);
        System.arraycopy(x, s * hidden, row, 0, hidden);
        float[] p = g == 0 ? init.posterior() : predictor.probabilities(row, 0);
        double er = clamp(bins.expectation(p), cap - g);
        raw.add(er, rem, g, out, argmax(p), trueBin);
        for (Map.Entry<Integer, TrailPredictor> k : byK.entrySet()) {
          RemainingLength st = state.get(k.getKey());
          if (g > 0 && k.getValue().due(st, g)) {
            st = k.getValue().refresh(st, row, g);
            state.put(k.getKey(), st);
          }
          double es = st.estimate(g, cap);
          smoothed.get(k.getKey()).add(es, rem, g, out, st.refreshedAt() == g ? argmax(st.posterior())
              : bins.binOf(es), trueBin);
        }
      }
    }
    return scores;
  }

  /**
   * Mean true remaining length of the training split's samples by tokens generated, g = 0 .. cap − 1; a count no
   * training request reached takes the previous count's mean less one.
   */
  static double[] meanRemainingByGenerated(TapDataset ds, int cap) {
    double[] sum = new double[cap];
    long[] n = new long[cap];
    for (int s = 0; s < ds.size(); s++) {
      int g = ds.generatedAt(s);
      if (g < cap && !ds.requests().get(ds.requestOf(s)).validation()) {
        sum[g] += ds.remainingAt(s);
        n[g]++;
      }
    }
    double[] mean = new double[cap];
    for (int g = 0; g < cap; g++) {
      mean[g] = n[g] > 0 ? sum[g] / n[g] : g == 0 ? cap / 2.0 : Math.max(0, mean[g - 1] - 1);
    }
    return mean;
  }

  /**
   * The predictor's estimate of remaining tokens after g = 0 .. N−1 generated tokens for one collected request,
   * at the predictor's own refresh cadence (what the job would have published).
   */
  public static double[] trajectory(TapDataset ds, float[] x, TrailPredictor predictor, TapDataset.RequestRecord r) {
    int hidden = ds.hidden();
    int cap = predictor.bins().cap();
    float[] row = new float[hidden];
    double[] out = new double[r.sampleCount()];
    System.arraycopy(x, r.firstSample() * hidden, row, 0, hidden);
    RemainingLength st = predictor.initial(row);
    for (int s = r.firstSample(); s < r.firstSample() + r.sampleCount(); s++) {
      int g = ds.generatedAt(s);
      if (g > 0 && predictor.due(st, g)) {
        System.arraycopy(x, s * hidden, row, 0, hidden);
        st = predictor.refresh(st, row, g);
      }
      out[g] = st.estimate(g, cap);
    }
    return out;
  }

  /** Per-sample MAE and bin accuracy of a raw MLP on the given samples (for the layer sweep). */
  public static double[] rawScore(LengthMlp mlp, float[] x, int hidden, TapDataset ds, int[] samples,
      LengthBins bins) {
    double abs = 0;
    long hits = 0;
    for (int s : samples) {
      float[] p = mlp.probabilities(x, s * hidden);
      int g = ds.generatedAt(s);
      double e = clamp(bins.expectation(p), bins.cap() - g);
      abs += Math.abs(e - ds.remainingAt(s));
      hits += argmax(p) == bins.binOf(ds.remainingAt(s)) ? 1 : 0;
    }
    return new double[] {abs / samples.length, (double) hits / samples.length};
  }

  private static double clamp(double v, double max) {
    return Math.max(0, Math.min(max, v));
  }

  static int argmax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }
}
