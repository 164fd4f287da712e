package io.trailflink.engine.text;

import io.trailflink.engine.model.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a request's text into the prompt ids a checkpoint expects, as Hugging Face feeds it:
 * <ul>
 *   <li><b>raw</b> — {@code tokenizer(text)}: special tokens as the tokenizer adds them. For the Llama-family
 *       tokenizer classes {@code add_bos_token} / {@code add_eos_token} of {@code tokenizer_config.json} decide
 *       (BOS by default), as transformers rebuilds their post-processor from these flags; for every other
 *       tokenizer the post-processor in {@code tokenizer.json} decides (Llama 2's and Llama 3's add BOS, Qwen2's
 *       adds nothing);</li>
 *   <li><b>chat</b> — {@code apply_chat_template(messages, add_generation_prompt=True)}: the checkpoint's template
 *       rendered, then tokenized without special tokens (the template writes its own BOS).</li>
 * </ul>
 * A plain prompt goes through the chat template as one user turn when the checkpoint has one (unless raw is asked
 * for), and is fed raw when it has none, as vLLM's offline {@code generate} does. Not thread-safe.
 */
public final class PromptEncoder implements AutoCloseable {
  private final TextCodec codec;
  private final TokenizerConfig config;
  private final ChatTemplate template; // null: the checkpoint has none
  private final int bosId; // -1 when unknown
  private final int eosId; // -1 when unknown

  public PromptEncoder(TextCodec codec, TokenizerConfig config) {
    this.codec = codec;
    this.config = config;
    this.template = config.chatTemplate() == null ? null
        : new ChatTemplate(config.chatTemplate(), config.bosToken(), config.eosToken());
    this.bosId = singleId(config.bosToken());
    this.eosId = singleId(config.eosToken());
  }

  /** The encoder of the checkpoint in {@code dir}: its {@code tokenizer.json} and {@code tokenizer_config.json}. */
  public static PromptEncoder forCheckpoint(Path dir) {
    Path tokenizer = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(tokenizer)) {
      throw new CheckpointException(tokenizer + ": missing (needed to turn text into tokens)");
    }
    return new PromptEncoder(new TextCodec(tokenizer), TokenizerConfig.load(dir));
  }

  public boolean hasChatTemplate() {
    return template != null;
  }

  /** A plain prompt: one user turn through the chat template, or raw ({@code raw}, or no template). */
  public int[] prompt(String text, boolean raw) {
    return raw || template == null ? raw(text) : chat(List.of(ChatMessage.user(text)));
  }

  /** A request's prompt ids: its {@code messages} through the template when given, else its plain prompt. */
  public int[] tokens(String prompt, List<ChatMessage> messages, boolean raw) {
    return messages == null ? prompt(prompt, raw) : chat(messages);
  }

  /** {@code tokenizer(text)}: with the special tokens the checkpoint's tokenizer adds. */
  public int[] raw(String text) {
    if (!config.flagsDecideSpecialTokens()) {
      return codec.encode(text, true);
    }
    int[] body = codec.encode(text, false);
    boolean bos = config.bosFromFlags() && bosId >= 0;
    boolean eos = config.eosFromFlags() && eosId >= 0;
    int[] ids = new int[body.length + (bos ? 1 : 0) + (eos ? 1 : 0)];
    if (bos) {
      ids[0] = bosId;
    }
    System.arraycopy(body, 0, ids, bos ? 1 : 0, body.length);
    if (eos) {
      ids[ids.length - 1] = eosId;
    }
    return ids;
  }

  /** {@code apply_chat_template(messages, add_generation_prompt=True, tokenize=True)}. */
  public int[] chat(List<ChatMessage> messages) {
    return codec.encode(renderChat(messages), false);
  }

  /** The chat template's text for {@code messages}, opened for the assistant's answer. */
  public String renderChat(List<ChatMessage> messages) {
    if (template == null) {
      throw new IllegalArgumentException("the model has no chat template (tokenizer_config.json chat_template): "
          + "send a prompt instead of messages");
    }
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("messages is empty");
    }
    return template.render(messages, true);
  }

  public TextCodec codec() {
    return codec;
  }

  private int singleId(String token) {
    if (token == null) {
      return -1;
    }
    int[] ids = codec.encode(token, false);
    return ids.length == 1 ? ids[0] : -1;
  }

  @Override
  public void close() {
    codec.close();
  }
}
