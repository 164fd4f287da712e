package io.trailflink.job;

import java.util.ArrayList;
import java.util.List;

/**
 * A SQL file as statements: split at semicolons outside quotes, identifiers in backticks and comments, with
 * {@code --} line comments and blank statements dropped — as Flink's SQL client reads a file given with {@code -f}.
 */
public final class SqlScript {
  private SqlScript() {}

  /** The statements of {@code sql}, each without its semicolon. */
  public static List<String> statements(String sql) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0; // ' or ` while inside one
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (quote != 0) {
        cur.append(c);
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '-' && i + 1 < sql.length() && sql.charAt(i + 1) == '-') {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? sql.length() : end - 1; // keep the newline
      } else if (c == ';') {
        add(out, cur);
      } else {
        if (c == '\'' || c == '`') {
          quote = c;
        }
        cur.append(c);
      }
    }
    add(out, cur);
    return out;
  }

  private static void add(List<String> out, StringBuilder cur) {
    String s = cur.toString().strip();
    if (!s.isEmpty()) {
      out.add(s);
    }
    cur.setLength(0);
  }
}
