package io.trailflink.flink;

import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.model.GenerationDefaults;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.RequestValidator;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import io.trailflink.serving.records.RecordLimits;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Raw requests-topic records in, {@link ValidatedRequest}s out; anything invalid goes to {@link DeadLetters#TAG}
 * with its reason. Input never fails the job: should validation itself throw on some record, that record is
 * dead-lettered with the exception as its reason. Thin wrapper around {@link RequestValidator}.
 */
public class ValidateRequestFunction extends ProcessFunction<RawRecord, ValidatedRequest> {
  private static final long serialVersionUID = 1L;

  private final ServingConfig config;
  private final RecordLimits limits;
  private final String modelDir;
  private final boolean rawPrompts;
  private transient PromptEncoder encoder;
  private transient RequestValidator validator;

  /**
   * @param modelDir the checkpoint: its tokenizer.json and tokenizer_config.json (chat template, BOS)
   * @param rawPrompts true to tokenize plain prompts as given; false to put them through the chat template
   */
  public ValidateRequestFunction(ServingConfig config, RecordLimits limits, String modelDir, boolean rawPrompts) {
    this.config = config;
    this.limits = limits;
    this.modelDir = modelDir;
    this.rawPrompts = rawPrompts;
  }

  @Override
  public void open(OpenContext ctx) {
    encoder = PromptEncoder.forCheckpoint(Path.of(modelDir));
    SamplingParams defaults = GenerationDefaults.load(Path.of(modelDir), LlamaConfig.load(Path.of(modelDir))).sampling(0);
    validator = new RequestValidator(config, limits, defaults,
        (prompt, messages) -> encoder.tokens(prompt, messages, rawPrompts));
  }

  @Override
  public void processElement(RawRecord raw, Context ctx, Collector<ValidatedRequest> out) {
    RequestValidator.Outcome o;
    try {
      o = validator.validate(raw);
    } catch (RuntimeException e) {
      o = new RequestValidator.Outcome(null, null, "validation failed: " + e);
    }
    if (o.valid()) {
      out.collect(o.request());
    } else {
      ctx.output(DeadLetters.TAG, DeadLetters.of(raw, o.requestId(), o.reason()));
    }
  }

  @Override
  public void close() {
    if (encoder != null) {
      encoder.close();
    }
  }
}
