package io.trailflink.engine.model;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code generation_config.json} contributes: the end-of-sequence ids (which override config.json's).
 *
 * @param eosTokenIds tokens that end an answer
 */
public record GenerationDefaults(List<Integer> eosTokenIds) {
  public static final String FILE = "generation_config.json";

  public GenerationDefaults {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** Reads {@code dir/generation_config.json} if present; otherwise falls back to config.json's EOS ids. */
  public static GenerationDefaults load(Path dir, LlamaConfig config) {
    Path file = dir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return new GenerationDefaults(config.eosTokenIds());
    }
    try {
      JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      List<Integer> eos = LlamaConfig.parseTokenIds(json.get("eos_token_id"));
      return new GenerationDefaults(eos.isEmpty() ? config.eosTokenIds() : eos);
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(file + ": unreadable (" + e.getMessage() + ")", e);
    }
  }
}
