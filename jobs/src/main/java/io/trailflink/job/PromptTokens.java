package io.trailflink.job;

import io.trailflink.engine.text.ChatMessage;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.schema.InferenceRequest;
import java.util.List;

/** The token ids a request's prompt (or chat messages) becomes, templated as the job templates it. */
public final class PromptTokens {
  private PromptTokens() {}

  /**
   * @param raw as {@code --raw-prompts}: the prompt as the tokenizer encodes it, without the chat template
   * @throws RuntimeException when the encoder refuses the request (e.g. a conversation the template cannot render)
   */
  public static int[] of(PromptEncoder encoder, InferenceRequest r, boolean raw) {
    List<ChatMessage> messages = r.getMessages() == null ? null
        : r.getMessages().stream().map(t -> new ChatMessage(t.getRole(), t.getContent())).toList();
    return encoder.tokens(messages == null ? r.getPrompt() : null, messages, raw);
  }

  /** The request's text as written: its prompt, or its messages' contents one per line (for training lists). */
  public static String text(InferenceRequest r) {
    return r.getMessages() == null ? r.getPrompt()
        : String.join("\n", r.getMessages().stream().map(m -> m.getContent().toString()).toList());
  }
}
