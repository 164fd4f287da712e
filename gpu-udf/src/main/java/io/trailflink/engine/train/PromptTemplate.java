package io.trailflink.engine.train;

import com.google.gson.JsonObject;
import io.trailflink.engine.text.PythonText;
import java.util.List;

/**
 * The chat format the bundled model is trained on; the special tokens are single ids in its tokenizer. Serving
 * never uses this class: a trained model ships the same format as the Jinja {@link #CHAT_TEMPLATE} in its
 * {@code tokenizer_config.json} ({@link #tokenizerConfig()}), like any Hugging Face checkpoint, and
 * {@code ChatTemplateTest} checks that the two agree.
 */
public final class PromptTemplate {
  public static final String PAD = "<pad>";
  public static final String BOS = "<s>";
  public static final String EOS = "</s>";
  public static final String USER = "<|user|>";
  public static final String ASSISTANT = "<|assistant|>";
  public static final List<String> SPECIAL_TOKENS = List.of(PAD, BOS, EOS, USER, ASSISTANT);

  /**
   * {@link #prompt} as a Jinja chat template. The model was never trained on system turns: they are rendered as
   * user turns. An assistant turn ends with EOS, as training examples do.
   */
  public static final String CHAT_TEMPLATE = "{{ bos_token }}{% for message in messages %}"
      + "{% if message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] | trim + eos_token }}"
      + "{% else %}{{ '<|user|>\\n' + message['content'] | trim + '\\n' }}{% endif %}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

  private PromptTemplate() {}

  /** What the model sees before its answer. */
  public static String prompt(String instruction) {
    return BOS + USER + "\n" + PythonText.strip(instruction) + "\n" + ASSISTANT + "\n";
  }

  /** The {@code tokenizer_config.json} a trained model ships: its special tokens and {@link #CHAT_TEMPLATE}. */
  public static JsonObject tokenizerConfig() {
    JsonObject c = new JsonObject();
    c.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
    c.addProperty("bos_token", BOS);
    c.addProperty("eos_token", EOS);
    c.addProperty("pad_token", PAD);
    c.addProperty("model_max_length", 1024);
    c.addProperty("chat_template", CHAT_TEMPLATE);
    return c;
  }
}
