package io.trailflink.engine.flink;

import ai.djl.Device;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.EnginePriority;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.StepExecutor;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.text.TextCodec;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flink async I/O around one decode engine per subtask: {@link StepCommand}s run one at a time on a dedicated
 * decode thread (the engine is single-threaded), {@link StepResult}s complete the {@link ResultFuture}. Engine
 * errors come back as results with {@code error} set, never as exceptions that would fail the job.
 *
 * <p>Placement: subtask i owns the engine with index i; the job routes commands with a partitioner on
 * {@code engine_index}, and a command for another engine is answered with an error.
 */
public class DecodeStepFunction extends RichAsyncFunction<StepCommand, StepResult> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DecodeStepFunction.class);
  /** Flink external-resource name of GPUs on a TaskManager. */
  public static final String GPU_RESOURCE = "gpu";

  // -- configuration
  private final String modelDir;
  private final EngineConfig engineConfig;
  /** Fault drill: fail the task once (per JVM) at this command; 0 = never. */
  private final int failAtCommand;
  private static final AtomicBoolean DRILL_DONE = new AtomicBoolean();
  /** PyTorch intra-op threads of a CPU engine; 0 = auto (one core left to Flink and Kafka). */
  private int cpuThreads;
  private EnginePriority cpuPriority = EnginePriority.UNCHANGED; // of a CPU engine's decode thread

  // -- runtime
  private transient ExecutorService decodeThread;
  private transient LlamaEngine engine;
  private transient TextCodec text;
  private transient StepExecutor executor;
  private transient int engineIndex;
  private transient int commands;

  public DecodeStepFunction(String modelDir, EngineConfig engineConfig) {
    this(modelDir, engineConfig, 0);
  }

  /**
   * @param failAtCommand fault drill: the task fails (once per JVM) when it receives its command number
   *     {@code failAtCommand}, so that recovery — restore, engine re-creation, re-admission — can be rehearsed
   */
  public DecodeStepFunction(String modelDir, EngineConfig engineConfig, int failAtCommand) {
    this.modelDir = modelDir;
    this.engineConfig = engineConfig;
    this.failAtCommand = failAtCommand;
  }

  /**
   * Sets a CPU engine's PyTorch intra-op threads: {@code threads}, or with 0 (auto) PyTorch's default capped at
   * one fewer than the cores, so that the Flink tasks and a local broker keep a core (on 2 cores that made the
   * engine 1.5× faster: `docs/benchmarks.md`). Ignored on a GPU.
   */
  public DecodeStepFunction cpuThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("engine CPU threads (--engine-threads) must be >= 0, got " + threads);
    }
    this.cpuThreads = threads;
    return this;
  }

  /**
   * Runs a CPU engine's decode thread (and the PyTorch threads it starts) at a lower CPU priority — a nice value or
   * SCHED_IDLE — so that the scheduler and Kafka threads on the same cores preempt it. Ignored on a GPU, where the
   * decode thread mostly waits for the device.
   */
  public DecodeStepFunction cpuPriority(EnginePriority priority) {
    this.cpuPriority = Objects.requireNonNull(priority);
    return this;
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    warnIfDjlIsJobLoaded();
    int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    int gpu = assignedGpu();
    decodeThread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "decode-engine-" + subtask);
      t.setDaemon(true);
      return t;
    });
    engineIndex = subtask;
    Checkpoint checkpoint = Checkpoint.load(Path.of(modelDir));
    Path tokenizer = checkpoint.dir().resolve(Checkpoint.TOKENIZER_FILE);
    text = Files.exists(tokenizer) ? new TextCodec(tokenizer) : null;
    if (text == null) {
      LOG.warn("{}: no tokenizer; results carry token ids without text", modelDir);
    }
    engine = decodeThread.submit(() -> {
      Device device = EngineDevice.choose(engineConfig.device(), gpu);
      if ("cpu".equals(device.getDeviceType())) {
        if (cpuPriority.applyToCurrentThread()) {
          LOG.info("decode engine thread at CPU priority {}", cpuPriority);
        }
        EngineDevice.limitCpuThreads(cpuThreads); // from the decode thread itself: OpenMP's setting is per thread
      }
      return new LlamaEngine(checkpoint, engineConfig, device);
    }).get();
    executor = new StepExecutor(engine, text);
    LOG.info("subtask {} owns engine-{} on {} ({} KV blocks of {} tokens, incarnation {})", subtask, subtask,
        engine.device(), engine.blockCapacity(), engine.blockSize(), executor.incarnation());
  }

  /**
   * DJL loaded by the job's classloader (the job jar) rather than the JVM's: its native libraries then stay bound
   * to this job, and the next job on this TaskManager fails with "already loaded in another classloader".
   */
  private static void warnIfDjlIsJobLoaded() {
    if (ai.djl.engine.Engine.class.getClassLoader() != ClassLoader.getSystemClassLoader()) {
      LOG.warn("DJL is loaded from the job jar, not the TaskManager's classpath: a later job on this TaskManager "
          + "will fail to load its native libraries. Put jobs/target/flink-lib/*.jar into Flink's lib/ "
          + "(docker-compose.yml mounts it) with classloader.resolve-order: parent-first.");
    }
  }

  /** GPU index Flink's external-resource framework assigned to this TaskManager, or -1. */
  private int assignedGpu() {
    try {
      Set<ExternalResourceInfo> gpus = getRuntimeContext().getExternalResourceInfos(GPU_RESOURCE);
      for (ExternalResourceInfo info : gpus) {
        return info.getProperty("index").map(Integer::parseInt).orElse(-1);
      }
    } catch (RuntimeException e) {
      LOG.debug("no '{}' external resource configured", GPU_RESOURCE, e);
    }
    return -1;
  }

  @Override
  public void asyncInvoke(StepCommand command, ResultFuture<StepResult> resultFuture) {
    if (++commands == failAtCommand && DRILL_DONE.compareAndSet(false, true)) {
      LOG.warn("fault drill: failing engine-{} at command {}", engineIndex, commands);
      resultFuture.completeExceptionally(new IllegalStateException("fault drill: injected engine failure at command "
          + commands + " (--fail-at-command)"));
      return;
    }
    decodeThread.execute(() -> {
      StepResult result;
      try {
        result = command.getEngineIndex() == engineIndex ? executor.execute(command)
            : failure(command, "command for engine " + command.getEngineIndex() + " reached engine " + engineIndex);
      } catch (Throwable t) { // native errors (e.g. out of device memory) must not kill the job
        result = failure(command, "engine failure: " + t);
      }
      resultFuture.complete(List.of(result));
    });
  }

  private StepResult failure(StepCommand c, String error) {
    long now = System.currentTimeMillis();
    return StepResult.newBuilder().setEngine(c.getEngine()).setEngineIncarnation(executor.incarnation())
        .setStepSeq(c.getStepSeq()).setIssuedAtMs(c.getIssuedAtMs()).setIssuedAtUs(c.getIssuedAtUs())
        .setStartedAtMs(now).setFinishedAtMs(now)
        .setBusyMs(0).setBlocksUsed(engine.blocksUsed()).setBlockCapacity(engine.blockCapacity())
        .setProgress(List.of()).setError(error).build();
  }

  @Override
  public void close() throws Exception {
    // safe when open() never ran or failed half-way: Flink treats an exception here as fatal
    if (decodeThread != null) {
      if (engine != null) {
        LlamaEngine e = engine;
        decodeThread.submit(e::close);
      }
      decodeThread.shutdown();
      decodeThread.awaitTermination(30, TimeUnit.SECONDS);
    }
    if (text != null) {
      text.close();
    }
    engine = null;
    text = null;
    decodeThread = null;
  }
}
