package io.trailflink.engine.train;

import io.trailflink.engine.text.TextCodec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Tokenised examples grouped into padded batches of similar length (at most {@code tokensPerBatch} padded tokens
 * each), in a seeded order per epoch. The loss covers the answer and its EOS, never the prompt.
 */
final class TrainingBatches {
  /** One example: {@code tokens = prompt ++ answer ++ [eos]}, loss on positions ≥ promptLength. */
  record Sequence(int[] tokens, int promptLength) {}

  /** A padded batch: inputs and targets (B, T), loss weights (B, T), real answer tokens in it. */
  record Batch(long[] inputs, long[] targets, float[] weights, int rows, int cols, int answerTokens) {}

  final List<List<Sequence>> batches = new ArrayList<>();
  final int dropped; // examples longer than the sequence cap
  final long tokens; // real tokens per epoch

  TrainingBatches(List<Example> examples, TextCodec codec, int eosId, int maxSeqLen, int tokensPerBatch) {
    List<Sequence> seqs = new ArrayList<>();
    int drop = 0;
    long total = 0;
    for (Example e : examples) {
      int[] prompt = codec.encode(PromptTemplate.prompt(e.prompt()));
      int[] answer = codec.encode(e.answer());
      int n = prompt.length + answer.length + 1;
      if (n > maxSeqLen) {
        drop++;
        continue;
      }
      int[] all = new int[n];
      System.arraycopy(prompt, 0, all, 0, prompt.length);
      System.arraycopy(answer, 0, all, prompt.length, answer.length);
      all[n - 1] = eosId;
      seqs.add(new Sequence(all, prompt.length));
      total += n;
    }
    seqs.sort(Comparator.comparingInt(s -> s.tokens().length));
    List<Sequence> current = new ArrayList<>();
    for (Sequence s : seqs) {
      int width = s.tokens().length - 1;
      if (!current.isEmpty() && (current.size() + 1) * width > tokensPerBatch) {
        batches.add(current);
        current = new ArrayList<>();
      }
      current.add(s);
    }
    if (!current.isEmpty()) {
      batches.add(current);
    }
    dropped = drop;
    tokens = total;
  }

  /** Batch order of an epoch (seeded by epoch, so a resumed run sees the same order). */
  List<Integer> order(long seed, int epoch) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      idx.add(i);
    }
    Collections.shuffle(idx, new Random(seed * 31 + epoch));
    return idx;
  }

  /**
   * Candidates of the token-level unlikelihood loss (Welleck et al., "Neural Text Generation with Unlikelihood
   * Training", ICLR 2020) as flat indices {@code position * vocab + token} into the (rows × cols, vocab) logits of
   * {@link #pad}'s layout: at every answer position, the token ids that occurred earlier in the same answer, except
   * the position's own target. Penalising them teaches the model not to fall back on what it already said — the
   * greedy loops of a small model — while repeating that the data asks for (the target itself) is never penalised.
   * Prompt tokens are no candidates: answers copy names and numbers from the prompt.
   */
  static long[] earlierAnswerTokens(List<Sequence> rows, int vocab) {
    int cols = width(rows);
    long[] out = new long[1024];
    int size = 0;
    int[] distinct = new int[cols + 1];
    boolean[] seen = new boolean[vocab];
    for (int r = 0; r < rows.size(); r++) {
      int[] t = rows.get(r).tokens();
      int start = Math.max(rows.get(r).promptLength(), 1); // first answer token's position is start - 1
      int n = 0;
      for (int i = start - 1; i + 1 < t.length; i++) {
        long base = (long) (r * cols + i) * vocab;
        int target = t[i + 1];
        for (int j = 0; j < n; j++) {
          if (distinct[j] != target) {
            if (size == out.length) {
              out = java.util.Arrays.copyOf(out, 2 * size);
            }
            out[size++] = base + distinct[j];
          }
        }
        if (!seen[target]) {
          seen[target] = true;
          distinct[n++] = target;
        }
      }
      for (int j = 0; j < n; j++) {
        seen[distinct[j]] = false;
      }
    }
    return java.util.Arrays.copyOf(out, size);
  }

  /** Padded width of a batch: its longest sequence less one (inputs and targets are shifted by one). */
  private static int width(List<Sequence> rows) {
    int cols = 0;
    for (Sequence s : rows) {
      cols = Math.max(cols, s.tokens().length - 1);
    }
    return cols;
  }

  static Batch pad(List<Sequence> rows) {
    int cols = width(rows);
    long[] in = new long[rows.size() * cols];
    long[] tg = new long[in.length];
    float[] w = new float[in.length];
    int answer = 0;
    for (int r = 0; r < rows.size(); r++) {
      int[] t = rows.get(r).tokens();
      for (int i = 0; i + 1 < t.length; i++) {
        in[r * cols + i] = t[i];
        tg[r * cols + i] = t[i + 1];
        if (i + 1 >= rows.get(r).promptLength()) {
          w[r * cols + i] = 1f;
          answer++;
        }
      }
    }
    return new Batch(in, tg, w, rows.size(), cols, answer);
  }
}
