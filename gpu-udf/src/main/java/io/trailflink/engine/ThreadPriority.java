package io.trailflink.engine;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the calling thread's CPU priority on Linux, where nice value and scheduling policy are per-thread
 * attributes. A CPU decode engine is bulk work that would otherwise hold a core against the latency-critical
 * threads beside it — the scheduler, Kafka clients, a local broker. Threads the caller starts later (PyTorch's
 * OpenMP workers) inherit both attributes. Only lowering is offered: raising needs privileges.
 */
public final class ThreadPriority {
  private static final Logger LOG = LoggerFactory.getLogger(ThreadPriority.class);
  private static final int PRIO_PROCESS = 0; // with who = 0: the calling thread on Linux
  /** Linux's SCHED_IDLE policy: runs only when no normal thread wants the core; preempted at once on a wakeup. */
  public static final int SCHED_IDLE = 5;

  private ThreadPriority() {}

  private interface CLib extends Library {
    int setpriority(int which, int who, int prio);

    int sched_setscheduler(int pid, int policy, int[] param);

    int sched_getscheduler(int pid);
  }

  /**
   * Sets the calling thread's nice value to {@code nice} (1–19). Returns false, with a warning, where the platform
   * does not allow it; the thread then runs as before.
   */
  public static boolean lowerNice(int nice) {
    if (nice < 1 || nice > 19) {
      throw new IllegalArgumentException("engine nice value must be in 1..19, got " + nice);
    }
    return call("nice value " + nice, c -> c.setpriority(PRIO_PROCESS, 0, nice));
  }

  /**
   * Moves the calling thread to SCHED_IDLE: a normal thread that wakes preempts it immediately, where a nice value
   * only shifts its share. Returns false, with a warning, where the platform does not allow it.
   */
  public static boolean becomeIdle() {
    return call("SCHED_IDLE", c -> c.sched_setscheduler(0, SCHED_IDLE, new int[] {0}));
  }

  /** The calling thread's scheduling policy (0 = SCHED_OTHER, 5 = SCHED_IDLE, ...), or -1 where unknown. */
  public static int currentPolicy() {
    try {
      return lib().sched_getscheduler(0);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return -1;
    }
  }

  /** The calling thread's nice value as the kernel reports it (Linux), or {@code Integer.MIN_VALUE} elsewhere. */
  public static int currentNice() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // after "pid (comm) "
      return Integer.parseInt(f[16]); // field 19 of stat; f[0] is field 3
    } catch (IOException | RuntimeException e) {
      return Integer.MIN_VALUE;
    }
  }

  private interface Call {
    int on(CLib c);
  }

  private static boolean call(String what, Call call) {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      LOG.warn("engine priority ({}) not applied: per-thread priorities are set on Linux only", what);
      return false;
    }
    try {
      if (call.on(lib()) != 0) {
        LOG.warn("engine priority ({}) not applied: errno {}", what, Native.getLastError());
        return false;
      }
      return true;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      LOG.warn("engine priority ({}) not applied: {}", what, e.toString());
      return false;
    }
  }

  private static CLib lib() {
    return Native.load("c", CLib.class);
  }
}
