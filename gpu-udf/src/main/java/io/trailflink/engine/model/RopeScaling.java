package io.trailflink.engine.model;

/**
 * Llama-3 style RoPE frequency scaling ({@code rope_scaling} with {@code rope_type: llama3}).
 *
 * @param factor scale applied to low frequencies
 * @param lowFreqFactor wavelength threshold factor for the low-frequency band
 * @param highFreqFactor wavelength threshold factor for the high-frequency band
 * @param originalMaxPositions context length the base model was trained with (tokens)
 */
public record RopeScaling(
    double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

  public RopeScaling {
    if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0) {
      throw new CheckpointException(
          "config.json: rope_scaling needs factor > 0, high_freq_factor > low_freq_factor > 0 and"
              + " original_max_position_embeddings > 0");
    }
  }

  /** Rescales inverse frequencies exactly as Hugging Face's {@code _compute_llama3_parameters}. */
  double[] apply(double[] invFreq) {
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
