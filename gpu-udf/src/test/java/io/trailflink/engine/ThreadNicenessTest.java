package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ThreadNicenessTest {
  @Test
  void lowersOnlyTheCallingThreadAndItsLaterChildren() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "per-thread nice is Linux-only");
    int before = ThreadNiceness.currentThread();
    assumeTrue(before >= 0 && before < 19, "already at the lowest priority");
    int target = Math.min(19, before + 7);
    AtomicIntegerArray seen = new AtomicIntegerArray(3); // applied?, own value, child's value
    Thread t = new Thread(() -> {
      seen.set(0, ThreadNiceness.lowerCurrentThread(target) ? 1 : 0);
      seen.set(1, ThreadNiceness.currentThread());
      Thread child = new Thread(() -> seen.set(2, ThreadNiceness.currentThread()));
      child.start();
      try {
        child.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    t.start();
    t.join();
    assertEquals(1, seen.get(0));
    assertEquals(target, seen.get(1));
    assertEquals(target, seen.get(2), "threads started afterwards inherit it");
    assertEquals(before, ThreadNiceness.currentThread(), "other threads keep theirs");
  }

  @Test
  void refusesValuesOutsideTheUnprivilegedRange() {
    assertThrows(IllegalArgumentException.class, () -> ThreadNiceness.lowerCurrentThread(0));
    assertThrows(IllegalArgumentException.class, () -> ThreadNiceness.lowerCurrentThread(20));
  }
}
