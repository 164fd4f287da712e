package io.trailflink.engine.text;

/** Python's string whitespace, so that templates strip exactly what Jinja2 strips. */
public final class PythonText {
  private PythonText() {}

  /** Python's {@code str.isspace()} for one character. */
  public static boolean isSpace(char c) {
    return (c >= '\t' && c <= '\r') || (c >= '\u001c' && c <= ' ') || c == '\u0085' || c == '\u00a0'
        || c == '\u1680' || (c >= '\u2000' && c <= '\u200a') || c == '\u2028' || c == '\u2029' || c == '\u202f'
        || c == '\u205f' || c == '\u3000';
  }

  /** Python's {@code str.strip()}. */
  public static String strip(String s) {
    return strip(s, true, true);
  }

  /** Python's {@code str.strip()}, {@code lstrip()} ({@code left} only) or {@code rstrip()} ({@code right} only). */
  public static String strip(String s, boolean left, boolean right) {
    int start = 0;
    int end = s.length();
    while (left && start < end && isSpace(s.charAt(start))) {
      start++;
    }
    while (right && end > start && isSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }
}
