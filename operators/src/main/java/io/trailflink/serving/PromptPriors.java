package io.trailflink.serving;

import io.trailflink.predictor.PromptPrior;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompt priors this JVM has loaded, by directory: each engine loop asks for its configuration's prior by
 * name instead of holding it, so the loop's state copies and checkpoints never carry the weights (640 KB). The job
 * checks the prior when it is built; a TaskManager that cannot read it serves without one (a warning, once)
 * rather than failing every request.
 */
final class PromptPriors {
  private static final Logger LOG = LoggerFactory.getLogger(PromptPriors.class);
  private static final Map<String, Optional<PromptPrior>> LOADED = new ConcurrentHashMap<>();

  private PromptPriors() {}

  /** The prior in {@code dir}, loaded on first use; null when it cannot be read here. */
  static PromptPrior of(String dir) {
    return LOADED.computeIfAbsent(dir, d -> {
      try {
        return Optional.of(PromptPrior.load(Path.of(d)));
      } catch (IllegalArgumentException e) {
        LOG.warn("no prompt prior on this TaskManager ({}): waiting requests rank at their max_new_tokens",
            e.getMessage());
        return Optional.empty();
      }
    }).orElse(null);
  }
}
