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

  static Batch pad(List<Sequence> rows) {
    int cols = 0;
    for (Sequence s : rows) {
      cols = Math.max(cols, s.tokens().length - 1);
    }
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
