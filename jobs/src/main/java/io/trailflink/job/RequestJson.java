package io.trailflink.job;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.trailflink.schema.ChatTurn;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.Sampling;
import java.util.ArrayList;
import java.util.List;

/**
 * A request as users write it in JSON — {@code {"id"?, "prompt" | "messages": [{"role", "content"}…],
 * "max_new_tokens"?, "tenant"?, "temperature"?, "top_p"?, "top_k"?, "repetition_penalty"?, "seed"?, "stop"?: [..],
 * "deadline_ms"?}} (or {@code {"id", "cancel": true}})
 * — as the Avro request the job reads. Without any sampling field the request takes the model's generation_config
 * defaults. Only the shape is checked here; the job validates the values (and dead-letters what it refuses).
 */
public final class RequestJson {
  private static final List<String> SAMPLING_FIELDS =
      List.of("temperature", "top_p", "top_k", "repetition_penalty", "seed");

  private RequestJson() {}

  /**
   * @param id the id to use when the object has none
   * @param defaultMaxNewTokens max_new_tokens when the object has none
   * @param defaultTenant the tenant when the object has none
   * @throws IllegalArgumentException naming what is missing or of the wrong type
   */
  public static InferenceRequest parse(JsonObject o, String id, int defaultMaxNewTokens, String defaultTenant) {
    if (o.has("cancel") && o.get("cancel").getAsBoolean()) { // {"id": …, "cancel": true}
      return InferenceRequest.newBuilder().setId(idOr(o, id)).setMaxNewTokens(0).setSubmittedAtMs(0).setCancel(true)
          .build();
    }
    boolean hasPrompt = o.has("prompt") && !o.get("prompt").isJsonNull();
    boolean hasMessages = o.has("messages") && !o.get("messages").isJsonNull();
    if (hasPrompt && hasMessages) {
      throw new IllegalArgumentException("has both \"prompt\" and \"messages\": give one");
    }
    if (!hasPrompt && !hasMessages) {
      throw new IllegalArgumentException("needs a string \"prompt\" or a \"messages\" list");
    }
    InferenceRequest.Builder r = InferenceRequest.newBuilder()
        .setId(idOr(o, id))
        .setMaxNewTokens(o.has("max_new_tokens") ? number(o, "max_new_tokens", JsonElement::getAsInt)
            : defaultMaxNewTokens)
        .setTenant(o.has("tenant") ? o.get("tenant").getAsString() : defaultTenant)
        .setSubmittedAtMs(0);
    if (SAMPLING_FIELDS.stream().anyMatch(o::has)) {
      r.setSampling(Sampling.newBuilder()
          .setTemperature(o.has("temperature") ? number(o, "temperature", JsonElement::getAsFloat) : 0f)
          .setTopP(o.has("top_p") ? number(o, "top_p", JsonElement::getAsFloat) : 1f)
          .setTopK(o.has("top_k") ? number(o, "top_k", JsonElement::getAsInt) : 0)
          .setRepetitionPenalty(o.has("repetition_penalty")
              ? number(o, "repetition_penalty", JsonElement::getAsFloat) : 1f)
          .setSeed(o.has("seed") ? number(o, "seed", JsonElement::getAsLong) : 0L).build());
    }
    if (o.has("deadline_ms") && !o.get("deadline_ms").isJsonNull()) {
      r.setDeadlineMs(number(o, "deadline_ms", JsonElement::getAsLong));
    }
    if (o.has("stop")) {
      List<String> stop = new ArrayList<>();
      JsonElement s = o.get("stop");
      for (JsonElement e : s.isJsonArray() ? s.getAsJsonArray() : List.of(s)) {
        stop.add(string(e, "stop"));
      }
      r.setStop(stop);
    }
    if (hasPrompt) {
      r.setPrompt(string(o.get("prompt"), "prompt"));
    } else {
      List<ChatTurn> turns = new ArrayList<>();
      for (JsonElement m : o.get("messages").getAsJsonArray()) {
        JsonObject turn = m.getAsJsonObject();
        turns.add(new ChatTurn(string(turn.get("role"), "messages[].role"),
            string(turn.get("content"), "messages[].content")));
      }
      r.setMessages(turns);
    }
    return r.build();
  }

  /** The object's id, or {@code fallback} when it has none ({@code "id": null} is none). */
  private static String idOr(JsonObject o, String fallback) {
    return o.has("id") && !o.get("id").isJsonNull() ? o.get("id").getAsString() : fallback;
  }

  /** A numeric field read by {@code as}; anything else is an error naming the field and what it held. */
  private static <T> T number(JsonObject o, String field, java.util.function.Function<JsonElement, T> as) {
    JsonElement e = o.get(field);
    try {
      if (e.isJsonPrimitive()) {
        return as.apply(e);
      }
    } catch (RuntimeException notANumber) {
      // falls through to the error below
    }
    throw new IllegalArgumentException("\"" + field + "\" must be a number, got " + e);
  }

  private static String string(JsonElement e, String field) {
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException("\"" + field + "\" must be a string");
    }
    return e.getAsString();
  }
}
