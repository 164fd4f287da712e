package io.trailflink.cli;

import java.util.Arrays;

/** Small statistics used by the reports: percentiles, mean, standard deviation, Spearman rank correlation. */
final class Stats {
  private Stats() {}

  /** {@code NAME_p50_UNIT} and {@code NAME_p99_UNIT} of {@code values}. */
  static void putP50P99(com.google.gson.JsonObject o, String name, String unit, double[] values) {
    put(o, name + "_p50_" + unit, percentile(values, 50));
    put(o, name + "_p99_" + unit, percentile(values, 99));
  }

  /** Adds a number to a JSON report; NaN or infinity (undefined statistic) becomes null, keeping the JSON valid. */
  static void put(com.google.gson.JsonObject o, String key, double value) {
    if (Double.isFinite(value)) {
      o.addProperty(key, value);
    } else {
      o.add(key, com.google.gson.JsonNull.INSTANCE);
    }
  }

  /**
   * seq-rep-4 of Welleck et al. (2020): the share of an answer's token 4-grams that repeat an earlier 4-gram of the
   * same answer, 1 − distinct / all; 0 for answers shorter than 5 tokens. A greedy loop scores near 1.
   */
  static double seqRep4(int[] tokens) {
    int n = tokens.length - 3;
    if (n <= 1) {
      return 0;
    }
    java.util.Set<java.util.List<Integer>> distinct = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      distinct.add(java.util.List.of(tokens[i], tokens[i + 1], tokens[i + 2], tokens[i + 3]));
    }
    return 1 - (double) distinct.size() / n;
  }

  static double mean(double[] x) {
    return Arrays.stream(x).average().orElse(Double.NaN);
  }

  /** Linear-interpolated percentile, p in [0, 100]. */
  static double percentile(double[] x, double p) {
    return io.trailflink.sim.SimResult.percentile(x, p);
  }

  static double std(double[] x) {
    double m = mean(x);
    double ss = 0;
    for (double v : x) {
      ss += (v - m) * (v - m);
    }
    return x.length > 1 ? Math.sqrt(ss / (x.length - 1)) : 0;
  }

  /** Spearman's rho: Pearson correlation of average ranks (ties share their mean rank). */
  static double spearman(double[] a, double[] b) {
    return pearson(ranks(a), ranks(b));
  }

  static double pearson(double[] a, double[] b) {
    double ma = mean(a);
    double mb = mean(b);
    double num = 0;
    double da = 0;
    double db = 0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - ma) * (b[i] - mb);
      da += (a[i] - ma) * (a[i] - ma);
      db += (b[i] - mb) * (b[i] - mb);
    }
    return num / Math.sqrt(da * db);
  }

  static double[] ranks(double[] x) {
    Integer[] idx = new Integer[x.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (p, q) -> Double.compare(x[p], x[q]));
    double[] r = new double[x.length];
    for (int i = 0; i < idx.length; ) {
      int j = i;
      while (j + 1 < idx.length && x[idx[j + 1]] == x[idx[i]]) {
        j++;
      }
      double rank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        r[idx[k]] = rank;
      }
      i = j + 1;
    }
    return r;
  }
}
