package io.trailflink.flink;

import io.trailflink.engine.text.TextCodec;
import io.trailflink.engine.train.PromptTemplate;
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
  private final String tokenizerFile;
  private final boolean rawPrompts;
  private transient TextCodec codec;
  private transient RequestValidator validator;

  /**
   * @param tokenizerFile the model's tokenizer.json
   * @param rawPrompts true to tokenize prompts as given; false to wrap them in the bundled model's chat template
   */
  public ValidateRequestFunction(ServingConfig config, RecordLimits limits, String tokenizerFile, boolean rawPrompts) {
    this.config = config;
    this.limits = limits;
    this.tokenizerFile = tokenizerFile;
    this.rawPrompts = rawPrompts;
  }

  @Override
  public void open(OpenContext ctx) {
    codec = new TextCodec(Path.of(tokenizerFile));
    validator = new RequestValidator(config, limits, p -> codec.encode(rawPrompts ? p : PromptTemplate.prompt(p)));
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
    if (codec != null) {
      codec.close();
    }
  }
}
