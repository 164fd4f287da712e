package io.trailflink.cli;

/**
 * A status line on stderr for long work. On a terminal it is redrawn in place (carriage return, then ESC[K to clear
 * what a longer earlier state left); written to a file or a pipe, each state shown is a line of its own, at most one
 * every 10 s, so a log stays readable and log lines are never glued to a progress line. The
 * launcher says whether stderr is a terminal ({@code -Dtrail.stderr.terminal}).
 */
final class ProgressLine {
  private static final boolean TERMINAL = Boolean.getBoolean("trail.stderr.terminal");

  private static final long FILE_INTERVAL_MS = 10_000; // least time between two lines when not on a terminal
  private long lastFileLineMs = Long.MIN_VALUE / 2; // when a state was last written as a line (epoch ms)

  /** Shows the current state. */
  void show(String text) {
    if (TERMINAL) {
      System.err.print("\r" + text + "\u001b[K");
      return;
    }
    long now = System.currentTimeMillis();
    if (now - lastFileLineMs >= FILE_INTERVAL_MS) {
      System.err.println(text);
      lastFileLineMs = now;
    }
  }

  /** Ends a line {@link #show} left open on a terminal (in a file every state is a line already). */
  void end() {
    if (TERMINAL) {
      System.err.println();
    }
  }

  /** Shows the final state, always, and ends the line. */
  void done(String text) {
    System.err.println(TERMINAL ? "\r" + text + "\u001b[K" : text);
  }
}
