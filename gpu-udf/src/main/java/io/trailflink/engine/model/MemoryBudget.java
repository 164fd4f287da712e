package io.trailflink.engine.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Refuses a model that cannot fit before anything is loaded: its weights at the engine's width plus the KV pool
 * against the memory the machine has available ({@code MemAvailable} of {@code /proc/meminfo}, for a CPU engine).
 * Loading a checkpoint that does not fit would otherwise end in the kernel's OOM killer, taking the TaskManager
 * with it.
 */
public final class MemoryBudget {
  private MemoryBudget() {}

  /** Bytes the weights take at {@code type} (tied head counted once). */
  public static long weightBytes(LlamaWeights weights, ComputeType type) {
    return weights.parameterCount() * (type == ComputeType.F16 ? 2 : 4);
  }

  /**
   * @param source the checkpoint, for the message
   * @throws CheckpointException naming the sizes when {@code weightBytes + kvBytes} exceeds what is available
   */
  public static void requireFits(String source, long weightBytes, long kvBytes, ComputeType type) {
    long available = availableBytes();
    if (available > 0 && weightBytes + kvBytes > available) {
      throw new CheckpointException(String.format("%s: needs %.1f GB (weights at %s %.1f GB + KV pool %.1f GB) but "
          + "%.1f GB of memory is available; use a smaller --kv-blocks or %s", source,
          (weightBytes + kvBytes) / 1e9, type.name().toLowerCase(java.util.Locale.ROOT), weightBytes / 1e9,
          kvBytes / 1e9, available / 1e9, type == ComputeType.F32 ? "--dtype f16" : "a machine with more memory"));
    }
  }

  /** MemAvailable in bytes, or -1 where /proc/meminfo cannot be read. */
  static long availableBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: no check
    }
    return -1;
  }
}
