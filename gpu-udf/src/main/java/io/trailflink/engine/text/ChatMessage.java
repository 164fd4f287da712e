package io.trailflink.engine.text;

import java.util.Set;

/**
 * One turn of a conversation, as chat templates see it ({@code message['role']}, {@code message['content']}).
 *
 * @param role system, user, assistant or tool
 * @param content the text
 */
public record ChatMessage(String role, String content) {
  public static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  public ChatMessage {
    if (!ROLES.contains(role)) {
      throw new IllegalArgumentException("unknown message role '" + role + "' (known: system, user, assistant, tool)");
    }
    if (content == null) {
      throw new IllegalArgumentException("message content is missing");
    }
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }
}
