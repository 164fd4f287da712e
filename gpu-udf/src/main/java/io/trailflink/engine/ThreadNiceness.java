package io.trailflink.engine;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the calling thread's CPU priority (Linux nice value, a per-thread attribute there). A CPU decode engine
 * is bulk work that would otherwise hold a core against the latency-critical threads beside it — the scheduler,
 * Kafka clients, a local broker; at a higher nice value those preempt it when they wake. Threads the caller
 * starts later (PyTorch's OpenMP workers) inherit the value.
 */
public final class ThreadNiceness {
  private static final Logger LOG = LoggerFactory.getLogger(ThreadNiceness.class);
  private static final int PRIO_PROCESS = 0; // with who = 0: the calling thread on Linux

  private ThreadNiceness() {}

  private interface CLib extends Library {
    int setpriority(int which, int who, int prio);
  }

  /**
   * Sets the calling thread's nice value to {@code nice} (1–19; raising priority would need privileges and is not
   * offered). Returns false, with a warning, where the platform does not allow it; the thread then runs as before.
   */
  public static boolean lowerCurrentThread(int nice) {
    if (nice < 1 || nice > 19) {
      throw new IllegalArgumentException("engine nice value must be in 1..19, got " + nice);
    }
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      LOG.warn("engine nice value {} not applied: per-thread priorities are set on Linux only", nice);
      return false;
    }
    try {
      CLib c = Native.load("c", CLib.class);
      if (c.setpriority(PRIO_PROCESS, 0, nice) != 0) {
        LOG.warn("engine nice value {} not applied: setpriority failed (errno {})", nice, Native.getLastError());
        return false;
      }
      return true;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      LOG.warn("engine nice value {} not applied: {}", nice, e.toString());
      return false;
    }
  }

  /** The calling thread's nice value as the kernel reports it (Linux), or {@code Integer.MIN_VALUE} elsewhere. */
  public static int currentThread() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // after "pid (comm) "
      return Integer.parseInt(f[16]); // field 19 of stat; f[0] is field 3
    } catch (IOException | RuntimeException e) {
      return Integer.MIN_VALUE;
    }
  }
}
