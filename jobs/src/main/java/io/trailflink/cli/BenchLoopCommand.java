package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.flink.SchedulerFunction;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.Sampling;
import io.trailflink.schema.StepCommand;
import io.trailflink.serving.EngineId;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail bench-loop}: what one feedback record costs on its way into the schedulers' state, at several engine
 * counts, in a Flink MiniCluster. Each engine's scheduler holds a loop with a command in flight; the feedback
 * records (round robin over the engines) name other commands, so each is routed to its engine's state, read, found
 * stale and written back — the path every feedback record takes before any scheduling. {@code keyed} is the job's
 * path (feedback keyed by engine); {@code broadcast} is the one before it (every record to every scheduler subtask,
 * which scans all its keys), measured beside it. Cost per record = (time with M records − time with none) / M,
 * median of the repeats.
 */
@Command(name = "bench-loop", description = "Feedback cost per record into the schedulers' state versus the engine count.")
final class BenchLoopCommand implements Callable<Integer> {
  private final ProgressLine line = new ProgressLine();

  @Option(names = "--engines", split = ",", defaultValue = "1,8,64") int[] engines;
  @Option(names = "--records", defaultValue = "400000", description = "Feedback records per run (default ${DEFAULT-VALUE}).") int records;
  @Option(names = "--routing", split = ",", defaultValue = "keyed,broadcast", description = "keyed (the job's) and/or broadcast (the earlier design).") List<String> routings;
  @Option(names = "--parallelism", defaultValue = "2", description = "Scheduler subtasks (default ${DEFAULT-VALUE}).") int parallelism;
  @Option(names = "--repeats", defaultValue = "3") int repeats;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() throws Exception {
    for (String r : routings) {
      if (!List.of("keyed", "broadcast").contains(r)) {
        throw new IllegalArgumentException("--routing must be keyed or broadcast, got '" + r + "'");
      }
    }
    if (records < 1 || repeats < 1 || parallelism < 1 || Arrays.stream(engines).anyMatch(e -> e < 1)) {
      throw new IllegalArgumentException("--records, --repeats, --parallelism and --engines must be >= 1");
    }
    JsonObject out = new JsonObject();
    for (String routing : routings) {
      JsonObject byEngines = new JsonObject();
      double first = Double.NaN;
      double last = Double.NaN;
      for (int n : engines) {
        double[] us = new double[repeats];
        for (int rep = 0; rep < repeats; rep++) {
          double empty = runSeconds(routing, n, 0);
          double full = runSeconds(routing, n, records);
          us[rep] = (full - empty) / records * 1e6;
          if (!json) {
            line.show(String.format(Locale.ROOT, "%s, %d engine(s): run %d/%d", routing, n, rep + 1, repeats));
          }
        }
        Arrays.sort(us);
        double median = us[repeats / 2];
        first = Double.isNaN(first) ? median : first;
        last = median;
        JsonObject o = new JsonObject();
        Stats.put(o, "us_per_record", median);
        Stats.put(o, "records_per_s", 1e6 / median);
        byEngines.add(String.valueOf(n), o);
        if (!json) {
          line.end();
          System.out.printf(Locale.ROOT, "%-9s %3d engine(s): %6.2f µs per feedback record (%,.0f records/s)%n",
              routing, n, median, 1e6 / median);
        }
      }
      Stats.put(byEngines, "ratio_last_over_first", last / first);
      out.add(routing, byEngines);
      if (!json) {
        System.out.printf(Locale.ROOT, "%-9s cost at %d engines ÷ at %d: %.2f×%n", routing,
            engines[engines.length - 1], engines[0], last / first);
      }
    }
    if (json) {
      System.out.println(out);
    }
    return 0;
  }

