package io.trailflink.engine.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.engine.train.PromptTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Chat templates rendered exactly as Jinja2 renders them in {@code transformers}: goldens written by
 * {@code scripts/chat-template-goldens.py} (Jinja2 with Hugging Face's settings) for the Llama 2, Llama 3, Mistral,
 * Qwen2 (ChatML) and bundled templates, over conversations with system turns, multiple turns, Unicode and spacing,
 * and conversations a template refuses.
 */
class ChatTemplateTest {
  static final Path DIR = Path.of("src/test/resources/chat-templates");

  static List<ChatMessage> messages(JsonElement json) {
    List<ChatMessage> out = new ArrayList<>();
    for (JsonElement m : json.getAsJsonArray()) {
      out.add(new ChatMessage(m.getAsJsonObject().get("role").getAsString(),
          m.getAsJsonObject().get("content").getAsString()));
    }
    return out;
  }

  @Test
  void everyGoldenRendersExactlyAsJinja2RendersIt() throws Exception {
    JsonObject goldens = JsonParser.parseString(Files.readString(DIR.resolve("goldens.json"))).getAsJsonObject();
    assertTrue(goldens.size() >= 25, "goldens: " + goldens.size());
    for (Map.Entry<String, JsonElement> e : goldens.entrySet()) {
      JsonObject g = e.getValue().getAsJsonObject();
      String source = Files.readString(DIR.resolve(g.get("template").getAsString() + ".jinja"));
      ChatTemplate t = new ChatTemplate(source, g.get("bos_token").getAsString(), g.get("eos_token").getAsString());
      List<ChatMessage> conversation = messages(g.get("messages"));
      if (g.has("error")) {
        String why = assertThrows(ChatTemplate.RenderException.class, () -> t.render(conversation, true),
            e.getKey()).getMessage();
        assertEquals("chat template failed: " + g.get("error").getAsString(), why, e.getKey());
      } else {
        assertEquals(g.get("text").getAsString(), t.render(conversation, true), e.getKey());
      }
    }
  }

  @Test
  void theBundledModelsTemplateRendersItsTrainingFormat() throws Exception {
    JsonObject shipped = JsonParser.parseString(
        Files.readString(Path.of("../models/trail-tiny/tokenizer_config.json"))).getAsJsonObject();
    assertEquals(PromptTemplate.tokenizerConfig(), shipped, "the shipped tokenizer_config.json is the trainer's");
    TokenizerConfig config = TokenizerConfig.parse(shipped);
    ChatTemplate t = new ChatTemplate(config.chatTemplate(), config.bosToken(), config.eosToken());
    Random rnd = new Random(3);
    String alphabet = "abc XYZ\n\t.,!?é日\u00a0\u2003-'\"{}%#";
    for (int i = 0; i < 300; i++) {
      StringBuilder p = new StringBuilder();
      for (int k = rnd.nextInt(40); k >= 0; k--) {
        p.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
      }
      String prompt = p.toString();
      assertEquals(PromptTemplate.prompt(prompt), t.render(List.of(ChatMessage.user(prompt)), true), prompt);
    }
  }

  @Test
  void anUnknownRoleIsRefusedWithTheKnownOnes() {
    String why = assertThrows(IllegalArgumentException.class, () -> new ChatMessage("wizard", "hi")).getMessage();
    assertEquals("unknown message role 'wizard' (known: system, user, assistant, tool)", why);
  }

  @Test
  void aTemplateThatDoesNotParseSaysWhere() {
    ChatTemplate t = new ChatTemplate("{% for m in messages %}{{ m['content'] }", "", "");
    String why = assertThrows(ChatTemplate.RenderException.class,
        () -> t.render(List.of(ChatMessage.user("x")), true)).getMessage();
    assertTrue(why.startsWith("chat template failed: "), why);
  }
}
