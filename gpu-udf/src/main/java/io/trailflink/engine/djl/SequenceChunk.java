package io.trailflink.engine.djl;

/**
 * One sequence's part of a forward pass: {@code newTokens} fed at positions {@code cached .. cached+n-1}, whose
 * keys and values are written to {@code slots[cached .. cached+n-1]}; attention reads {@code slots[0 .. cached+n-1]}.
 *
 * @param cached tokens already in the KV cache (positions 0..cached-1)
 * @param newTokens token ids to feed now (at least one)
 * @param slots KV slot of every position, at least {@code cached + newTokens.length} entries
 */
public record SequenceChunk(int cached, int[] newTokens, int[] slots) {
  public SequenceChunk {
    if (newTokens.length == 0) {
      throw new IllegalArgumentException("a chunk feeds at least one token");
    }
    if (slots.length < cached + newTokens.length) {
      throw new IllegalArgumentException(
          "slot table covers " + slots.length + " positions, chunk needs " + (cached + newTokens.length));
    }
  }

  public int length() {
    return cached + newTokens.length;
  }
}
