package io.trailflink.engine.model;

/**
 * RoPE frequency scaling: Llama-3 style ({@code rope_scaling} with {@code rope_type: llama3}), or linear (position
 * interpolation: every inverse frequency divided by {@code factor}; the band fields unused).
 *
 * @param factor scale applied to low frequencies
 * @param lowFreqFactor wavelength threshold factor for the low-frequency band
 * @param highFreqFactor wavelength threshold factor for the high-frequency band
 * @param originalMaxPositions context length the base model was trained with (tokens)
 * @param linear true for linear scaling
 */
public record RopeScaling(
    double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions, boolean linear) {

  /** Llama-3 style. */
  public RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    this(factor, lowFreqFactor, highFreqFactor, originalMaxPositions, false);
  }

  /** Linear scaling by {@code factor}. */
  public static RopeScaling linear(double factor) {
    return new RopeScaling(factor, 1, 2, 1, true);
  }

  public RopeScaling {
    if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0) {
      throw new CheckpointException(
          "config.json: rope_scaling needs factor > 0, high_freq_factor > low_freq_factor > 0 and"
              + " original_max_position_embeddings > 0");
    }
  }

  /** Rescales inverse frequencies exactly as Hugging Face's {@code _compute_llama3_parameters} (or linear). */
  double[] apply(double[] invFreq) {
    if (linear) {
      double[] out = new double[invFreq.length];
      for (int i = 0; i < invFreq.length; i++) {
        out[i] = invFreq[i] / factor;
      }
      return out;
    }
    double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
    double highFreqWavelen = originalMaxPositions / highFreqFactor;
    double[] out = new double[invFreq.length];
    for (int i = 0; i < invFreq.length; i++) {
      double wavelen = 2 * Math.PI / invFreq[i];
      if (wavelen > lowFreqWavelen) {
        out[i] = invFreq[i] / factor;
      } else if (wavelen < highFreqWavelen) {
        out[i] = invFreq[i];
      } else {
        double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        out[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
      }
    }
    return out;
  }
}
