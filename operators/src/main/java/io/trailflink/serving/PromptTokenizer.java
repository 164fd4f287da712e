package io.trailflink.serving;

import io.trailflink.engine.text.ChatMessage;
import java.util.List;

/**
 * A request's text as prompt token ids, the way the served checkpoint is fed (its chat template, its BOS).
 * Throws {@link IllegalArgumentException} with a reason for text the model cannot take (e.g. a template that refuses
 * the conversation).
 */
@FunctionalInterface
public interface PromptTokenizer {
  /**
   * @param prompt the plain prompt, when {@code messages} is null
   * @param messages the conversation, or null
   */
  int[] tokens(String prompt, List<ChatMessage> messages);
}
