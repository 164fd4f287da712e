package io.trailflink.predictor.train;

import io.trailflink.predictor.LengthMlp;
import io.trailflink.predictor.MlpAccess;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Trains a {@link LengthMlp} as the paper does: cross-entropy over the length bins, AdamW (β 0.9/0.999, ε 1e-8,
 * weight decay 0.01), learning rate with cosine decay to 0 over all steps, mini-batches of 32 in a fresh shuffle
 * each epoch. Plain Java, single-threaded, deterministic for a seed.
 */
public final class MlpTrainer {
  /**
   * @param units MLP hidden units (512 in the paper)
   * @param epochs passes over the training samples
   * @param learningRate peak learning rate (0.01 in the paper)
   * @param batch samples per step (32)
   * @param weightDecay AdamW decoupled weight decay
   * @param seed initialisation and shuffling
   */
  public record Config(int units, int epochs, double learningRate, int batch, double weightDecay, long seed) {
    public static Config paper(int epochs) {
      return new Config(512, epochs, 0.01, 32, 0.01, 7);
    }
  }

  private final Config config;

  public MlpTrainer(Config config) {
    this.config = config;
  }

  /**
   * @param x embeddings, {@code [sample * in + i]}
   * @param labels bin of each sample
   * @param train indices of the training samples
   * @param bins number of bins
   * @param onEpoch called with the finished epoch number (1-based)
   */
  public LengthMlp train(float[] x, int in, int[] labels, int[] train, int bins, IntConsumer onEpoch) {
    float[] mean = new float[in];
    float[] std = new float[in];
    featureStats(x, in, train, mean, std);
    LengthMlp mlp = LengthMlp.initialise(in, config.units(), bins, mean, std, config.seed());
    Step step = new Step(MlpAccess.of(mlp), config);
    int[] order = train.clone();
    Random shuffle = new Random(config.seed() + 1);
    long total = (long) config.epochs() * ((order.length + config.batch() - 1) / config.batch());
    long t = 0;
    for (int epoch = 1; epoch <= config.epochs(); epoch++) {
      for (int i = order.length - 1; i > 0; i--) {
        int j = shuffle.nextInt(i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
      for (int from = 0; from < order.length; from += config.batch()) {
        int to = Math.min(order.length, from + config.batch());
        double lr = 0.5 * config.learningRate() * (1 + Math.cos(Math.PI * t / total));
        step.run(x, labels, order, from, to, lr);
        t++;
      }
      onEpoch.accept(epoch);
    }
    return mlp;
  }

  private static void featureStats(float[] x, int in, int[] rows, float[] mean, float[] std) {
    double[] s = new double[in];
    double[] s2 = new double[in];
    for (int r : rows) {
      for (int i = 0; i < in; i++) {
        double v = x[r * in + i];
        s[i] += v;
        s2[i] += v * v;
      }
    }
    for (int i = 0; i < in; i++) {
      double m = s[i] / rows.length;
      mean[i] = (float) m;
      std[i] = (float) Math.sqrt(Math.max(1e-12, s2[i] / rows.length - m * m));
    }
  }

  /** One optimisation step's buffers and AdamW moments. */
  private static final class Step {
    private final MlpAccess m;
    private final Config c;
    private final float[][] params;
    private final float[][] grads;
    private final float[][] m1;
    private final float[][] m2;
    private final boolean[] decays;
    private final float[] xn;
    private final float[] h;
    private final float[] z;
    private final float[] dh;
    private long t;

    Step(MlpAccess m, Config c) {
      this.m = m;
      this.c = c;
      // the first layer's rows, then b1, w2, b2: each row is its own array so the JIT vectorises its updates
      params = new float[m.in() + 3][];
      System.arraycopy(m.w1(), 0, params, 0, m.in());
      params[m.in()] = m.b1();
      params[m.in() + 1] = m.w2();
      params[m.in() + 2] = m.b2();
      decays = new boolean[params.length];
      java.util.Arrays.fill(decays, true); // torch.optim.AdamW decays every parameter by default
      grads = new float[params.length][];
      m1 = new float[params.length][];
      m2 = new float[params.length][];
      for (int i = 0; i < params.length; i++) {
        grads[i] = new float[params[i].length];
        m1[i] = new float[params[i].length];
        m2[i] = new float[params[i].length];
      }
      xn = new float[m.in()];
      h = new float[m.units()];
      z = new float[m.out()];
      dh = new float[m.units()];
    }

    void run(float[] x, int[] labels, int[] order, int from, int to, double lr) {
      int in = m.in();
      int units = m.units();
      int out = m.out();
      float[][] w1 = m.w1();
      float[] w2 = m.w2();
      float[] gb1 = grads[in];
      float[] gw2 = grads[in + 1];
      float[] gb2 = grads[in + 2];
      for (float[] g : grads) {
        java.util.Arrays.fill(g, 0f);
      }
      float scale = 1f / (to - from);
      for (int s = from; s < to; s++) {
        int row = order[s];
        m.normalise(x, row * in, xn);
        System.arraycopy(m.b1(), 0, h, 0, units);
        for (int i = 0; i < in; i++) {
          float xi = xn[i];
          float[] wi = w1[i];
          for (int j = 0; j < wi.length; j++) {
            h[j] += xi * wi[j];
          }
        }
        System.arraycopy(m.b2(), 0, z, 0, out);
        for (int j = 0; j < units; j++) {
          if (h[j] < 0) {
            h[j] = 0;
          }
          float hj = h[j];
          if (hj != 0) {
            int base = j * out;
            for (int k = 0; k < out; k++) {
              z[k] += hj * w2[base + k];
            }
          }
        }
        MlpAccess.softmax(z);
        z[labels[row]] -= 1f; // dL/dlogits = softmax − onehot
        for (int k = 0; k < out; k++) {
          z[k] *= scale;
          gb2[k] += z[k];
        }
        for (int j = 0; j < units; j++) {
          float hj = h[j];
          int base = j * out;
          float acc = 0;
          for (int k = 0; k < out; k++) {
            gw2[base + k] += hj * z[k];
            acc += w2[base + k] * z[k];
          }
          dh[j] = hj > 0 ? acc : 0;
          gb1[j] += dh[j];
        }
        for (int i = 0; i < in; i++) {
          float xi = xn[i];
          float[] g = grads[i];
          for (int j = 0; j < g.length; j++) {
            g[j] += xi * dh[j];
          }
        }
      }
      adamW(lr);
    }

    private void adamW(double lr) {
      t++;
      float b1 = 0.9f;
      float b2 = 0.999f;
      float c1 = (float) (1 - Math.pow(b1, t));
      float c2 = (float) (1 - Math.pow(b2, t));
      float step = (float) lr / c1;
      float sqrtC2 = (float) Math.sqrt(c2);
      float decay = (float) (1 - lr * c.weightDecay());
      for (int p = 0; p < params.length; p++) {
        float[] w = params[p];
        float[] g = grads[p];
        float[] a = m1[p];
        float[] v = m2[p];
        float d = decays[p] ? decay : 1f;
        for (int i = 0; i < w.length; i++) {
          float gi = g[i];
          a[i] = b1 * a[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          w[i] = w[i] * d - step * a[i] / ((float) Math.sqrt(v[i]) / sqrtC2 + 1e-8f);
        }
      }
    }
  }
}
