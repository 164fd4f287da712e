package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

class ThreadPriorityTest {
  private static final int APPLIED = 0;
  private static final int OWN = 1;
  private static final int CHILD = 2;

  @Test
  void niceLowersOnlyTheCallingThreadAndItsLaterChildren() throws Exception {
    assumeLinux();
    int before = ThreadPriority.currentNice();
    assumeTrue(before >= 0 && before < 19, "already at the lowest priority");
    int target = Math.min(19, before + 7);
    AtomicIntegerArray seen = inNewThread(new EnginePriority(target, false), ThreadPriority::currentNice);
    assertEquals(1, seen.get(APPLIED));
    assertEquals(target, seen.get(OWN));
    assertEquals(target, seen.get(CHILD), "threads started afterwards inherit it");
    assertEquals(before, ThreadPriority.currentNice(), "other threads keep theirs");
  }

  @Test
  void idleMovesOnlyTheCallingThreadAndItsLaterChildrenToSchedIdle() throws Exception {
    assumeLinux();
    int before = ThreadPriority.currentPolicy();
    assumeTrue(before == 0, "test thread not under SCHED_OTHER");
    AtomicIntegerArray seen = inNewThread(EnginePriority.IDLE, ThreadPriority::currentPolicy);
    assertEquals(1, seen.get(APPLIED));
    assertEquals(ThreadPriority.SCHED_IDLE, seen.get(OWN));
    assertEquals(ThreadPriority.SCHED_IDLE, seen.get(CHILD), "threads started afterwards inherit it");
    assertEquals(0, ThreadPriority.currentPolicy(), "other threads keep theirs");
  }

  @Test
  void unchangedChangesNothing() throws Exception {
    assumeLinux();
    int nice = ThreadPriority.currentNice();
    AtomicIntegerArray seen = inNewThread(EnginePriority.UNCHANGED, ThreadPriority::currentNice);
    assertEquals(0, seen.get(APPLIED));
    assertEquals(nice, seen.get(OWN));
  }

  @Test
  void parsesTheFlagAndRefusesWhatItIsNot() {
    assertEquals(EnginePriority.IDLE, EnginePriority.parse("idle"));
    assertEquals(new EnginePriority(10, false), EnginePriority.parse("10"));
    assertEquals(EnginePriority.UNCHANGED, EnginePriority.parse("0"));
    assertEquals("idle", EnginePriority.IDLE.toString());
    for (String bad : new String[] {"20", "-1", "low", ""}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EnginePriority.parse(bad));
      assertEquals("'" + bad + "' is not a nice value 0-19 or 'idle'", e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> ThreadPriority.lowerNice(0));
    assertThrows(IllegalArgumentException.class, () -> ThreadPriority.lowerNice(20));
  }

  private static void assumeLinux() {
    assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "per-thread priorities are Linux-only");
  }

  /** Applies {@code p} in a fresh thread; records whether it applied, the probe there, and in a child it starts. */
  private static AtomicIntegerArray inNewThread(EnginePriority p, IntSupplier probe)
      throws InterruptedException {
    AtomicIntegerArray seen = new AtomicIntegerArray(3);
    Thread t = new Thread(() -> {
      seen.set(APPLIED, p.applyToCurrentThread() ? 1 : 0);
      seen.set(OWN, probe.getAsInt());
      Thread child = new Thread(() -> seen.set(CHILD, probe.getAsInt()));
      child.start();
      try {
        child.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    t.start();
    t.join();
    return seen;
  }
}
