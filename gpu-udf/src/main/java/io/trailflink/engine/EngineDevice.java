package io.trailflink.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the device an engine runs on and logs the choice: GPU when present (or asked for), else CPU. */
public final class EngineDevice {
  private static final Logger LOG = LoggerFactory.getLogger(EngineDevice.class);

  private EngineDevice() {}

  /**
   * @param preference "auto", "cpu", "gpu" or "gpu:N"
   * @param assignedGpu GPU index assigned by the cluster (Flink's external resource), or -1
   */
  public static Device choose(String preference, int assignedGpu) {
    int gpus = Engine.getInstance().getGpuCount();
    String p = preference == null ? "auto" : preference.trim().toLowerCase(java.util.Locale.ROOT);
    Device device;
    if (p.equals("cpu")) {
      device = Device.cpu();
    } else if (p.equals("auto")) {
      device = gpus > 0 ? Device.gpu(assignedGpu >= 0 ? assignedGpu : 0) : Device.cpu();
    } else if (p.startsWith("gpu")) {
      int idx = p.contains(":") ? Integer.parseInt(p.substring(p.indexOf(':') + 1)) : Math.max(assignedGpu, 0);
      if (idx >= gpus) {
        throw new IllegalArgumentException(
            "device '" + preference + "' asked for, but this machine has " + gpus + " GPU(s) visible to PyTorch");
      }
      device = Device.gpu(idx);
    } else {
      throw new IllegalArgumentException("device must be auto, cpu, gpu or gpu:N, got '" + preference + "'");
    }
    LOG.info("decode engine device: {} (preference {}, {} GPU(s) visible, assigned GPU {})",
        device, p, gpus, assignedGpu);
    return device;
  }

  /**
   * Sets PyTorch's intra-op thread count for CPU work started from the calling thread, and logs it.
   *
   * @param threads the count, or 0 for PyTorch's default capped at one fewer than the available cores (at least 1)
   */
  public static void limitCpuThreads(int threads) {
    int n = threads > 0 ? threads : autoCpuThreads(ai.djl.pytorch.jni.JniUtils.getNumThreads(),
        Runtime.getRuntime().availableProcessors());
    ai.djl.pytorch.jni.JniUtils.setNumThreads(n);
    LOG.info("decode engine CPU threads: {} (of {} cores)", ai.djl.pytorch.jni.JniUtils.getNumThreads(),
        Runtime.getRuntime().availableProcessors());
  }

  /** PyTorch's default thread count, leaving one of {@code cores} free; at least 1. */
  static int autoCpuThreads(int pytorchDefault, int cores) {
    return Math.max(1, Math.min(pytorchDefault, cores - 1));
  }
}
