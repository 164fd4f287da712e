package io.trailflink.engine.djl;

import java.util.Arrays;
import java.util.List;

/**
 * Index arrays that let one padded tensor program run sequences of different cached and new lengths together.
 *
 * <p>Shapes: B sequences, T = longest new-token count, S = longest total length. Padding positions feed token 0 at
 * position 0, are never written to the cache, and attend only to their own sequence's valid keys (no NaNs).
 */
final class RaggedBatch {
  final int batch; // B
  final int newLen; // T
  final int keyLen; // S
  final long[] tokens; // (B, T)
  final long[] positions; // (B, T)
  final long[] validFlat; // indices b*T+t of real new tokens
  final long[] writeSlots; // KV slot of each entry of validFlat
  final long[] keySlots; // (B, S): KV slot of key position j of sequence b (0 when j is padding)
  final float[] mask; // (B, T, S): 0 where attention is allowed, -inf elsewhere
  final long[] lastFlat; // (B): index b*T + n_b - 1 of each sequence's last new token
  final float[] meanWeights; // (B, T): 1/n_b on real new tokens, 0 on padding

  RaggedBatch(List<SequenceChunk> chunks) {
    batch = chunks.size();
    int t = 0;
    int s = 0;
    int valid = 0;
    for (SequenceChunk c : chunks) {
      t = Math.max(t, c.newTokens().length);
      s = Math.max(s, c.length());
      valid += c.newTokens().length;
    }
    newLen = t;
    keyLen = s;
    tokens = new long[batch * t];
    positions = new long[batch * t];
    validFlat = new long[valid];
    writeSlots = new long[valid];
    keySlots = new long[batch * s];
    mask = new float[batch * t * s];
    lastFlat = new long[batch];
    meanWeights = new float[batch * t];
    Arrays.fill(mask, Float.NEGATIVE_INFINITY);
    int v = 0;
    for (int b = 0; b < batch; b++) {
      SequenceChunk c = chunks.get(b);
      int n = c.newTokens().length;
      int total = c.length();
      for (int j = 0; j < total; j++) {
        keySlots[b * s + j] = c.slots()[j];
      }
      for (int i = 0; i < t; i++) {
        int flat = b * t + i;
        boolean real = i < n;
        tokens[flat] = real ? c.newTokens()[i] : 0;
        positions[flat] = real ? c.cached() + i : 0;
        int visible = real ? c.cached() + i + 1 : total; // causal for real rows; padding rows see everything valid
        for (int j = 0; j < visible; j++) {
          mask[(flat) * s + j] = 0f;
        }
        if (real) {
          validFlat[v] = flat;
          writeSlots[v] = c.slots()[c.cached() + i];
          v++;
          meanWeights[flat] = 1f / n;
        }
      }
      lastFlat[b] = (long) b * t + n - 1;
    }
  }
}
