package io.trailflink.engine.flink;

import ai.djl.Device;
import io.trailflink.engine.EngineCommand;
import io.trailflink.engine.EngineCommandExecutor;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.EngineResult;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.model.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flink async I/O around one decode engine per subtask: commands run one at a time on a dedicated decode thread
 * (the engine is single-threaded), results complete the {@link ResultFuture}. Engine errors come back as failed
 * {@link EngineResult}s, never as exceptions that would fail the job.
 *
 * <p>Placement: subtask i owns engine "engine-i"; the scheduler must route engine-i's commands here (same
 * parallelism and a forward edge, or a partitioner on the engine index).
 */
public class DecodeStepFunction extends RichAsyncFunction<EngineCommand, EngineResult> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DecodeStepFunction.class);
  /** Flink external-resource name of GPUs on a TaskManager. */
  public static final String GPU_RESOURCE = "gpu";

  // -- configuration
  private final String modelDir;
  private final EngineConfig engineConfig;

  // -- runtime
  private transient ExecutorService decodeThread;
  private transient LlamaEngine engine;

  public DecodeStepFunction(String modelDir, EngineConfig engineConfig) {
    this.modelDir = modelDir;
    this.engineConfig = engineConfig;
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    int gpu = assignedGpu();
    decodeThread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "decode-engine-" + subtask);
      t.setDaemon(true);
      return t;
    });
    Checkpoint checkpoint = Checkpoint.load(Path.of(modelDir));
    engine = decodeThread.submit(() -> {
      Device device = EngineDevice.choose(engineConfig.device(), gpu);
      return new LlamaEngine(checkpoint, engineConfig, device);
    }).get();
    LOG.info("subtask {} owns engine-{} on {} ({} KV blocks of {} tokens)", subtask, subtask, engine.device(),
        engine.blockCapacity(), engine.blockSize());
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
  public void asyncInvoke(EngineCommand command, ResultFuture<EngineResult> resultFuture) {
    decodeThread.execute(() -> {
      EngineResult result;
      try {
        result = EngineCommandExecutor.apply(engine, command);
      } catch (Throwable t) { // native errors (e.g. out of device memory) must not kill the job
        result = new EngineResult(command.engineId(), command.sequence(), List.of(), 0, 0, 0,
            "engine failure: " + t);
      }
      resultFuture.complete(List.of(result));
    });
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
    engine = null;
    decodeThread = null;
  }
}
