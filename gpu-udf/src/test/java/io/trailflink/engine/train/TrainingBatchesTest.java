package io.trailflink.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Padding and the unlikelihood candidates line up with the loss positions. */
class TrainingBatchesTest {
  private static final int VOCAB = 10;

  @Test
  void candidatesAreEarlierAnswerTokensOtherThanTheTarget() {
    // prompt 7 8 | answer 3 4 3 5 | eos 2: positions 1..5 predict 3, 4, 3, 5, 2
    TrainingBatches.Sequence s = new TrainingBatches.Sequence(new int[] {7, 8, 3, 4, 3, 5, 2}, 2);
    long[] mask = TrainingBatches.earlierAnswerTokens(List.of(s), VOCAB);
    assertEquals(List.of(), ones(mask, 0), "prompt position");
    assertEquals(List.of(), ones(mask, 1), "first answer token: nothing said yet");
    assertEquals(List.of(3), ones(mask, 2), "predicting 4 after 3");
    assertEquals(List.of(4), ones(mask, 3), "predicting 3 again: the target itself is never a candidate");
    assertEquals(List.of(3, 4), ones(mask, 4), "predicting 5");
    assertEquals(List.of(3, 4, 5), ones(mask, 5), "predicting EOS");
  }

  @Test
  void candidatesFollowEachRowOfAPaddedBatch() {
    TrainingBatches.Sequence longer = new TrainingBatches.Sequence(new int[] {7, 3, 4, 5, 2}, 1);
    TrainingBatches.Sequence shorter = new TrainingBatches.Sequence(new int[] {7, 8, 6, 2}, 2);
    List<TrainingBatches.Sequence> rows = List.of(longer, shorter);
    TrainingBatches.Batch batch = TrainingBatches.pad(rows);
    long[] mask = TrainingBatches.earlierAnswerTokens(rows, VOCAB);
    assertEquals(4, batch.cols());
    assertEquals(List.of(3, 4, 5), ones(mask, 3), "row 0, predicting EOS");
    assertEquals(List.of(6), ones(mask, 4 + 2), "row 1, predicting EOS: row 0's tokens do not leak in");
    assertEquals(List.of(), ones(mask, 4 + 3), "padding");
    for (int pos = 0; pos < 2 * batch.cols(); pos++) {
      if (!ones(mask, pos).isEmpty()) {
        assertEquals(1f, batch.weights()[pos], "candidates only where the cross-entropy counts, position " + pos);
      }
    }
  }

  private static List<Integer> ones(long[] candidates, int position) {
    List<Integer> ids = new ArrayList<>();
    for (long c : candidates) {
      if (c / VOCAB == position) {
        ids.add((int) (c % VOCAB));
      }
    }
    ids.sort(null);
    return ids;
  }
}
