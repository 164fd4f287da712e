package io.trailflink.engine;

import io.trailflink.engine.text.TextCodec;
import java.util.Arrays;
import java.util.List;

/**
 * Streams a request's text: the delta is the decoded text of all tokens so far minus what was already emitted,
 * holding back a trailing replacement character (a UTF-8 sequence split across tokens) until it completes, and an
 * end that may still grow into a stop string. The text ends where a stop string begins (the stop string and what
 * follows are never emitted).
 */
public final class TextStream {
  private final TextCodec codec;
  private final List<String> stop;
  private int[] ids;
  private int count;
  private int emitted; // chars of the decoded text already emitted
  private boolean stopped; // a stop string was reached: nothing more is emitted

  /**
   * @param history tokens already generated: their text counts as emitted as far as a stream of them would have
   *     emitted it (a split character or a possible stop-string start at their end is still to come)
   * @param codec the tokenizer, or null for no text
   * @param stop stop strings (empty for none)
   */
  public TextStream(int[] history, TextCodec codec, List<String> stop) {
    this.codec = codec;
    this.stop = stop;
    this.ids = Arrays.copyOf(history, Math.max(16, history.length * 2));
    this.count = history.length;
    if (codec != null && history.length > 0) {
      String all = codec.decode(history);
      int at = StopStrings.firstMatch(all, stop);
      this.stopped = at >= 0;
      this.emitted = stopped ? at : releasable(all);
    }
  }

  /** How much of {@code all} a stream may emit before the request ends: not a split character, not a stop's start. */
  private int releasable(String all) {
    int end = all.length();
    while (end > 0 && all.charAt(end - 1) == '\uFFFD') {
      end--;
    }
    return end - StopStrings.pendingSuffix(all.substring(0, end), stop);
  }

  /** The new text after {@code tokens}; {@code last}: the request ends with them (nothing is held back). */
  public String append(int[] tokens, boolean last) {
    if (codec == null || stopped) {
      return "";
    }
    if (count + tokens.length > ids.length) {
      ids = Arrays.copyOf(ids, Math.max(ids.length * 2, count + tokens.length));
    }
    System.arraycopy(tokens, 0, ids, count, tokens.length);
    count += tokens.length;
    String all = codec.decode(Arrays.copyOf(ids, count));
    int at = StopStrings.firstMatch(all, stop);
    int end;
    if (at >= 0) {
      stopped = true;
      end = at; // everything before the stop string, split characters included: nothing follows
    } else {
      end = last ? all.length() : releasable(all);
    }
    if (end <= emitted) {
      return "";
    }
    String delta = all.substring(emitted, end);
    emitted = end;
    return delta;
  }
}
