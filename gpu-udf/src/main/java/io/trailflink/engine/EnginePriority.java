package io.trailflink.engine;

import java.io.Serializable;

/**
 * The CPU priority a CPU engine's decode thread gives itself (the {@code --engine-nice} flag): unchanged, a nice
 * value 1–19, or {@code idle} (Linux SCHED_IDLE). Ignored on a GPU, where the decode thread mostly waits for the
 * device.
 *
 * @param nice nice value 1–19, or 0 for none
 * @param idle whether the thread moves to SCHED_IDLE (then {@code nice} is 0)
 */
public record EnginePriority(int nice, boolean idle) implements Serializable {
  public static final EnginePriority UNCHANGED = new EnginePriority(0, false);
  public static final EnginePriority IDLE = new EnginePriority(0, true);

  public EnginePriority {
    if (nice < 0 || nice > 19 || (idle && nice != 0)) {
      throw new IllegalArgumentException("engine priority: nice value must be in 0..19 (0 with idle), got " + nice);
    }
  }

  /** Parses {@code idle} or a nice value {@code 0}–{@code 19}; anything else is refused with a message naming it. */
  public static EnginePriority parse(String text) {
    String s = text.trim();
    if (s.equalsIgnoreCase("idle")) {
      return IDLE;
    }
    try {
      int n = Integer.parseInt(s);
      if (n >= 0 && n <= 19) {
        return new EnginePriority(n, false);
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException("'" + text + "' is not a nice value 0-19 or 'idle'");
  }

  /** Applies this priority to the calling thread; returns whether anything changed. */
  public boolean applyToCurrentThread() {
    if (idle) {
      return ThreadPriority.becomeIdle();
    }
    return nice > 0 && ThreadPriority.lowerNice(nice);
  }

  @Override
  public String toString() {
    return idle ? "idle" : Integer.toString(nice);
  }
}
