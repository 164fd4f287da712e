package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.EngineStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class OverloadGateTest {
  static EngineStatus status(int engine, long atMs, int running, int waiting) {
    return EngineStatus.newBuilder().setEngine(EngineId.of(engine).name()).setPolicy("trail")
        .setAt(Instant.ofEpochMilli(atMs)).setStepSeq(1).setRunning(running).setWaiting(waiting).setPreempted(0)
        .setKvBlocksUsed(0).setKvBlocksCapacity(100).setNewTokens(0).setBusyMs(1).setPredictedWorkTokens(0)
        .setPlacementsSeen(0).setEnded(List.of()).build();
  }

  @Test
  void requestsGoInUntilTheEnginesHoldTheirSlotsAndWaitingRoomAndAgainAsTheyFinish() {
    OverloadGate gate = new OverloadGate(2, 2, 3, 1_000); // room for 2 × (2 + 3) = 10
    for (int i = 0; i < 10; i++) {
      assertTrue(gate.hasRoom(2_300), "request " + i);
      gate.letThrough(2_000);
    }
    assertFalse(gate.hasRoom(2_300), "ten on their way");
    gate.observe(status(0, 2_010, 2, 3)); // engine 0 has 5 of them; the others may still be on their way
    assertEquals(15, gate.inFlight(2_300), "within the transit window nothing let through is forgotten");
    gate.observe(status(0, 2_100, 2, 3));
    gate.observe(status(1, 2_100, 2, 3));
    assertEquals(10, gate.inFlight(2_300), "both statuses count them");
    assertFalse(gate.hasRoom(2_300));
    gate.observe(status(1, 2_200, 2, 1)); // two finished on engine 1
    assertEquals(8, gate.inFlight(2_300));
    assertTrue(gate.hasRoom(2_300));
    gate.letThrough(2_201);
    gate.letThrough(2_202);
    assertFalse(gate.hasRoom(2_300));
  }

  @Test
  void statusesOfAnotherRunOrOlderThanOneAppliedChangeNothing() {
    OverloadGate gate = new OverloadGate(1, 2, 2, 1_000);
    gate.observe(status(0, 500, 2, 2)); // a previous run's
    assertEquals(0, gate.inFlight(2_300));
    gate.observe(status(0, 1_500, 1, 0));
    gate.observe(status(0, 1_400, 2, 2)); // late
    assertEquals(1, gate.inFlight(2_300));
    gate.observe(EngineStatus.newBuilder(status(0, 1_600, 2, 2)).setEngine("engine-7").build()); // no such engine
    gate.observe(EngineStatus.newBuilder(status(0, 1_600, 2, 2)).setEngine("elsewhere").build());
    assertEquals(1, gate.inFlight(2_300));
    assertEquals(1, gate.statusesApplied());
  }

  @Test
  void requestsAnEngineFinishedBeforeAStatusCountedThemAreCountedByItsQuietStatus() {
    OverloadGate gate = new OverloadGate(1, 2, 2, 1_000);
    for (int i = 0; i < 4; i++) {
      gate.letThrough(5_000);
    }
    gate.observe(status(0, 5_020, 0, 0)); // it finished them all before a status could count them
    assertFalse(gate.hasRoom(5_100), "within the transit window they still count");
    gate.observe(status(0, 5_220, 0, 0)); // the status of an engine gone quiet, a moment later
    assertEquals(0, gate.inFlight(5_300));
    assertTrue(gate.hasRoom(5_300));
  }

  @Test
  void withoutStatusesTheGateStillOpensAfterTenSeconds() {
    OverloadGate gate = new OverloadGate(1, 2, 2, 1_000);
    for (int i = 0; i < 4; i++) {
      gate.letThrough(5_000);
    }
    assertFalse(gate.hasRoom(14_000));
    assertTrue(gate.hasRoom(15_000), "no engine waits forever on statuses that cannot be read");
  }

  @Test
  void backpressureNeedsAWaitingLimit() {
    assertThrows(IllegalArgumentException.class, () -> new OverloadGate(1, 4, 0, 0));
  }
}
