package io.trailflink.engine.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The architecture of a Hugging Face Llama-shaped checkpoint ({@code config.json}), validated on load.
 *
 * <p>Supported: the {@link Architecture} families Llama, Mistral and Qwen2 — RMSNorm, RoPE with {@code rope_theta}
 * and optional {@code llama3} or {@code linear} scaling, grouped-query attention, SwiGLU MLP with {@code silu}, q/k/v
 * bias for Qwen2, tied or untied LM head. A sliding window smaller than the context (Mistral, Qwen2 with
 * {@code use_sliding_window}) caps the context at the window, where full attention equals windowed attention.
 * Anything else is refused with the offending field named.
 *
 * @param vocabSize tokens in the vocabulary
 * @param hiddenSize model width
 * @param intermediateSize MLP width
 * @param numLayers decoder layers
 * @param numHeads query heads
 * @param numKvHeads key/value heads (divides numHeads)
 * @param headDim per-head width (even)
 * @param rmsNormEps RMSNorm epsilon
 * @param ropeTheta RoPE base
 * @param ropeScaling llama3 scaling, or null
 * @param maxPositions context length (tokens)
 * @param tieWordEmbeddings whether the LM head reuses the embedding matrix
 * @param bosTokenId beginning-of-sequence token, or -1
 * @param eosTokenIds end-of-sequence tokens (may be overridden by generation_config.json)
 * @param architecture the family (q/k/v bias, config names)
 */