  /** Wall time (s) of one MiniCluster run: n engines with a command in flight each, then {@code m} stale feedbacks. */
  private double runSeconds(String routing, int n, int m) throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
    ServingConfig config = new ServingConfig("fcfs", n, 4, 64, 16, 4, 64, 1024, 600_000);
    List<ValidatedRequest> requests = new ArrayList<>();
    for (int e = 0; e < n; e++) {
      requests.add(new ValidatedRequest("r" + e, "", new int[] {1, 2}, 8, 0, Sampling.newBuilder().build(),
          List.of(), 0, e, null));
    }
    DataStream<ValidatedRequest> placed = env.fromData(requests).setParallelism(1);
    long count = m;
    DataStream<EngineFeedback> feedback = env.fromSequence(0, Math.max(0, count - 1)).setParallelism(1)
        .filter(i -> i < count).setParallelism(1)
        .map(new StaleFeedback(n)).returns(new AvroTypeInfo<>(EngineFeedback.class)).setParallelism(1);
    DataStream<StepCommand> commands = routing.equals("keyed")
        ? placed.keyBy(ValidatedRequest::engineIndex, Types.INT)
            .connect(feedback.keyBy(fb -> EngineId.keyOf(fb.getEngine()), Types.INT))
            .process(new SchedulerFunction(config))
        : placed.keyBy(ValidatedRequest::engineIndex, Types.INT)
            .connect(feedback.broadcast(BroadcastBaseline.LAST_STEP))
            .process(new BroadcastBaseline(config));
    Sink<StepCommand> discard = new DiscardingSink<>();
    commands.sinkTo(discard);
    long t0 = System.nanoTime();
    env.execute("bench-loop " + routing + " " + n);
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Feedback for engine {@code i mod n}, naming a command that is not in flight; waits 2 s first, for the loops. */
  static final class StaleFeedback extends RichMapFunction<Long, EngineFeedback> {
    private final int engines;

    StaleFeedback(int engines) {
      this.engines = engines;
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
      Thread.sleep(2_000);
    }

    @Override
    public EngineFeedback map(Long i) {
      return EngineFeedback.newBuilder().setEngine(EngineId.of((int) (i % engines)).name()).setEngineIncarnation("b")
          .setStepSeq(-1).setIssuedAtMs(0).setFinishedAtMs(0).setPublishedAtMs(0).setBusyMs(0).setBlocksUsed(0)
          .setBlockCapacity(64).setProgress(List.of()).setPredictions(List.of()).build();
    }
  }

  /**
   * The scheduler's feedback side as it was before feedback was keyed: broadcast to every subtask, each scanning its
   * keys for the one engine the record is for. Kept here only to measure against.
   */
  static final class BroadcastBaseline
      extends KeyedBroadcastProcessFunction<Integer, ValidatedRequest, EngineFeedback, StepCommand> {
    static final MapStateDescriptor<String, Long> LAST_STEP =
        new MapStateDescriptor<>("last-feedback-step", String.class, Long.class);
    private final ServingConfig config;
    private final ValueStateDescriptor<EngineLoop> loopState =
        new ValueStateDescriptor<>("engine-loop", new io.trailflink.flink.JavaSerializer<>(EngineLoop.class));

    BroadcastBaseline(ServingConfig config) {
      this.config = config;
    }

    @Override
    public void processElement(ValidatedRequest r, ReadOnlyContext ctx, Collector<StepCommand> out) throws Exception {
      ValueState<EngineLoop> state = getRuntimeContext().getState(loopState);
      EngineLoop loop = new EngineLoop(ctx.getCurrentKey(), config);
      loop.submit(r, 0);
      for (StepCommand c = loop.nextCommand(0); c != null; c = loop.nextCommand(0)) {
        out.collect(c);
      }
      state.update(loop);
    }

    @Override
    public void processBroadcastElement(EngineFeedback fb, Context ctx, Collector<StepCommand> out) throws Exception {
      ctx.getBroadcastState(LAST_STEP).put(fb.getEngine(), fb.getStepSeq());
      ctx.applyToKeyedState(loopState, (engineIndex, state) -> {
        EngineLoop loop = state.value();
        if (loop == null || !EngineId.of(engineIndex).name().equals(fb.getEngine())) {
          return;
        }
        loop.apply(fb, 0);
        for (StepCommand c = loop.nextCommand(0); c != null; c = loop.nextCommand(0)) {
          out.collect(c);
        }
        loop.drainChunks();
        loop.expire(0);
        loop.drainEtas(0);
        loop.drainStatus();
        state.update(loop);
      });
    }
  }
}
