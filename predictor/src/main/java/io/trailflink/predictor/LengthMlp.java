package io.trailflink.predictor;

import io.trailflink.engine.model.Tensor;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * TRAIL's classifier: standardise → Linear(in → units) → ReLU → Linear(units → bins) → softmax. The standardisation
 * (per-feature mean and standard deviation of the training embeddings) is the one addition to the paper's MLP: it
 * lets one learning rate serve every layer of the layer sweep, whose residual streams differ in scale.
 *
 * <p>The first layer is kept as one array per input ({@code w1[i][j]}) so its product runs as contiguous
 * multiply-adds that HotSpot's C2 vectorises (with one flat array and {@code i * units + j} indexing JDK 17 does not:
 * 55 µs against 9 µs per sample here); on disk they use PyTorch's names and layout ({@code fc1.weight} is {@code (units, in)}).
 * Immutable after construction except through the trainer; {@link #probabilities} is thread-safe.
 */
public final class LengthMlp implements Serializable {
  private static final long serialVersionUID = 1L;
  final int in;
  final int units;
  final int out;
  final float[] mean; // (in)
  final float[] invStd; // (in)
  final float[][] w1; // (in, units)
  final float[] b1; // (units)
  final float[] w2; // (units, out)
  final float[] b2; // (out)
  private transient float[][] w2t; // (out, units): w2 transposed for inference, built on first use after training

  LengthMlp(int in, int units, int out, float[] mean, float[] invStd, float[][] w1, float[] b1, float[] w2, float[] b2) {
    this.in = in;
    this.units = units;
    this.out = out;
    this.mean = mean;
    this.invStd = invStd;
    this.w1 = w1;
    this.b1 = b1;
    this.w2 = w2;
    this.b2 = b2;
  }

  /** PyTorch's default Linear initialisation, U(±1/√fan_in), with the given input statistics. */
  public static LengthMlp initialise(int in, int units, int out, float[] mean, float[] std, long seed) {
    Random r = new Random(seed);
    float[] inv = new float[in];
    for (int i = 0; i < in; i++) {
      inv[i] = 1f / Math.max(std[i], 1e-6f);
    }
    return new LengthMlp(in, units, out, mean.clone(), inv, rows(uniform(r, in * units, in), in, units), uniform(r, units, in),
        uniform(r, units * out, units), uniform(r, out, units));
  }

  private static float[] uniform(Random r, int n, int fanIn) {
    float bound = (float) (1 / Math.sqrt(fanIn));
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (r.nextFloat() * 2 - 1) * bound;
    }
    return a;
  }

  public int inputSize() {
    return in;
  }

  public int bins() {
    return out;
  }

  /** Softmax over the bins for one embedding {@code x[offset .. offset+in)}. */
  public float[] probabilities(float[] x, int offset) {
    float[] h = new float[units];
    float[] z = new float[out];
    forward(x, offset, h, z);
    softmaxInPlace(z);
    return z;
  }

  public float[] probabilities(float[] x) {
    return probabilities(x, 0);
  }

  /** Hidden activations (after ReLU) into {@code h} and logits into {@code z}. */
  void forward(float[] x, int offset, float[] h, float[] z) {
    System.arraycopy(b1, 0, h, 0, units);
    // four inputs per pass over h: one load and store of h[j] per four multiply-adds
    int i = 0;
    for (; i + 3 < in; i += 4) {
      float x0 = (x[offset + i] - mean[i]) * invStd[i];
      float x1 = (x[offset + i + 1] - mean[i + 1]) * invStd[i + 1];
      float x2 = (x[offset + i + 2] - mean[i + 2]) * invStd[i + 2];
      float x3 = (x[offset + i + 3] - mean[i + 3]) * invStd[i + 3];
      float[] r0 = w1[i];
      float[] r1 = w1[i + 1];
      float[] r2 = w1[i + 2];
      float[] r3 = w1[i + 3];
      for (int j = 0; j < h.length; j++) {
        h[j] += x0 * r0[j] + x1 * r1[j] + x2 * r2[j] + x3 * r3[j];
      }
    }
    for (; i < in; i++) {
      float xi = (x[offset + i] - mean[i]) * invStd[i];
      float[] row = w1[i];
      for (int j = 0; j < units; j++) {
        h[j] += xi * row[j];
      }
    }
    for (int j = 0; j < units; j++) {
      h[j] = Math.max(h[j], 0f);
    }
    float[][] t = w2t;
    if (t == null) {
      w2t = t = rows(transpose(w2, units, out), out, units); // idempotent, so a racing first call is harmless
    }
    for (int k = 0; k < out; k++) {
      z[k] = b2[k] + dot(h, t[k]);
    }
  }

  /** Dot product with four independent sums (a single running sum serialises on the add latency). */
  private static float dot(float[] a, float[] b) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int n = a.length & ~3;
    for (int i = 0; i < n; i += 4) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
    }
    for (int i = n; i < a.length; i++) {
      s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  static void softmaxInPlace(float[] z) {
    float max = Float.NEGATIVE_INFINITY;
    for (float v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int k = 0; k < z.length; k++) {
      z[k] = (float) Math.exp(z[k] - max);
      sum += z[k];
    }
    for (int k = 0; k < z.length; k++) {
      z[k] /= (float) sum;
    }
  }

  /** The weights under PyTorch's names: fc1/fc2 weight (out, in) and bias, input_mean, input_std. */
  public Map<String, Tensor> toTensors() {
    Map<String, Tensor> t = new LinkedHashMap<>();
    float[] std = new float[in];
    for (int i = 0; i < in; i++) {
      std[i] = 1f / invStd[i];
    }
    t.put("input_mean", new Tensor(mean.clone(), new long[] {in}));
    t.put("input_std", new Tensor(std, new long[] {in}));
    t.put("fc1.weight", new Tensor(transpose(flat(w1), in, units), new long[] {units, in}));
    t.put("fc1.bias", new Tensor(b1.clone(), new long[] {units}));
    t.put("fc2.weight", new Tensor(transpose(w2, units, out), new long[] {out, units}));
    t.put("fc2.bias", new Tensor(b2.clone(), new long[] {out}));
    return t;
  }

  /** Rebuilds the MLP from {@link #toTensors}' layout; a missing tensor or a wrong shape is an error naming it. */
  public static LengthMlp fromTensors(Map<String, Tensor> t) {
    Tensor fc1 = require(t, "fc1.weight", 2);
    Tensor fc2 = require(t, "fc2.weight", 2);
    int units = fc1.rows();
    int in = fc1.cols();
    int out = fc2.rows();
    if (fc2.cols() != units) {
      throw new IllegalArgumentException("fc2.weight is " + fc2.shapeString() + ", expected (bins, " + units + ")");
    }
    float[] mean = vector(t, "input_mean", in);
    float[] std = vector(t, "input_std", in);
    float[] inv = new float[in];
    for (int i = 0; i < in; i++) {
      if (!(std[i] > 0)) {
        throw new IllegalArgumentException("input_std[" + i + "] is " + std[i] + ", must be > 0");
      }
      inv[i] = 1f / std[i];
    }
    return new LengthMlp(in, units, out, mean, inv, rows(transpose(fc1.data(), units, in), in, units),
        vector(t, "fc1.bias", units),
        transpose(fc2.data(), out, units), vector(t, "fc2.bias", out));
  }

  private static Tensor require(Map<String, Tensor> t, String name, int dims) {
    Tensor x = t.get(name);
    if (x == null || x.shape().length != dims) {
      throw new IllegalArgumentException(x == null ? "tensor '" + name + "' is missing"
          : "tensor '" + name + "' has shape " + x.shapeString() + ", expected " + dims + " dimensions");
    }
    return x;
  }

  private static float[] vector(Map<String, Tensor> t, String name, int n) {
    Tensor x = require(t, name, 1);
    if (x.rows() != n) {
      throw new IllegalArgumentException("tensor '" + name + "' has shape " + x.shapeString() + ", expected [" + n + "]");
    }
    return x.data().clone();
  }

  private static float[][] rows(float[] a, int rows, int cols) {
    float[][] out = new float[rows][cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(a, r * cols, out[r], 0, cols);
    }
    return out;
  }

  private static float[] flat(float[][] a) {
    int cols = a[0].length;
    float[] out = new float[a.length * cols];
    for (int r = 0; r < a.length; r++) {
      System.arraycopy(a[r], 0, out, r * cols, cols);
    }
    return out;
  }

  private static float[] transpose(float[] a, int rows, int cols) {
    float[] t = new float[a.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = a[r * cols + c];
      }
    }
    return t;
  }
}
