package io.trailflink.predictor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.TreeSet;

/**
 * Fingerprints of the prompts a model was trained on, in a file next to it (one truncated SHA-256 per line, no
 * prompt text): the TRAIL predictor's ({@value #PREDICTOR_FILE}) and the prompt prior's ({@value #PRIOR_FILE}). An
 * evaluation refuses to score a model on prompts it has seen, and a benchmark says how many of its prompts were.
 */
public final class TrainingPrompts {
  public static final String PREDICTOR_FILE = "training-prompts.txt";
  public static final String PRIOR_FILE = "prompt-prior-training-prompts.txt";
  private static final int HEX_CHARS = 16; // 64 bits: collisions among thousands of prompts are negligible

  private TrainingPrompts() {}

  /**
   * A prompt's fingerprint: the first 64 bits of the SHA-256 of its UTF-8 text with leading and trailing whitespace
   * removed (collect-states stores prompts stripped; workloads and batch rows keep them as written), in hex.
   */
  public static String fingerprint(String prompt) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(prompt.strip().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h).substring(0, HEX_CHARS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Writes the fingerprints of {@code prompts} (sorted, distinct) into {@code dir/file}. */
  public static void write(Path dir, String file, Collection<String> prompts) {
    Set<String> lines = new TreeSet<>();
    prompts.forEach(p -> lines.add(fingerprint(p)));
    try {
      Files.write(dir.resolve(file), lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The fingerprints listed in {@code dir/file}, or null when there is no list (a model trained before lists). */
  public static Set<String> read(Path dir, String file) {
    Path f = dir.resolve(file);
    if (!Files.isRegularFile(f)) {
      return null;
    }
    try {
      Set<String> out = new HashSet<>();
      for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          out.add(line.strip());
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How many of {@code prompts} the list in {@code dir/file} holds; -1 without a list. */
  public static long seen(Path dir, String file, Collection<String> prompts) {
    Set<String> trained = read(dir, file);
    return trained == null ? -1 : prompts.stream().filter(p -> trained.contains(fingerprint(p))).count();
  }
}
