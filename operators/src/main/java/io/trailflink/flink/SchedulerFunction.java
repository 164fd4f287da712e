package io.trailflink.flink;

import io.trailflink.scheduler.Decision;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.ResponseChunk;
import io.trailflink.schema.StepCommand;
import io.trailflink.serving.EngineId;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TRAIL scheduler as a Flink operator, keyed by engine index on both inputs: placed requests on the first,
 * engine feedback (step facts and refreshed predictions, read back from the predictions topic) on the second, so
 * each feedback record reaches its own engine's state only, in O(1) whatever the number of engines;
 * {@link StepCommand}s go out to the async decode UDF, {@link FinalResponse}s and refusals to side outputs.
 * All policy lives in {@link EngineLoop} (plain Java), kept as this key's value state.
 *
 * <p>A processing-time timer per engine ticks every {@link #TICK_MS} ms while the engine has work, to give up
 * commands whose feedback never came ({@link ServingConfig#stallTimeoutMs()}) and to restart the loop after a
 * restore; an engine that goes quiet reports its status once more {@link #QUIET_STATUS_MS} later.
 */
public class SchedulerFunction extends KeyedCoProcessFunction<Integer, ValidatedRequest, EngineFeedback, StepCommand> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SchedulerFunction.class);
  /** Exactly one final response per accepted request (the responses topic). */
  public static final OutputTag<FinalResponse> RESPONSES = new OutputTag<>("responses") {};
  /** A chunk as each command's tokens are applied, before the request's final response (the chunks topic). */
  public static final OutputTag<ResponseChunk> CHUNKS = new OutputTag<>("chunks") {};
  /** Predicted finish times of live requests (the ETA stream). */
  public static final OutputTag<EtaUpdate> ETAS = new OutputTag<>("etas") {};
  /** Each engine's load after each command (the engine-status topic). */
  public static final OutputTag<EngineStatus> STATUS = new OutputTag<>("engine-status") {};
  static final long TICK_MS = 1_000;
  /** How long after its last feedback an engine that went quiet reports once more (ms). */
  static final long QUIET_STATUS_MS = 200;

  private final ServingConfig config;
  private final ValueStateDescriptor<EngineSlot> loopState;
  private transient Map<Integer, EngineMetrics> metrics;

  public SchedulerFunction(ServingConfig config) {
    this(config, new EngineSlotSerializer());
  }

  /**
   * With the state written by {@code stateSerializer}: upgrade tests give one that declares another schema, as a
   * build whose state record gained a field would.
   */
  public SchedulerFunction(ServingConfig config, org.apache.flink.api.common.typeutils.TypeSerializer<EngineSlot> stateSerializer) {
    this.config = config;
    this.loopState = new ValueStateDescriptor<>("engine-state", stateSerializer);
  }

  @Override
  public void open(OpenContext ctx) {
    metrics = new HashMap<>();
  }

  @Override
  public void processElement1(ValidatedRequest r, Context ctx, Collector<StepCommand> out) throws Exception {
    long now = ctx.timerService().currentProcessingTime();
    ValueState<EngineSlot> state = getRuntimeContext().getState(loopState);
    EngineLoop loop = state.value() == null ? new EngineLoop(ctx.getCurrentKey(), config) : loopOf(state, now);
    if (r.cancel()) { // the next command releases it on the engine
      FinalResponse cancelled = loop.cancel(r.id(), "cancelled by the client", now);
      if (cancelled != null) {
        ctx.output(RESPONSES, cancelled);
      }
    } else {
      Decision d = loop.submit(r, now);
      if (d.kind() == Decision.Kind.REJECT) {
        RawRecord src = r.source() != null ? r.source() : new RawRecord("", -1, -1, new byte[0]);
        ctx.output(DeadLetters.TAG, DeadLetters.of(src, r.id(), d.reason()));
      } else if (d.kind() == Decision.Kind.SHED) {
        ctx.output(RESPONSES, loop.shed(r, d.reason(), now));
      }
    }
    emit(loop, now, out);
    loop.drainEtas(now).forEach(e -> ctx.output(ETAS, e));
    EngineStatus idle = loop.statusIfIdle(now); // a refusal on an idle engine: placement hears of it now
    if (idle != null) {
      ctx.output(STATUS, idle);
    }
    state.update(EngineSlot.of(loop));
    metrics(ctx.getCurrentKey()).observe(loop, List.of());
    ctx.timerService().registerProcessingTimeTimer((now / TICK_MS + 1) * TICK_MS);
  }

  @Override
  public void processElement2(EngineFeedback fb, Context ctx, Collector<StepCommand> out) throws Exception {
    long now = System.currentTimeMillis();
    ValueState<EngineSlot> state = getRuntimeContext().getState(loopState);
    if (state.value() == null) {
      return; // feedback of a command this job's state does not know (an earlier run's): nothing to apply it to
    }
    EngineLoop loop = loopOf(state, now);
    long restarts = loop.stats().engineRestarts();
    List<FinalResponse> finals = loop.apply(fb, now);
    if (loop.stats().engineRestarts() > restarts) {
      LOG.warn("{} restarted (incarnation {}): its resident requests will be recomputed", fb.getEngine(),
          fb.getEngineIncarnation());
    }
    if (fb.getError() != null) {
      LOG.warn("{} step {} failed: {}", fb.getEngine(), fb.getStepSeq(), fb.getError());
    }
    emit(loop, now, out); // the next command first: the engine's idle time is the loop's critical path
    loop.drainChunks().forEach(c -> ctx.output(CHUNKS, c));
    finals.forEach(f -> ctx.output(RESPONSES, f));
    loop.expire(now).forEach(f -> ctx.output(RESPONSES, f)); // deadlines
    loop.drainEtas(now).forEach(e -> ctx.output(ETAS, e));
    EngineStatus status = loop.drainStatus();
    if (status != null) {
      ctx.output(STATUS, status);
    }
    if (loop.idle()) { // gone quiet: one more status a moment later counts whatever was on its way
      ctx.timerService().registerProcessingTimeTimer(now + QUIET_STATUS_MS);
    }
    state.update(EngineSlot.of(loop));
    metrics(ctx.getCurrentKey()).observe(loop, finals);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<StepCommand> out) throws Exception {
    ValueState<EngineSlot> state = getRuntimeContext().getState(loopState);
    if (state.value() == null) {
      return;
    }
    long now = ctx.timerService().currentProcessingTime();
    EngineLoop loop = loopOf(state, now);
    loop.expire(now).forEach(f -> ctx.output(RESPONSES, f));
    if (loop.giveUpStalledCommand(now)) {
      LOG.warn("engine-{}: no feedback for {} ms; command given up, resident requests will be recomputed",
          ctx.getCurrentKey(), config.stallTimeoutMs());
    }
    emit(loop, now, out);
    EngineStatus quiet = loop.statusIfQuiet(now);
    if (quiet != null) {
      ctx.output(STATUS, quiet);
    }
    state.update(EngineSlot.of(loop));
    if (!loop.idle()) {
      ctx.timerService().registerProcessingTimeTimer((now / TICK_MS + 1) * TICK_MS);
    }
  }

  /** This key's loop under the operator's settings; rebuilt from a restored checkpoint on first use. */
  private EngineLoop loopOf(ValueState<EngineSlot> state, long now) throws java.io.IOException {
    EngineSlot slot = state.value();
    boolean restoring = slot.pending();
    EngineLoop loop = slot.loop(config, now);
    if (restoring) {
      LOG.info("engine-{} restored: {} live requests re-queued for a new engine", loop.engineIndex(), loop.liveRequests());
    }
    loop.useSettings(config);
    return loop;
  }

  /** Issues commands until the engine's pipeline is full (or there is nothing to do). */
  private static void emit(EngineLoop loop, long now, Collector<StepCommand> out) {
    StepCommand c = loop.nextCommand(now);
    if (c == null && LOG.isDebugEnabled() && !loop.commandInFlight() && loop.liveRequests() > 0) {
      LOG.debug("no command although {} requests are live: running {}, queued {}, KV {}/{}", loop.liveRequests(),
          loop.running(), loop.queued(), loop.kvBlocksUsed(), loop.kvBlocksCapacity());
    }
    for (; c != null; c = loop.nextCommand(now)) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("{} step {}: admit {} resume {} preempt {} evict {} release {} decode {} x{}", c.getEngine(),
            c.getStepSeq(), c.getAdmit().stream().map(a -> a.getRequestId()).toList(), c.getResume(), c.getPreempt(),
            c.getEvict(), c.getRelease(), c.getDecode(), c.getDecodeSteps());
      }
      out.collect(c);
    }
  }

  /** The keyed state holding each engine's loop (for tests and state inspection). */
  public ValueStateDescriptor<EngineSlot> loopStateDescriptor() {
    return loopState;
  }

  private EngineMetrics metrics(int engineIndex) {
    return metrics.computeIfAbsent(engineIndex, i -> new EngineMetrics(
        getRuntimeContext().getMetricGroup().addGroup("engine", EngineId.of(i).name())));
  }

  /** Per-engine gauges and histograms, visible in the web UI and to metric reporters. */
  static final class EngineMetrics {
    private volatile int waiting;
    private volatile int running;
    private volatile int kvUsed;
    private volatile int kvCapacity;
    private volatile long preemptions;
    private volatile long evictions;
    private volatile long hopMs;
    private volatile int preempted;
    private volatile long unknownTenants;
    private long commandsSeen;
    private final Histogram decisionUs = new DescriptiveStatisticsHistogram(1000);
    private final Histogram predictionError = new DescriptiveStatisticsHistogram(1000);
    private final Histogram ttft = new DescriptiveStatisticsHistogram(1000);
    private final Histogram latency = new DescriptiveStatisticsHistogram(1000);

    EngineMetrics(MetricGroup g) {
      g.gauge("waiting", () -> waiting);
      g.gauge("running", () -> running);
      g.gauge("preempted", () -> preempted);
      g.gauge("kvBlocksUsed", () -> kvUsed);
      g.gauge("kvBlocksCapacity", () -> kvCapacity);
      g.gauge("preemptions", () -> preemptions);
      g.gauge("evictions", () -> evictions);
      g.gauge("loopHopMs", () -> hopMs);
      g.gauge("unknownTenantRequests", () -> unknownTenants);
      g.histogram("ttftMs", ttft);
      g.histogram("latencyMs", latency);
      g.histogram("decisionUs", decisionUs);
      // |initial prediction − output tokens| of each finished request that had a prediction
      g.histogram("initialPredictionErrorTokens", predictionError);
    }

    void observe(EngineLoop loop, List<FinalResponse> finals) {
      waiting = loop.queued();
      running = loop.running();
      kvUsed = loop.kvBlocksUsed();
      kvCapacity = loop.kvBlocksCapacity();
      preemptions = loop.preemptions();
      evictions = loop.evictions();
      hopMs = loop.stats().lastHopMs();
      preempted = loop.preempted();
      unknownTenants = loop.unknownTenantRequests();
      if (loop.stats().commands() > commandsSeen) {
        commandsSeen = loop.stats().commands();
        decisionUs.update(Math.round(loop.stats().lastDecisionUs()));
      }
      for (FinalResponse f : finals) {
        ttft.update(f.getTtftMs());
        latency.update(f.getLatencyMs());
        if (f.getInitialPrediction() != null) {
          predictionError.update(Math.round(Math.abs(f.getInitialPrediction() - f.getOutputTokens())));
        }
      }
    }
  }
}
