package io.trailflink.serving;

import io.trailflink.predictor.PromptPrior;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The prompt priors this JVM has loaded, by directory: each engine loop asks for its configuration's prior by
 * name instead of holding it, so the loop's state copies and checkpoints never carry the weights (640 KB).
 */
final class PromptPriors {
  private static final Map<String, PromptPrior> LOADED = new ConcurrentHashMap<>();

  private PromptPriors() {}

  /** The prior in {@code dir}, loaded on first use; a bad directory fails with the loader's one-line reason. */
  static PromptPrior of(String dir) {
    return LOADED.computeIfAbsent(dir, d -> PromptPrior.load(Path.of(d)));
  }
}
