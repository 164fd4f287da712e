package io.trailflink.flink;

import io.trailflink.predictor.RemainingLength;
import io.trailflink.predictor.RequestTracker;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EpochMicros;
import io.trailflink.schema.PredictionUpdate;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.StepResult;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The TRAIL predictor in the job, keyed by engine: engine step results in, one {@link EngineFeedback} per step out
 * (for the predictions topic, which the scheduler reads back; the scheduler streams the tokens to the responses
 * topic when it applies them, so chunks and final responses come from one checkpointed state). For every request of the step it runs {@link RequestTracker} on the tap states
 * the engine attached — the initial prediction from the prompt mean at prefill, smoothed refreshes as tokens come —
 * and publishes {@link PredictionUpdate}s with the bin probabilities; the hidden states themselves are dropped.
 * Per-request predictor state is keyed state, cleared when the request finishes or fails.
 *
 * <p>Without a predictor directory the feedback carries no predictions and the scheduler ranks by
 * {@code max_new_tokens - generated} (the public port's fallback).
 */
public class FeedbackFunction extends KeyedProcessFunction<String, StepResult, EngineFeedback> {
  private static final long serialVersionUID = 1L;
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final String predictorDir;
  private final int modelHidden;
  private final int refreshEvery;
  private final boolean publishBinsRange;
  private transient RequestTracker tracker;
  private transient MapState<String, RemainingLength> states;

  /**
   * @param predictorDir predictor directory, or null for no predictions
   * @param modelHidden the serving model's hidden size (checked against the predictor at start-up)
   * @param refreshEvery K, or 0 for the predictor's own setting
   * @param publishBinsRange whether updates carry the bins' range, so the scheduler ranks by the expectation up to
   *     each request's cap ({@code PredictionUnderCap}, {@code --capped-ranking}); false (the default): by the
   *     expectation, which the scheduler clamps to the cap
   */
  public FeedbackFunction(String predictorDir, int modelHidden, int refreshEvery, boolean publishBinsRange) {
    this.predictorDir = predictorDir;
    this.modelHidden = modelHidden;
    this.refreshEvery = refreshEvery;
    this.publishBinsRange = publishBinsRange;
  }



  /** Per request: the smoothed posterior between refreshes. */
  public static MapStateDescriptor<String, RemainingLength> stateDescriptor() {
    MapStateDescriptor<String, RemainingLength> d =
        new MapStateDescriptor<>("predictor-state", StringSerializer.INSTANCE, new RemainingLengthSerializer());
    // a request the engine never reports finished (released by the scheduler) must not stay forever
    d.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofHours(6)).build());
    return d;
  }

  @Override
  public void open(OpenContext ctx) {
    if (predictorDir != null) {
      TrailPredictor p = TrailPredictor.load(Path.of(predictorDir), modelHidden);
      tracker = new RequestTracker(refreshEvery > 0 ? p.withRefreshEvery(refreshEvery) : p);
    }
    states = getRuntimeContext().getMapState(stateDescriptor());
  }

  @Override
  public void processElement(StepResult r, Context ctx, Collector<EngineFeedback> out) throws Exception {
    List<RequestProgress> facts = new ArrayList<>(r.getProgress().size());
    List<PredictionUpdate> predictions = new ArrayList<>();
    for (RequestProgress p : r.getProgress()) {
      if (tracker != null) {
        predict(r, p, predictions);
      }
      facts.add(RequestProgress.newBuilder(p).setTapHidden(0).setTapStates(EMPTY).setTapGenerated(List.of()).build());
    }
    long publishedUs = EpochMicros.now();
    out.collect(EngineFeedback.newBuilder().setEngine(r.getEngine()).setEngineIncarnation(r.getEngineIncarnation())
        .setStepSeq(r.getStepSeq()).setIssuedAtMs(r.getIssuedAtMs()).setIssuedAtUs(r.getIssuedAtUs())
        .setFinishedAtMs(r.getFinishedAtMs()).setPublishedAtMs(publishedUs / 1000).setPublishedAtUs(publishedUs)
        .setBusyMs(r.getBusyMs()).setProbeMs(r.getProbeMs()).setPrefillMs(r.getPrefillMs())
        .setDecodeMs(r.getDecodeMs()).setCpuMs(r.getCpuMs()).setDecisionUs(r.getDecisionUs())
        .setDecisionCpuUs(r.getDecisionCpuUs()).setBlocksUsed(r.getBlocksUsed())
        .setBlockCapacity(r.getBlockCapacity()).setProgress(facts).setPredictions(predictions).setError(r.getError())
        .build());
  }

  private void predict(StepResult r, RequestProgress p, List<PredictionUpdate> out) throws Exception {
    String id = p.getRequestId();
    boolean done = p.getFinishReason() != null || "FAILED".equals(p.getOutcome()) || "REJECTED".equals(p.getOutcome());
    if (done) {
      states.remove(id);
      return;
    }
    RequestTracker.Result res = tracker.observe(states.get(id), p.getTapHidden(), p.getTapStates(),
        p.getTapGenerated(), p.getGenerated());
    if (res.state() == null) {
      return;
    }
    states.put(id, res.state());
    String version = tracker.predictor().spec().version();
    for (RequestTracker.Update u : res.updates()) {
      List<Float> bins = new ArrayList<>(u.posterior().length);
      for (float v : u.posterior()) {
        bins.add(v);
      }
      out.add(PredictionUpdate.newBuilder().setRequestId(id).setEngine(r.getEngine()).setStepSeq(r.getStepSeq())
          .setGenerated(u.generated()).setPredictedRemaining(u.remaining()).setBinProbabilities(bins)
          .setPredictedRemainingP90(tracker.predictor().bins().quantile(u.posterior(), 0.9))
          .setBinsCapTokens(publishBinsRange ? tracker.predictor().spec().cap() : 0).setPredictorVersion(version)
          .build());
    }
  }
}
