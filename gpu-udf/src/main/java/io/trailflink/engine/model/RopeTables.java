package io.trailflink.engine.model;

/**
 * Precomputed rotary-embedding cosines and sines, Hugging Face's rotate-half convention.
 *
 * <p>Row {@code p} holds {@code cos(p * invFreq[i])} for {@code i < headDim/2}; the same half is applied to both
 * halves of a head. Shared by the reference forward pass and the DJL engine so both use identical angles.
 */
public final class RopeTables {
  private final float[][] cos; // (position, headDim/2)
  private final float[][] sin; // (position, headDim/2)

  public RopeTables(LlamaConfig config) {
    int half = config.headDim() / 2;
    double[] invFreq = new double[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
    }
    if (config.ropeScaling() != null) {
      invFreq = config.ropeScaling().apply(invFreq);
    }
    int positions = config.maxPositions();
    cos = new float[positions][half];
    sin = new float[positions][half];
    for (int p = 0; p < positions; p++) {
      for (int i = 0; i < half; i++) {
        // Hugging Face computes the angle in float32: position * inv_freq, both float32.
        float angle = (float) p * (float) invFreq[i];
        cos[p][i] = (float) Math.cos(angle);
        sin[p][i] = (float) Math.sin(angle);
      }
    }
  }

  public float[] cos(int position) {
    return cos[position];
  }

  public float[] sin(int position) {
    return sin[position];
  }

  /** All cosines, row-major (position, headDim/2), for upload as one tensor. */
  public float[] flatCos() {
    return flatten(cos);
  }

  /** All sines, row-major (position, headDim/2). */
  public float[] flatSin() {
    return flatten(sin);
  }

  private static float[] flatten(float[][] rows) {
    float[] out = new float[rows.length * rows[0].length];
    for (int p = 0; p < rows.length; p++) {
      System.arraycopy(rows[p], 0, out, p * rows[0].length, rows[0].length);
    }
    return out;
  }

  public int positions() {
    return cos.length;
  }

  public int half() {
    return cos[0].length;
  }
}
