package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class FinishTimesTest {
  @Test
  void queuedRequestsTakeTheFirstSlotToFreeInThePolicysOrder() {
    // two slots; running requests finish after 10 and 30 iterations; three queued of 5, 5 and 50, in that order
    double[] at = FinishTimes.offsetsMs(List.of(10.0, 30.0), List.of(5.0, 5.0, 50.0), 2, 2.0);
    assertArrayEquals(new double[] {20, 60, 30, 40, 140}, at, 1e-9);
  }

  @Test
  void arrivalsRankedAheadStretchAQueuedRequestsWaitForAsLongAsTheyAreExpectedToLast() {
    // one slot busy for 10 ms; the queued request's 10 ms wait becomes 10 / (1 - 0.5) = 20 ms, then its 5 ms of work
    assertArrayEquals(new double[] {10, 25}, FinishTimes.offsetsMs(List.of(10.0), List.of(5.0), 1, 1.0,
        new double[] {0.5}, 1_000), 1e-9);
    // arrivals expected for 8 ms more only: 10 + 0.5 × 8 = 14 ms; at a load above 1: 10 + 1.2 × 8
    assertArrayEquals(new double[] {10, 19}, FinishTimes.offsetsMs(List.of(10.0), List.of(5.0), 1, 1.0,
        new double[] {0.5}, 8), 1e-9);
    assertArrayEquals(new double[] {10, 10 + 1.2 * 8 + 5}, FinishTimes.offsetsMs(List.of(10.0), List.of(5.0), 1, 1.0,
        new double[] {1.2}, 8), 1e-9);
  }

  @Test
  void freeSlotsStartQueuedRequestsAtOnceAndMoreRunningThanSlotsKeepTheLatestFinishers() {
    assertArrayEquals(new double[] {3, 4}, FinishTimes.offsetsMs(List.of(), List.of(3.0, 4.0), 4, 1.0), 1e-9);
    // three running in what the estimate takes for two slots: the queued one follows the second to finish
    assertArrayEquals(new double[] {1, 5, 9, 7}, FinishTimes.offsetsMs(List.of(1.0, 5.0, 9.0), List.of(2.0), 2, 1.0),
        1e-9);
  }

  @org.junit.jupiter.api.Test
  void aFinishedRequestsSlotStaysEmptyForTheGapBeforeTheNextTakesIt() {
    // one slot, 1 ms per iteration: "a" ends at 10, its slot is free at 10 + 3, so "b" (5) ends at 18
    assertArrayEquals(new double[] {10, 18}, FinishTimes.offsetsMs(List.of(10.0), List.of(5.0), 1, 1.0, null, 0, 3),
        1e-9);
  }
}
