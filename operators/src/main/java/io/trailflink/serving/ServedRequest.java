package io.trailflink.serving;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/** What the serving side keeps about one in-flight request beyond the scheduler's view: tokens, text, timings. */
final class ServedRequest implements Serializable {
  private static final long serialVersionUID = 1L;

  final ValidatedRequest request;
  private int[] generated = new int[32];
  int generatedCount; // tokens
  final StringBuilder text = new StringBuilder();
  long firstAdmittedAtMs = -1; // epoch ms
  long firstTokenAtMs = -1; // epoch ms
  /** Whether the engine holds this request's KV (false after an eviction or an engine restart). */
  boolean kvResident;
  /** Whether the engine knows this request at all (false before admission and after an engine restart). */
  boolean inEngine;
  /** Whether its prompt was sent to be embedded for the initial prediction (once, while waiting). */
  boolean probed;
  /** 90th percentile of its remaining output from the predictor's last bins (tokens); null when none. */
  Double predictedP90;
  /** Its 1-based place among the engine's arrivals: the seed of its synthetic prediction error. */
  final int arrivalNumber;

  ServedRequest(ValidatedRequest request, int arrivalNumber) {
    this.request = request;
    this.arrivalNumber = arrivalNumber;
  }

  void append(List<Integer> tokens, String delta) {
    if (generatedCount + tokens.size() > generated.length) {
      generated = Arrays.copyOf(generated, Math.max(generated.length * 2, generatedCount + tokens.size()));
    }
    for (int t : tokens) {
      generated[generatedCount++] = t;
    }
    text.append(delta);
  }

  List<Integer> generatedTokens() {
    return Arrays.stream(generated, 0, generatedCount).boxed().toList();
  }
}
