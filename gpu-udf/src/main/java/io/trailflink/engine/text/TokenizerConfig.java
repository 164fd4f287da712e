package io.trailflink.engine.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.engine.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * What a checkpoint's {@code tokenizer_config.json} (and {@code chat_template.jinja}) say about feeding text, as
 * Hugging Face {@code transformers} reads them.
 *
 * @param tokenizerClass e.g. {@code LlamaTokenizerFast}, {@code PreTrainedTokenizerFast}; empty when not given
 * @param bosToken the beginning-of-sequence token's text, or null
 * @param eosToken the end-of-sequence token's text, or null
 * @param addBosToken {@code add_bos_token}, or null when the file does not say
 * @param addEosToken {@code add_eos_token}, or null when the file does not say
 * @param chatTemplate the Jinja chat template ({@code chat_template.jinja} wins over the JSON field), or null
 */
public record TokenizerConfig(String tokenizerClass, String bosToken, String eosToken, Boolean addBosToken,
    Boolean addEosToken, String chatTemplate) {
  public static final String FILE = "tokenizer_config.json";
  public static final String TEMPLATE_FILE = "chat_template.jinja";

  /**
   * Tokenizer classes whose fast implementation rebuilds the post-processor from {@code add_bos_token} /
   * {@code add_eos_token} when it loads (defaults: BOS yes, EOS no), whatever {@code tokenizer.json} says.
   */
  private static final Set<String> FLAG_DRIVEN = Set.of("LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer",
      "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast");

  /** None of the files: the tokenizer's own post-processor decides, no chat template. */
  public static final TokenizerConfig NONE = new TokenizerConfig("", null, null, null, null, null);

  public static TokenizerConfig load(Path dir) {
    Path file = dir.resolve(FILE);
    TokenizerConfig c = NONE;
    if (Files.isRegularFile(file)) {
      try {
        c = parse(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
      } catch (IOException | RuntimeException e) {
        throw new CheckpointException(file + ": unreadable (" + e.getMessage() + ")", e);
      }
    }
    Path template = dir.resolve(TEMPLATE_FILE);
    if (Files.isRegularFile(template)) {
      try {
        c = c.withChatTemplate(Files.readString(template));
      } catch (IOException e) {
        throw new CheckpointException(template + ": unreadable (" + e.getMessage() + ")", e);
      }
    }
    return c;
  }

  static TokenizerConfig parse(JsonObject json) {
    return new TokenizerConfig(string(json.get("tokenizer_class")), token(json.get("bos_token")),
        token(json.get("eos_token")), flag(json.get("add_bos_token")), flag(json.get("add_eos_token")),
        template(json.get("chat_template")));
  }

  public TokenizerConfig withChatTemplate(String template) {
    return new TokenizerConfig(tokenizerClass, bosToken, eosToken, addBosToken, addEosToken, template);
  }

  /**
   * Whether BOS and EOS come from the flags rather than the tokenizer's post-processor: true for the Llama-family
   * tokenizer classes, which transformers re-templates from the flags at load.
   */
  public boolean flagsDecideSpecialTokens() {
    return FLAG_DRIVEN.contains(tokenizerClass);
  }

  /** BOS before a raw prompt, when {@link #flagsDecideSpecialTokens()}. */
  public boolean bosFromFlags() {
    return addBosToken == null || addBosToken;
  }

  /** EOS after a raw prompt, when {@link #flagsDecideSpecialTokens()}. */
  public boolean eosFromFlags() {
    return addEosToken != null && addEosToken;
  }

  private static String string(JsonElement e) {
    return e == null || e.isJsonNull() ? "" : e.getAsString();
  }

  /** A special token: a string, or an AddedToken object with its {@code content}. */
  private static String token(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return null;
    }
    return e.isJsonObject() ? e.getAsJsonObject().get("content").getAsString() : e.getAsString();
  }

  private static Boolean flag(JsonElement e) {
    return e == null || e.isJsonNull() ? null : e.getAsBoolean();
  }

  /** A template string, or the one named {@code default} in a list of named templates. */
  private static String template(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (e.isJsonPrimitive()) {
      return e.getAsString();
    }
    JsonArray named = e.getAsJsonArray();
    for (JsonElement t : named) {
      JsonObject o = t.getAsJsonObject();
      if ("default".equals(o.get("name").getAsString())) {
        return o.get("template").getAsString();
      }
    }
    throw new IllegalArgumentException("chat_template lists no template named 'default'");
  }
}
