package io.trailflink.scheduler.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class RebalanceTest {
  /** An engine with 4 slots and {@code requests} live requests. */
  private static EngineLoad load(int requests) {
    return new EngineLoad(requests, Math.min(requests, 4), 4, 0, 100, 100);
  }

  @Test
  void aWaitingRequestMovesFromTheMostCrowdedEngineToTheQuietest() {
    List<EngineLoad> loads = List.of(load(6), load(9), load(1), load(4));
    assertEquals(new Rebalance.Move(1, 2), new Rebalance(1).next(loads, i -> true));
  }

  @Test
  void gapsWithinTheThresholdAreLeftAlone() {
    // excesses 2 and -1: a gap of 3
    List<EngineLoad> loads = List.of(load(6), load(3));
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
  void anEngineWithAFreeSlotNeverGives() {
    // 4 slots each: engine 0 holds 4 (no one waits), engine 1 none; a gap of 4, but nothing waits for a slot
    assertNull(new Rebalance(1).next(List.of(load(4), load(0)), i -> true));
    assertEquals(new Rebalance.Move(0, 1), new Rebalance(1).next(List.of(load(5), load(0)), i -> true));
  }

  @Test
  void offNeverMovesAndANegativeThresholdIsRefused() {
    assertNull(Rebalance.OFF.next(List.of(load(20), load(0)), i -> true));
    assertNull(new Rebalance(1).next(List.of(load(20)), i -> true));
    assertThrows(IllegalArgumentException.class, () -> new Rebalance(-1));
  }
}
