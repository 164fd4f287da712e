package io.trailflink.engine.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face Llama-format checkpoint directory: config, weights, generation defaults and tokenizer path.
 *
 * @param dir the directory
 * @param config architecture from config.json
 * @param weights validated tensors
 * @param generation generation_config.json: EOS ids (they win over config.json's) and default sampling
 */
public record Checkpoint(Path dir, LlamaConfig config, LlamaWeights weights, GenerationDefaults generation) {
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** Loads and validates everything but the tokenizer (which {@link #tokenizerFile()} locates). */
  public static Checkpoint load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new CheckpointException(dir + ": not a directory");
    }
    LlamaConfig config = LlamaConfig.load(dir);
    LlamaWeights weights = new LlamaWeights(config, SafeTensors.indexCheckpoint(dir), dir.toString());
    GenerationDefaults gen = GenerationDefaults.load(dir, config);
    return new Checkpoint(dir, config, weights, gen);
  }

  /** Tokens that end an answer. */
  public List<Integer> eosTokenIds() {
    return generation.eosTokenIds();
  }

  /** {@code tokenizer.json}; refused with the path when absent. */
  public Path tokenizerFile() {
    Path file = dir.resolve(TOKENIZER_FILE);
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException(file + ": missing (needed to turn text into tokens)");
    }
    return file;
  }
}
