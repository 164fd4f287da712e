package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.scheduler.placement.LeastPredictedWork;
import io.trailflink.scheduler.placement.LeastRequests;
import io.trailflink.scheduler.placement.Placement;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.Sampling;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlacementBoardTest {
  static ValidatedRequest request(String id, int maxNew) {
    return new ValidatedRequest(id, "", new int[] {1, 2, 3}, maxNew, 0, Sampling.newBuilder().build(), List.of(), 0,
        -1, null);
  }

  static EngineStatus status(int engine, int running, int waiting, double work, long seen, List<String> ended) {
    return EngineStatus.newBuilder().setEngine(EngineId.of(engine).name()).setPolicy("trail").setAt(Instant.EPOCH)
        .setStepSeq(1).setRunning(running).setWaiting(waiting).setPreempted(0).setKvBlocksUsed(10)
        .setKvBlocksCapacity(100).setNewTokens(0).setBusyMs(1).setPredictedWorkTokens(work).setPlacementsSeen(seen)
        .setEnded(ended).build();
  }

  @Test
  void requestsOnTheirWayCountUntilAStatusCountsThem() {
    PlacementBoard b = new PlacementBoard(new LeastRequests(), 2, 4, 100);
    ValidatedRequest a = b.place(request("a", 64));
    ValidatedRequest c = b.place(request("c", 64));
    assertTrue(a.engineIndex() != c.engineIndex(), "the second goes to the other, empty engine");
    assertEquals(1, a.placementSeq());
    // engine of a reports it holds a and two more that arrived since (3 requests), having seen placement 1
    b.observe(status(a.engineIndex(), 3, 0, 90, 1, List.of()));
    assertEquals(3, b.loads().get(a.engineIndex()).requests(), "a is in the status, not counted twice");
    assertEquals(1, b.loads().get(c.engineIndex()).requests(), "c is on its way");
    assertEquals(c.engineIndex(), b.place(request("d", 64)).engineIndex());
  }

  @Test
  void predictedWorkComesFromTheStatusPlusTheCapsOfRequestsOnTheirWay() {
    PlacementBoard b = new PlacementBoard(new LeastPredictedWork(), 2, 4, 100);
    b.observe(status(0, 1, 0, 500, 0, List.of()));
    b.observe(status(1, 3, 0, 100, 0, List.of()));
    ValidatedRequest r = b.place(request("r", 300));
    assertEquals(1, r.engineIndex(), "100 predicted tokens beat 500");
    assertEquals(400, b.loads().get(1).predictedWorkTokens(), 1e-9);
    assertEquals(1, b.place(request("s", 200)).engineIndex(), "400 < 500 still");
    assertEquals(0, b.place(request("t", 64)).engineIndex(), "600 > 500: the other engine");
  }

  @Test
  void aCancelAndARepeatedIdGoWhereTheirRequestWentUntilItEnded() {
    PlacementBoard b = new PlacementBoard(new LeastRequests(), 4, 4, 100);
    ValidatedRequest first = b.place(request("x", 64));
    for (int i = 0; i < 5; i++) {
      b.place(request("other-" + i, 64));
    }
    assertEquals(first.engineIndex(), b.place(request("x", 8)).engineIndex(), "repeat: the engine that has it");
    ValidatedRequest cancel = b.place(ValidatedRequest.cancelOf("x", 0, -1, null));
    assertEquals(first.engineIndex(), cancel.engineIndex());
    assertEquals(0, cancel.placementSeq(), "a cancel is not a placement");
    assertEquals(Placement.hash("never", 4), b.place(ValidatedRequest.cancelOf("never", 0, -1, null)).engineIndex());
    // x was placed twice (the repeat is refused as a duplicate): forgotten once both placements are reported ended
    b.observe(status(first.engineIndex(), 0, 0, 0, 1, List.of("x")));
    assertEquals(6, b.liveRequests(), "one placement of x still counted");
    assertEquals(first.engineIndex(), b.place(ValidatedRequest.cancelOf("x", 0, -1, null)).engineIndex());
    b.observe(status(first.engineIndex(), 0, 0, 0, 2, List.of("x")));
    assertEquals(5, b.liveRequests(), "x forgotten once its engine ended both");
  }

  @Test
  void aNewRequestWithAFinishedRequestsIdStaysRoutedWhenTheOldEndArrivesLate() {
    PlacementBoard b = new PlacementBoard(new LeastRequests(), 3, 4, 100);
    ValidatedRequest first = b.place(request("y", 64));
    ValidatedRequest again = b.place(request("y", 64)); // y ended on its engine, not reported yet: a new y follows it
    assertEquals(first.engineIndex(), again.engineIndex());
    b.observe(status(first.engineIndex(), 1, 0, 0, 2, List.of("y"))); // the first y's end
    assertEquals(first.engineIndex(), b.place(ValidatedRequest.cancelOf("y", 0, -1, null)).engineIndex(),
        "the cancel of the second y still goes to its engine");
  }

  @Test
  void anOlderStatusOrOneOfAnUnknownEngineOnlyPrunes() {
    PlacementBoard b = new PlacementBoard(new LeastRequests(), 2, 4, 100);
    for (int i = 0; i < 4; i++) {
      b.place(request("r" + i, 64));
    }
    b.observe(status(0, 2, 0, 0, 2, List.of()));
    b.observe(status(0, 9, 9, 0, 1, List.of())); // late, from before
    b.observe(status(7, 9, 9, 0, 1, List.of())); // no such engine here
    b.observe(EngineStatus.newBuilder(status(0, 9, 9, 0, 9, List.of())).setEngine("nonsense").build());
    assertEquals(2, b.loads().get(0).requests());
    assertEquals(1, b.statusesApplied());
    assertEquals(3, b.statusesStale());
  }

  @Test
  void aRestoredBoardKnowsWhatTheOldOneKnew() {
    PlacementBoard b = new PlacementBoard(new LeastPredictedWork(), 3, 4, 100);
    b.observe(status(0, 2, 1, 300, 0, List.of()));
    for (int i = 0; i < 6; i++) {
      b.place(request("p" + i, 50 + 10 * i));
    }
    b.observe(status(1, 1, 0, 40, 1, List.of()));
    PlacementBoard restored = PlacementBoard.restore(b.toState(), new LeastPredictedWork());
    assertEquals(b.loads(), restored.loads(), "loads: statuses plus the placements on their way");
    assertEquals(b.liveRequests(), restored.liveRequests());
    assertEquals(b.toState(), restored.toState());
    ValidatedRequest next = b.place(request("q", 64));
    ValidatedRequest nextRestored = restored.place(request("q", 64));
    assertEquals(next.engineIndex(), nextRestored.engineIndex());
    assertEquals(next.placementSeq(), nextRestored.placementSeq(), "placement numbers go on where they were");
    assertEquals(b.place(ValidatedRequest.cancelOf("p3", 0, -1, null)).engineIndex(),
        restored.place(ValidatedRequest.cancelOf("p3", 0, -1, null)).engineIndex(), "a cancel finds its request");
  }
}
