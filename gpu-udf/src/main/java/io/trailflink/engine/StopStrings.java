package io.trailflink.engine;

import io.trailflink.engine.text.TextCodec;
import java.util.List;

/**
 * A request's stop strings against the text of its answer so far: where the first one begins, if any. Used by the
 * engine to end the request with the token that completes a stop string, and by the text stream to cut the answer
 * there (the stop string itself is not part of the answer, as in vLLM and the OpenAI API).
 */
public final class StopStrings {
  private StopStrings() {}

  /** The index in {@code text} where the earliest stop string begins, or -1. */
  public static int firstMatch(String text, List<String> stop) {
    int best = -1;
    for (String s : stop) {
      int i = text.indexOf(s);
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
      }
    }
    return best;
  }

  /**
   * Length of the longest end of {@code text} that could still grow into a stop string (a proper prefix of one):
   * a stream holds it back until the next tokens tell.
   */
  public static int pendingSuffix(String text, List<String> stop) {
    int longest = 0;
    for (String s : stop) {
      for (int n = Math.min(s.length() - 1, text.length()); n > longest; n--) {
        if (text.regionMatches(text.length() - n, s, 0, n)) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }

  /** Whether the decoded answer {@code generated} contains a stop string. */
  static boolean reached(TextCodec codec, int[] generated, List<String> stop) {
    return firstMatch(codec.decode(generated), stop) >= 0;
  }
}
