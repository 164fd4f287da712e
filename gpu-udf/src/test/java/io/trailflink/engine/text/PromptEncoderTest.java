package io.trailflink.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.trailflink.engine.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prompt ids as Hugging Face feeds them, on tiny tokenizers the test writes: BOS from the post-processor (as
 * Llama 2's and Llama 3's tokenizer.json add it), none (as Qwen2's), or from the Llama tokenizer class's flags.
 */
class PromptEncoderTest {
  @TempDir Path tmp;

  static final String VOCAB = "{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"hello\":3,\"world\":4,\"[INST]\":5,\"[/INST]\":6}";
  static final String ADDED = "[" + added(1, "<s>") + "," + added(2, "</s>") + "]";
  static final String BOS_POST_PROCESSOR = "{\"type\":\"TemplateProcessing\","
      + "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
      + "\"pair\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
      + "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],"
      + "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}}";

  static String added(int id, String content) {
    return "{\"id\":" + id + ",\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,"
        + "\"rstrip\":false,\"normalized\":false,\"special\":true}";
  }

  /** A checkpoint directory with a word-level tokenizer; {@code postProcessor} may be "null". */
  Path checkpoint(String name, String postProcessor, JsonObject tokenizerConfig) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
        + "\"added_tokens\":" + ADDED + ",\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},"
        + "\"post_processor\":" + postProcessor + ",\"decoder\":null,"
        + "\"model\":{\"type\":\"WordLevel\",\"vocab\":" + VOCAB + ",\"unk_token\":\"<unk>\"}}");
    if (tokenizerConfig != null) {
      Files.writeString(dir.resolve(TokenizerConfig.FILE), tokenizerConfig.toString());
    }
    return dir;
  }

  static JsonObject config(String tokenizerClass, Boolean addBos, Boolean addEos, String template) {
    JsonObject c = new JsonObject();
    c.addProperty("tokenizer_class", tokenizerClass);
    c.addProperty("bos_token", "<s>");
    JsonObject eos = new JsonObject(); // an AddedToken object, as some checkpoints write it
    eos.addProperty("__type", "AddedToken");
    eos.addProperty("content", "</s>");
    c.add("eos_token", eos);
    if (addBos != null) {
      c.addProperty("add_bos_token", addBos);
    }
    if (addEos != null) {
      c.addProperty("add_eos_token", addEos);
    }
    if (template != null) {
      c.addProperty("chat_template", template);
    }
    return c;
  }

  @Test
  void aRawPromptGetsTheBosThatTheTokenizersPostProcessorAdds() throws Exception {
    // regression: raw prompts were encoded without special tokens, so a Llama-2-format model never saw its BOS
    try (PromptEncoder e = PromptEncoder.forCheckpoint(checkpoint("llama2-like", BOS_POST_PROCESSOR, null))) {
      assertArrayEquals(new int[] {1, 3, 4}, e.raw("hello world"));
      assertArrayEquals(new int[] {1, 3, 4}, e.prompt("hello world", false), "no template: fed raw");
    }
    try (PromptEncoder e = PromptEncoder.forCheckpoint(checkpoint("qwen2-like", "null", null))) {
      assertArrayEquals(new int[] {3, 4}, e.raw("hello world"), "no post-processor: no BOS");
    }
  }

  @Test
  void llamaTokenizerClassesTakeBosAndEosFromTheirFlags() throws Exception {
    assertArrayEquals(new int[] {1, 3, 4}, raw(config("LlamaTokenizerFast", null, null, null)), "BOS by default");
    assertArrayEquals(new int[] {3, 4}, raw(config("LlamaTokenizerFast", false, null, null)));
    assertArrayEquals(new int[] {1, 3, 4, 2}, raw(config("LlamaTokenizer", true, true, null)));
    assertArrayEquals(new int[] {3, 4}, raw(config("PreTrainedTokenizerFast", true, true, null)),
        "other classes: the post-processor (none here) decides, the flags do not");
  }

  private int[] raw(JsonObject config) throws IOException {
    try (PromptEncoder e = PromptEncoder.forCheckpoint(checkpoint("c" + System.nanoTime(), "null", config))) {
      return e.raw("hello world");
    }
  }

  @Test
  void chatPromptsAreTheRenderedTemplateTokenizedWithoutSpecialTokens() throws Exception {
    String template = "{{ bos_token }}{% for m in messages %}{{ '[INST] ' + m['content'] + ' [/INST] ' }}{% endfor %}";
    Path dir = checkpoint("mistral-like", BOS_POST_PROCESSOR, config("LlamaTokenizerFast", true, null, template));
    try (PromptEncoder e = PromptEncoder.forCheckpoint(dir)) {
      assertTrue(e.hasChatTemplate());
      assertArrayEquals(new int[] {1, 5, 3, 6}, e.prompt("hello", false), "one BOS, from the template");
      assertArrayEquals(new int[] {1, 3}, e.prompt("hello", true), "raw asked for");
      assertArrayEquals(new int[] {1, 5, 3, 6, 5, 4, 6},
          e.chat(List.of(ChatMessage.user("hello"), ChatMessage.user("world"))));
    }
  }

  @Test
  void messagesForAModelWithoutATemplateOrWithoutATokenizerAreRefusedByName() throws Exception {
    try (PromptEncoder e = PromptEncoder.forCheckpoint(checkpoint("plain", "null", null))) {
      String why = assertThrows(IllegalArgumentException.class, () -> e.chat(List.of(ChatMessage.user("x"))))
          .getMessage();
      assertTrue(why.startsWith("the model has no chat template"), why);
    }
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    String why = assertThrows(CheckpointException.class, () -> PromptEncoder.forCheckpoint(empty)).getMessage();
    assertEquals(empty.resolve("tokenizer.json") + ": missing (needed to turn text into tokens)", why);
  }

  @Test
  void theBundledModelFeedsItsTrainingFormat() {
    try (PromptEncoder e = PromptEncoder.forCheckpoint(Path.of("../models/trail-tiny"))) {
      String p = "List 3 fruits.";
      assertArrayEquals(e.codec().encode(io.trailflink.engine.train.PromptTemplate.prompt(p)), e.prompt(p, false));
      assertEquals(e.codec().encode(p).length, e.prompt(p, true).length, "raw: no BOS (no post-processor)");
    }
  }
}
