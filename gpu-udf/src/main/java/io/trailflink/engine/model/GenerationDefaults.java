package io.trailflink.engine.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.engine.SamplingParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code generation_config.json} contributes, read as Hugging Face's {@code GenerationConfig} reads it: the
 * end-of-sequence ids (a list or one id; they override config.json's) and the sampling defaults a request without
 * its own sampling gets — greedy unless {@code do_sample}; when sampling, {@code temperature} 1, {@code top_p} 1 and
 * {@code top_k} 50 unless given; {@code repetition_penalty} 1 (it applies to greedy decoding too).
 *
 * @param eosTokenIds tokens that end an answer
 * @param doSample sample rather than take the argmax
 * @param temperature softmax temperature when sampling
 * @param topP nucleus mass when sampling
 * @param topK most likely tokens kept when sampling (0 = all)
 * @param repetitionPenalty penalty on tokens already seen (1 = off)
 */
public record GenerationDefaults(List<Integer> eosTokenIds, boolean doSample, double temperature, double topP,
    int topK, double repetitionPenalty) {
  public static final String FILE = "generation_config.json";

  public GenerationDefaults {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** Greedy decoding with the given EOS ids: what a checkpoint without generation_config.json gets. */
  public static GenerationDefaults greedy(List<Integer> eosTokenIds) {
    return new GenerationDefaults(eosTokenIds, false, 1.0, 1.0, 50, 1.0);
  }

  /** Reads {@code dir/generation_config.json} if present; otherwise greedy with config.json's EOS ids. */
  public static GenerationDefaults load(Path dir, LlamaConfig config) {
    Path file = dir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return greedy(config.eosTokenIds());
    }
    try {
      JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      List<Integer> eos = LlamaConfig.parseTokenIds(json.get("eos_token_id"));
      GenerationDefaults g = new GenerationDefaults(eos.isEmpty() ? config.eosTokenIds() : eos,
          bool(json.get("do_sample"), false), number(json.get("temperature"), 1.0), number(json.get("top_p"), 1.0),
          (int) number(json.get("top_k"), 50), number(json.get("repetition_penalty"), 1.0));
      g.sampling(0); // values out of range are refused here, naming the file
      return g;
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(file + ": unusable (" + e.getMessage() + ")", e);
    }
  }

  /** The sampling a request without its own gets, with its seed. */
  public SamplingParams sampling(long seed) {
    return doSample ? new SamplingParams(temperature, topP, seed, topK, repetitionPenalty)
        : new SamplingParams(0, 1, seed, 0, repetitionPenalty);
  }

  private static double number(JsonElement e, double otherwise) {
    return e == null || e.isJsonNull() ? otherwise : e.getAsDouble();
  }

  private static boolean bool(JsonElement e, boolean otherwise) {
    return e == null || e.isJsonNull() ? otherwise : e.getAsBoolean();
  }
}
