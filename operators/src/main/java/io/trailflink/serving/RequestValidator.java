package io.trailflink.serving;

import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.text.ChatMessage;
import io.trailflink.schema.ChatTurn;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.Sampling;
import io.trailflink.schema.SchemaHistory;
import io.trailflink.serving.records.BoundedAvroReader;
import io.trailflink.serving.records.MalformedRecordException;
import io.trailflink.serving.records.RecordLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns the raw bytes of a requests-topic record into a {@link ValidatedRequest}, or says in words why not:
 * not Avro, a length beyond the record or the configured limits, text that is not UTF-8, missing fields, empty
 * prompt, both or neither of prompt and messages, an unknown message role, a conversation the chat template refuses,
 * max_new_tokens out of range, prompt over the context, bad sampling. Nothing it is given makes it throw or
 * allocate more than the record's own size. Duplicate ids are the scheduler's to catch (only it knows what is in
 * flight).
 */
public final class RequestValidator {
  private final ServingConfig config;
  private final PromptTokenizer tokenizer;
  private final SamplingParams defaults; // for requests without sampling: the model's generation_config.json
  private final BoundedAvroReader<InferenceRequest> reader;

  /** Either a request or the reason it was refused (and the id when it could be read). */
  public record Outcome(ValidatedRequest request, String requestId, String reason) {
    public boolean valid() {
      return request != null;
    }
  }

  /** Most stop strings a request may carry. */
  public static final int MAX_STOP_STRINGS = 16;

  /**
   * @param defaults the sampling of a request that sets none (the model's generation_config.json; its seed is
   *     replaced by one derived from the request id)
   */
  public RequestValidator(ServingConfig config, RecordLimits limits, SamplingParams defaults,
      PromptTokenizer tokenizer) {
    this.config = config;
    this.defaults = defaults;
    this.tokenizer = tokenizer;
    this.reader = new BoundedAvroReader<>(InferenceRequest.class, Map.of("id", limits.maxIdBytes(),
        "prompt", limits.maxPromptBytes(), "messages.content", limits.maxPromptBytes()),
        RecordLimits.MAX_OTHER_STRING_BYTES, SchemaHistory.released("InferenceRequest"));
  }

  public Outcome validate(RawRecord raw) {
    if (raw.badHeader() != null) {
      return refuse(null, raw.badHeader());
    }
    InferenceRequest r = new InferenceRequest();
    try {
      reader.read(raw.value(), r, raw.schemaFingerprint());
    } catch (MalformedRecordException e) {
      return refuse(r.getId(), e.getMessage()); // the id when it was read (and found valid) before the fault
    }
    return validate(r, raw);
  }

  /** Validates a parsed request; {@code source} is attached to the result. */
  private Outcome validate(InferenceRequest r, RawRecord source) {
    String id = r.getId();
    if (id == null || id.isBlank()) {
      return refuse(null, "missing field: id is empty");
    }
    if (r.getCancel()) { // only the id counts
      return new Outcome(ValidatedRequest.cancelOf(id, r.getSubmittedAtMs(), config.engineFor(id), source), id, null);
    }
    List<ChatTurn> turns = r.getMessages();
    if (turns != null && turns.isEmpty()) {
      return refuse(id, "messages is empty");
    }
    if (turns != null && !r.getPrompt().isEmpty()) {
      return refuse(id, "give prompt or messages, not both");
    }
    if (turns == null && r.getPrompt().isBlank()) {
      return refuse(id, "empty prompt");
    }
    List<ChatMessage> messages = null;
    if (turns != null) {
      messages = new ArrayList<>(turns.size());
      for (int i = 0; i < turns.size(); i++) {
        try {
          messages.add(new ChatMessage(turns.get(i).getRole(), turns.get(i).getContent()));
        } catch (IllegalArgumentException e) {
          return refuse(id, "messages[" + i + "]: " + e.getMessage());
        }
      }
    }
    int max = r.getMaxNewTokens();
    if (max <= 0 || max > config.maxNewTokensLimit()) {
      return refuse(id, "max_new_tokens must be in [1, " + config.maxNewTokensLimit() + "], got " + max);
    }
    int forced = r.getForcedOutputTokens() == null ? 0 : r.getForcedOutputTokens();
    if (forced < 0 || forced > max) {
      return refuse(id, "forced_output_tokens must be in [0, max_new_tokens=" + max + "], got " + forced);
    }
    Sampling s = r.getSampling() == null ? defaultSampling(id) : r.getSampling();
    if (!(s.getTemperature() >= 0) || Float.isInfinite(s.getTemperature())) {
      return refuse(id, "sampling.temperature must be >= 0, got " + s.getTemperature());
    }
    if (!(s.getTopP() > 0 && s.getTopP() <= 1)) {
      return refuse(id, "sampling.top_p must be in (0, 1], got " + s.getTopP());
    }
    if (s.getTopK() < 0) {
      return refuse(id, "sampling.top_k must be >= 0, got " + s.getTopK());
    }
    if (!(s.getRepetitionPenalty() > 0) || Float.isInfinite(s.getRepetitionPenalty())) {
      return refuse(id, "sampling.repetition_penalty must be > 0, got " + s.getRepetitionPenalty());
    }
    List<String> stop = r.getStop();
    if (stop.size() > MAX_STOP_STRINGS) {
      return refuse(id, "at most " + MAX_STOP_STRINGS + " stop strings, got " + stop.size());
    }
    if (stop.stream().anyMatch(String::isEmpty)) {
      return refuse(id, "a stop string is empty");
    }
    int[] tokens;
    try {
      tokens = tokenizer.tokens(r.getPrompt(), messages);
    } catch (IllegalArgumentException e) {
      return refuse(id, e.getMessage()); // e.g. the chat template refuses the conversation
    } catch (RuntimeException e) {
      return refuse(id, "prompt could not be tokenized: " + e);
    }
    int budget = forced > 0 ? forced : max;
    if (tokens.length + budget > config.contextTokens()) {
      return refuse(id, "prompt of " + tokens.length + " tokens plus " + budget + " output tokens exceeds the context of "
          + config.contextTokens() + " tokens");
    }
    Long deadlineMs = r.getDeadlineMs();
    if (deadlineMs != null && deadlineMs <= 0) {
      return refuse(id, "deadline_ms must be > 0 (a time budget from submitted_at_ms), got " + deadlineMs);
    }
    ValidatedRequest v = new ValidatedRequest(id, r.getTenant(), tokens, max, forced, s, List.copyOf(stop),
        r.getSubmittedAtMs(), config.engineFor(id), source);
    return new Outcome(deadlineMs == null ? v : v.withDeadline(r.getSubmittedAtMs() + deadlineMs), id, null);
  }

  /** The model's generation_config.json sampling, seeded by the id so that a request's text is reproducible. */
  private Sampling defaultSampling(String id) {
    return Sampling.newBuilder().setTemperature((float) defaults.temperature()).setTopP((float) defaults.topP())
        .setTopK(defaults.topK()).setRepetitionPenalty((float) defaults.repetitionPenalty()).setSeed(id.hashCode())
        .build();
  }

  private static Outcome refuse(String id, String reason) {
    return new Outcome(null, id, reason);
  }
}
