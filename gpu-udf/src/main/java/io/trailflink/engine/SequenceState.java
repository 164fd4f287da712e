package io.trailflink.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The engine's book on one request: its tokens, how many are in the KV cache, and the blocks holding them.
 *
 * <p>Invariant while resident: the KV cache holds positions {@code 0 .. kvLength-1} of {@code prompt ++ generated},
 * and the next token to feed is the last generated one ({@code kvLength == prompt + generated - 1}).
 */
final class SequenceState {
  enum Residency { RUNNING, PREEMPTED, EVICTED }

  final GenerationRequest request;
  final Sampler sampler;
  final List<Integer> blocks = new ArrayList<>();
  private int[] generated = new int[16];
  private int generatedCount;
  private int[] slots = new int[0]; // position → KV slot, for the blocks held
  int kvLength; // tokens
  Residency residency = Residency.RUNNING;
  FinishReason finish;

  SequenceState(GenerationRequest request) {
    this.request = request;
    this.sampler = new Sampler(request.sampling());
  }

  int promptLength() {
    return request.promptTokens().length;
  }

  int generatedCount() {
    return generatedCount;
  }

  /** The next token from this request's logits row, with its prompt and answer so far as the penalty's history. */
  int sampleNext(float[] logits, int offset, int vocab) {
    if (sampler.plainArgmax()) {
      return Sampler.argmax(logits, offset, vocab);
    }
    int p = promptLength();
    int[] seen = Arrays.copyOf(request.promptTokens(), p + generatedCount);
    System.arraycopy(generated, 0, seen, p, generatedCount);
    return sampler.sample(logits, offset, vocab, seen, seen.length);
  }

  int lastToken() {
    return generated[generatedCount - 1];
  }

  void append(int token) {
    if (generatedCount == generated.length) {
      generated = Arrays.copyOf(generated, generated.length * 2);
    }
    generated[generatedCount++] = token;
  }

  /** Prompt plus all generated tokens but the last: what a recompute must feed to rebuild the cache. */
  int[] recomputeTokens() {
    int p = promptLength();
    int[] all = Arrays.copyOf(request.promptTokens(), p + generatedCount - 1);
    System.arraycopy(generated, 0, all, p, generatedCount - 1);
    return all;
  }

  int[] generatedTokens() {
    return Arrays.copyOf(generated, generatedCount);
  }

  void addBlock(int block, int blockSize) {
    blocks.add(block);
    int base = slots.length;
    slots = Arrays.copyOf(slots, base + blockSize);
    for (int i = 0; i < blockSize; i++) {
      slots[base + i] = block * blockSize + i;
    }
  }

  void clearBlocks() {
    blocks.clear();
    slots = new int[0];
    kvLength = 0;
  }

  int[] slots() {
    return slots;
  }

  boolean resident() {
    return residency != Residency.EVICTED;
  }
}
