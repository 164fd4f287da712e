package io.trailflink.predictor.train;

import io.trailflink.predictor.LengthBins;
import io.trailflink.predictor.MlpAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The baseline that does not look inside the LLM: a softmax classifier over the length bins on hashed word uni-
 * and bigrams of the prompt text, predicting the total output length before generation starts. It stands in for
 * the paper's DistilBERT prompt classifier, which cannot be had here (no hub access, no GPU). Trained with plain
 * SGD and L2 on the same requests as the MLP.
 */
public final class PromptOnlyBaseline {
  private static final int BUCKETS = 1 << 16;
  private final LengthBins bins;
  private final float[] w; // (BUCKETS, bins)
  private final float[] b;

  private PromptOnlyBaseline(LengthBins bins) {
    this.bins = bins;
    this.w = new float[BUCKETS * bins.count()];
    this.b = new float[bins.count()];
  }

  /** Trains on prompts and their true total output lengths (tokens). */
  public static PromptOnlyBaseline train(List<String> prompts, int[] totalLengths, LengthBins bins, int epochs,
      long seed) {
    PromptOnlyBaseline m = new PromptOnlyBaseline(bins);
    List<int[]> feats = new ArrayList<>();
    for (String p : prompts) {
      feats.add(features(p));
    }
    int n = prompts.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Random r = new Random(seed);
    int k = bins.count();
    float[] z = new float[k];
    double l2 = 1e-5;
    for (int e = 0; e < epochs; e++) {
      double lr = 0.2 * (1 - (double) e / epochs) + 0.01;
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int idx : order) {
        int[] f = feats.get(idx);
        m.logits(f, z);
        MlpAccess.softmax(z);
        z[bins.binOf(totalLengths[idx])] -= 1;
        float scale = (float) (lr / Math.sqrt(f.length));
        for (int c = 0; c < k; c++) {
          m.b[c] -= (float) lr * z[c];
        }
        for (int h : f) {
          int base = h * k;
          for (int c = 0; c < k; c++) {
            m.w[base + c] -= scale * z[c] + (float) (lr * l2) * m.w[base + c];
          }
        }
      }
    }
    return m;
  }

  /** Bin probabilities of the total output length. */
  public float[] probabilities(String prompt) {
    float[] z = new float[bins.count()];
    logits(features(prompt), z);
    MlpAccess.softmax(z);
    return z;
  }

  /** Expected total output length (tokens). */
  public double predictTotal(String prompt) {
    return bins.expectation(probabilities(prompt));
  }

  private void logits(int[] f, float[] z) {
    int k = bins.count();
    System.arraycopy(b, 0, z, 0, k);
    float s = (float) (1 / Math.sqrt(Math.max(1, f.length)));
    for (int h : f) {
      int base = h * k;
      for (int c = 0; c < k; c++) {
        z[c] += s * w[base + c];
      }
    }
  }

  /** Hashed bucket ids of the lower-cased word unigrams and bigrams, plus a bias-like length bucket. */
  static int[] features(String text) {
    String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+");
    List<Integer> out = new ArrayList<>();
    String prev = "<s>";
    int count = 0;
    for (String word : words) {
      if (word.isEmpty()) {
        continue;
      }
      out.add(bucket("u:" + word));
      out.add(bucket("b:" + prev + " " + word));
      prev = word;
      count++;
    }
    out.add(bucket("len:" + Math.min(20, (int) Math.round(Math.log1p(count) * 4))));
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private static int bucket(String s) {
    return Math.floorMod(s.hashCode() * 0x9E3779B1, BUCKETS);
  }
}
