package io.trailflink.scheduler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-tenant numbers as users write them: on the command line {@code NAME:NUMBER,NAME:NUMBER}, in a file one
 * {@code NAME = NUMBER} (or {@code NAME: NUMBER}) per line, {@code #} starting a comment. Every number must be
 * positive; errors name the entry (and the file and line).
 */
public final class TenantWeights {
  private TenantWeights() {}

  /** Parses {@code NAME:NUMBER,...}. */
  public static Map<String, Double> parse(String spec) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String part : spec.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int colon = part.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("'" + part.strip() + "' is not NAME:NUMBER");
      }
      put(out, part.substring(0, colon).strip(), part.substring(colon + 1).strip(), "'" + part.strip() + "'");
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no NAME:NUMBER entries in '" + spec + "'");
    }
    return out;
  }

  /** Reads a weights file: {@code NAME = NUMBER} per line. */
  public static Map<String, Double> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).replaceFirst("#.*", "").strip();
      if (line.isEmpty()) {
        continue;
      }
      int sep = Math.max(line.lastIndexOf('='), line.lastIndexOf(':'));
      String where = file + ":" + (i + 1);
      if (sep <= 0) {
        throw new IllegalArgumentException(where + ": expected NAME = WEIGHT, got '" + line + "'");
      }
      put(out, line.substring(0, sep).strip(), line.substring(sep + 1).strip(), where);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no NAME = WEIGHT lines");
    }
    return out;
  }

  private static void put(Map<String, Double> out, String name, String number, String where) {
    double v;
    try {
      v = Double.parseDouble(number);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(where + ": '" + number + "' is not a number");
    }
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(where + ": must be > 0, got " + number);
    }
    if (out.put(name, v) != null) {
      throw new IllegalArgumentException(where + ": tenant '" + name + "' given twice");
    }
  }
}
