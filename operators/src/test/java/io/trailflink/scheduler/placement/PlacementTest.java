package io.trailflink.scheduler.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlacementTest {
  private static EngineLoad load(int requests, double work, int kvFree) {
    return new EngineLoad(requests, Math.min(requests, 4), 4, work, kvFree, 100);
  }

  @Test
  void leastRequestsCountsRequestsWhateverTheirSize() {
    List<EngineLoad> loads = List.of(load(3, 30, 50), load(2, 900, 50), load(5, 10, 50));
    assertEquals(1, new LeastRequests().choose("x", 64, loads));
  }

  @Test
  void leastPredictedWorkSumsPredictedTokensAndBreaksTiesByKvHeadroom() {
    List<EngineLoad> loads = List.of(load(3, 30, 50), load(2, 900, 50), load(5, 10, 50));
    assertEquals(2, new LeastPredictedWork().choose("x", 64, loads));
    List<EngineLoad> tied = List.of(load(3, 30, 10), load(2, 30, 70), load(5, 30, 40));
    assertEquals(1, new LeastPredictedWork().choose("x", 64, tied));
  }

  @Test
  void leastLoadPrefersAFreeSlotThenThePredictedWork() {
    // engine 0 has a free slot but much work; engine 1 is full (4 running, 2 waiting) with less work
    List<EngineLoad> loads = List.of(load(3, 900, 50), load(6, 100, 50));
    assertEquals(0, new LeastLoad().choose("x", 64, loads));
    List<EngineLoad> bothFree = List.of(load(3, 900, 50), load(2, 100, 50));
    assertEquals(1, new LeastLoad().choose("x", 64, bothFree));
  }

  @Test
  void equalEnginesShareNewRequestsInsteadOfTheFirstTakingAll() {
    List<EngineLoad> idle = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      idle.add(load(0, 0, 100));
    }
    int[] counts = new int[8];
    for (int k = 0; k < 8000; k++) {
      counts[new LeastRequests().choose("req-" + k, 64, idle)]++;
    }
    for (int c : counts) {
      assertTrue(c > 800 && c < 1200, java.util.Arrays.toString(counts));
    }
  }

  @Test
  void hashSpreadsSequentialIdsEvenlyOverManyEngines() {
    int[] counts = new int[64];
    for (int k = 0; k < 64_000; k++) {
      counts[Placement.hash("alpaca-" + (k % 805) + "#" + k, 64)]++;
    }
    for (int c : counts) { // a plain hashCode modulo left these ±15 % apart; binomial noise is about ±3 %
      assertTrue(c > 880 && c < 1120, java.util.Arrays.toString(counts));
    }
    assertEquals(Placement.hash("abc", 7), new HashPlacement().choose("abc", 1, List.of(
        load(0, 0, 0), load(0, 0, 0), load(0, 0, 0), load(0, 0, 0), load(0, 0, 0), load(0, 0, 0), load(0, 0, 0))));
  }

  @Test
  void namesParseAndUnknownOnesAreRefusedNamingTheKnownOnes() {
    for (String n : List.of("hash", "least-requests", "least-predicted-work", "least-load")) {
      assertEquals(n, Placements.parse(n).name());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Placements.parse("random"));
    assertTrue(e.getMessage().contains("unknown placement 'random'") && e.getMessage().contains(Placements.KNOWN));
  }
}