public record LlamaConfig(
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositions,
    boolean tieWordEmbeddings,
    int bosTokenId,
    List<Integer> eosTokenIds,
    Architecture architecture) {

  /** A Llama. */
  public LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numLayers, int numHeads, int numKvHeads,
      int headDim, double rmsNormEps, double ropeTheta, RopeScaling ropeScaling, int maxPositions,
      boolean tieWordEmbeddings, int bosTokenId, List<Integer> eosTokenIds) {
    this(vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, rmsNormEps, ropeTheta,
        ropeScaling, maxPositions, tieWordEmbeddings, bosTokenId, eosTokenIds, Architecture.LLAMA);
  }

  public LlamaConfig {
    require(vocabSize > 0, "vocab_size must be > 0");
    require(hiddenSize > 0, "hidden_size must be > 0");
    require(intermediateSize > 0, "intermediate_size must be > 0");
    require(numLayers > 0, "num_hidden_layers must be > 0");
    require(numHeads > 0, "num_attention_heads must be > 0");
    require(numKvHeads > 0 && numHeads % numKvHeads == 0,
        "num_key_value_heads (" + numKvHeads + ") must divide num_attention_heads (" + numHeads + ")");
    require(headDim > 0 && headDim % 2 == 0, "head_dim must be even and > 0, got " + headDim);
    require(rmsNormEps > 0, "rms_norm_eps must be > 0");
    require(ropeTheta > 0, "rope_theta must be > 0");
    require(maxPositions > 0, "max_position_embeddings must be > 0");
    eosTokenIds = List.copyOf(eosTokenIds);
    require(architecture != null, "architecture is missing");
  }

  /** Width of the concatenated key (or value) heads. */
  public int kvDim() {
    return numKvHeads * headDim;
  }

  /** Query heads per key/value head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** Reads and validates {@code dir/config.json}. */
  public static LlamaConfig load(Path dir) {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException(file + ": missing (a Hugging Face Llama checkpoint needs config.json)");
    }
    JsonObject json;
    try {
      json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(file + ": not a JSON object (" + e.getMessage() + ")", e);
    }
    return fromJson(json, file.toString());
  }

  static LlamaConfig fromJson(JsonObject json, String source) {
    Architecture arch = Architecture.ofModelType(optString(json, "model_type", "llama"), source);
    if (json.has("architectures") && json.get("architectures").isJsonArray()) {
      for (JsonElement name : json.getAsJsonArray("architectures")) {
        arch.checkClassName(name.getAsString(), source);
      }
    }
    String act = optString(json, "hidden_act", "silu");
    if (!act.equals("silu")) {
      throw new CheckpointException(source + ": hidden_act '" + act + "' is not supported (only 'silu')");
    }
    for (String unsupported : arch.qkvBias() ? new String[] {"mlp_bias"} : new String[] {"attention_bias", "mlp_bias"}) {
      if (json.has(unsupported) && json.get(unsupported).getAsBoolean()) {
        throw new CheckpointException(source + ": " + unsupported + "=true is not supported");
      }
    }
    int hidden = reqInt(json, "hidden_size", source);
    int heads = reqInt(json, "num_attention_heads", source);
    int headDim = json.has("head_dim") && !json.get("head_dim").isJsonNull()
        ? json.get("head_dim").getAsInt() : hidden / heads;
    RopeScaling scaling = parseRopeScaling(json, source);
    List<Integer> eos = parseTokenIds(json.get("eos_token_id"));
    int maxPositions = json.has("max_position_embeddings") ? json.get("max_position_embeddings").getAsInt() : 2048;
    boolean windowed = arch == Architecture.MISTRAL
        || json.has("use_sliding_window") && json.get("use_sliding_window").getAsBoolean();
    if (windowed && json.has("sliding_window") && !json.get("sliding_window").isJsonNull()) {
      maxPositions = Math.min(maxPositions, json.get("sliding_window").getAsInt());
    }
    try {
      return new LlamaConfig(
          reqInt(json, "vocab_size", source),
          hidden,
          reqInt(json, "intermediate_size", source),
          reqInt(json, "num_hidden_layers", source),
          heads,
          json.has("num_key_value_heads") ? json.get("num_key_value_heads").getAsInt() : heads,
          headDim,
          json.has("rms_norm_eps") ? json.get("rms_norm_eps").getAsDouble() : 1e-6,
          json.has("rope_theta") ? json.get("rope_theta").getAsDouble() : 10000.0,
          scaling,
          maxPositions,
          json.has("tie_word_embeddings") && json.get("tie_word_embeddings").getAsBoolean(),
          json.has("bos_token_id") && !json.get("bos_token_id").isJsonNull()
              ? json.get("bos_token_id").getAsInt() : -1,
          eos,
          arch);
    } catch (CheckpointException e) {
      throw new CheckpointException(source + ": " + e.getMessage(), e);
    }
  }

  private static RopeScaling parseRopeScaling(JsonObject json, String source) {
    JsonElement el = json.get("rope_scaling");
    if (el == null || el.isJsonNull()) {
      return null;
    }
    JsonObject rs = el.getAsJsonObject();
    String type = rs.has("rope_type") ? rs.get("rope_type").getAsString()
        : rs.has("type") ? rs.get("type").getAsString() : "";
    if (type.equals("default")) {
      return null;
    }
    if (type.equals("linear")) {
      return RopeScaling.linear(rs.get("factor").getAsDouble());
    }
    if (!type.equals("llama3")) {
      throw new CheckpointException(source + ": rope_scaling.rope_type '" + type
          + "' is not supported (supported: default, linear, llama3)");
    }
    return new RopeScaling(
        rs.get("factor").getAsDouble(),
        rs.get("low_freq_factor").getAsDouble(),
        rs.get("high_freq_factor").getAsDouble(),
        rs.get("original_max_position_embeddings").getAsInt());
  }

  /** Token ids given as a number, an array of numbers, or absent. */
  static List<Integer> parseTokenIds(JsonElement el) {
    List<Integer> ids = new ArrayList<>();
    if (el == null || el.isJsonNull()) {
      return ids;
    }
    if (el.isJsonArray()) {
      el.getAsJsonArray().forEach(e -> ids.add(e.getAsInt()));
    } else {
      ids.add(el.getAsInt());
    }
    return ids;
  }

  private static int reqInt(JsonObject json, String field, String source) {
    if (!json.has(field) || json.get(field).isJsonNull()) {
      throw new CheckpointException(source + ": required field '" + field + "' is missing");
    }
    return json.get(field).getAsInt();
  }

  private static String optString(JsonObject json, String field, String fallback) {
    return json.has(field) && !json.get(field).isJsonNull()
        ? json.get(field).getAsString().toLowerCase(Locale.ROOT) : fallback;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new CheckpointException(message);
    }
  }

  /** The config as Hugging Face writes it, for checkpoints this project saves. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    com.google.gson.JsonArray arch = new com.google.gson.JsonArray();
    arch.add(architecture.className());
    o.add("architectures", arch);
    o.addProperty("model_type", architecture.modelType());
    o.addProperty("hidden_act", "silu");
    o.addProperty("vocab_size", vocabSize);
    o.addProperty("hidden_size", hiddenSize);
    o.addProperty("intermediate_size", intermediateSize);
    o.addProperty("num_hidden_layers", numLayers);
    o.addProperty("num_attention_heads", numHeads);
    o.addProperty("num_key_value_heads", numKvHeads);
    o.addProperty("head_dim", headDim);
    o.addProperty("rms_norm_eps", rmsNormEps);
    o.addProperty("rope_theta", ropeTheta);
    if (ropeScaling != null && ropeScaling.linear()) {
      JsonObject rs = new JsonObject();
      rs.addProperty("rope_type", "linear");
      rs.addProperty("factor", ropeScaling.factor());
      o.add("rope_scaling", rs);
    } else if (ropeScaling != null) {
      JsonObject rs = new JsonObject();
      rs.addProperty("rope_type", "llama3");
      rs.addProperty("factor", ropeScaling.factor());
      rs.addProperty("low_freq_factor", ropeScaling.lowFreqFactor());
      rs.addProperty("high_freq_factor", ropeScaling.highFreqFactor());
      rs.addProperty("original_max_position_embeddings", ropeScaling.originalMaxPositions());
      o.add("rope_scaling", rs);
    }
    o.addProperty("max_position_embeddings", maxPositions);
    o.addProperty("tie_word_embeddings", tieWordEmbeddings);
    if (architecture == Architecture.LLAMA) {
      o.addProperty("attention_bias", false);
      o.addProperty("mlp_bias", false);
    }
    if (bosTokenId >= 0) {
      o.addProperty("bos_token_id", bosTokenId);
    }
    if (eosTokenIds.size() == 1) {
      o.addProperty("eos_token_id", eosTokenIds.get(0));
    } else if (!eosTokenIds.isEmpty()) {
      com.google.gson.JsonArray eos = new com.google.gson.JsonArray();
      eosTokenIds.forEach(eos::add);
      o.add("eos_token_id", eos);
    }
    o.addProperty("torch_dtype", "float32");
    return o;
  }
}
