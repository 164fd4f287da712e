package io.trailflink.flink;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.ResponseChunk;
import io.trailflink.schema.StepResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Engine step results in, one {@link EngineFeedback} per step out (for the predictions topic, which the scheduler
 * reads back), and a {@link ResponseChunk} per request that got new tokens to {@link #CHUNKS}. The tap states
 * are dropped from the feedback: the scheduler needs facts and predictions, not hidden states.
 *
 * <p>Predictions: until the TRAIL predictor is in the job (issue 5), the feedback carries none and the scheduler
 * ranks by {@code max_new_tokens - generated}, the public port's fallback.
 */
public class FeedbackFunction extends ProcessFunction<StepResult, EngineFeedback> {
  private static final long serialVersionUID = 1L;
  public static final OutputTag<ResponseChunk> CHUNKS = new OutputTag<>("response-chunks") {};
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  @Override
  public void processElement(StepResult r, Context ctx, Collector<EngineFeedback> out) {
    List<RequestProgress> facts = new ArrayList<>(r.getProgress().size());
    for (RequestProgress p : r.getProgress()) {
      if (!p.getNewTokenIds().isEmpty()) {
        ctx.output(CHUNKS, ResponseChunk.newBuilder().setRequestId(p.getRequestId()).setEngine(r.getEngine())
            .setStepSeq(r.getStepSeq()).setTokenIds(p.getNewTokenIds()).setText(p.getTextDelta())
            .setGenerated(p.getGenerated()).setEmittedAtMs(r.getFinishedAtMs()).build());
      }
      facts.add(RequestProgress.newBuilder(p).setTapHidden(0).setTapStates(EMPTY).setTapGenerated(List.of()).build());
    }
    out.collect(EngineFeedback.newBuilder().setEngine(r.getEngine()).setEngineIncarnation(r.getEngineIncarnation())
        .setStepSeq(r.getStepSeq()).setIssuedAtMs(r.getIssuedAtMs()).setFinishedAtMs(r.getFinishedAtMs())
        .setPublishedAtMs(System.currentTimeMillis()).setBusyMs(r.getBusyMs()).setBlocksUsed(r.getBlocksUsed())
        .setBlockCapacity(r.getBlockCapacity()).setProgress(facts).setPredictions(List.of()).setError(r.getError())
        .build());
  }
}
