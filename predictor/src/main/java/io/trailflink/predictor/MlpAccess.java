package io.trailflink.predictor;

/** The trainer's view of a {@link LengthMlp}'s mutable arrays (same package access, kept out of the public API). */
public final class MlpAccess {
  private final LengthMlp mlp;

  private MlpAccess(LengthMlp mlp) {
    this.mlp = mlp;
  }

  public static MlpAccess of(LengthMlp mlp) {
    return new MlpAccess(mlp);
  }

  public int in() {
    return mlp.in;
  }

  public int units() {
    return mlp.units;
  }

  public int out() {
    return mlp.out;
  }

  /** First layer, one row of {@code units} weights per input. */
  public float[][] w1() {
    return mlp.w1;
  }

  public float[] b1() {
    return mlp.b1;
  }

  public float[] w2() {
    return mlp.w2;
  }

  public float[] b2() {
    return mlp.b2;
  }

  /** Standardised copy of {@code x[offset .. offset+in)} into {@code into}. */
  public void normalise(float[] x, int offset, float[] into) {
    for (int i = 0; i < mlp.in; i++) {
      into[i] = (x[offset + i] - mlp.mean[i]) * mlp.invStd[i];
    }
  }

  public static void softmax(float[] z) {
    LengthMlp.softmaxInPlace(z);
  }
}
