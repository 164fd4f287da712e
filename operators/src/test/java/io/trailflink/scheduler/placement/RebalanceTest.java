package io.trailflink.scheduler.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class RebalanceTest {
  /** An engine with 4 slots, {@code requests} live requests and ample KV: it runs up to 4. */
  private static EngineLoad load(int requests) {
    return new EngineLoad(requests, Math.min(requests, 4), 4, 0, 100, 100);
  }

  @Test
  void aWaitingRequestMovesFromTheLongestQueueToTheShortest() {
    // queues 2, 5, 0 (one running), 0 (four running)
    List<EngineLoad> loads = List.of(load(6), load(9), load(1), load(4));
    assertEquals(new Rebalance.Move(1, 2), new Rebalance(1).next(loads, i -> true), "ties: fewer running");
  }

  @Test
  void gapsWithinTheThresholdAreLeftAlone() {
    List<EngineLoad> loads = List.of(load(7), load(3)); // queues 3 and 0
    assertEquals(new Rebalance.Move(0, 1), new Rebalance(2).next(loads, i -> true));
    assertNull(new Rebalance(3).next(loads, i -> true));
    // a gap of 1 would only swap the imbalance: never moved
    assertNull(new Rebalance(1).next(List.of(load(5), load(4)), i -> true));
  }

  @Test
  void onlyAnEngineWithAWaitingRequestThatHasNotStartedGives() {
    List<EngineLoad> loads = List.of(load(9), load(7), load(0));
    assertEquals(new Rebalance.Move(1, 2), new Rebalance(1).next(loads, i -> i != 0));
    assertNull(new Rebalance(1).next(loads, i -> false));
  }

  @Test
  void anEngineWhoseRequestsAllRunNeverGives() {
    // 4 running and none queued against an idle engine: nothing waits, nothing moves
    assertNull(new Rebalance(1).next(List.of(load(4), load(0)), i -> true));
  }

  @Test
  void whereKvBindsRequestsWaitingForMemoryCountAsQueued() {
    // 256 slots each; engine 0 runs 40 with its KV full and 10 waiting, engine 1 runs 20 with KV to spare
    EngineLoad full = new EngineLoad(50, 40, 256, 0, 0, 800);
    EngineLoad roomy = new EngineLoad(20, 20, 256, 0, 300, 800);
    assertEquals(new Rebalance.Move(0, 1), new Rebalance(1).next(List.of(full, roomy), i -> true));
  }

  @Test
  void offNeverMovesAndANegativeThresholdIsRefused() {
    assertNull(Rebalance.OFF.next(List.of(load(20), load(0)), i -> true));
    assertNull(new Rebalance(1).next(List.of(load(20)), i -> true));
    assertThrows(IllegalArgumentException.class, () -> new Rebalance(-1));
  }
}
