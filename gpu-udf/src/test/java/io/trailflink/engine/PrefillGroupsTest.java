package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A prefill batch is split by prompt length so that padding stays bounded. */
class PrefillGroupsTest {
  private static SequenceState prompt(int tokens) {
    return new SequenceState(new GenerationRequest("r" + tokens, new int[tokens], 8, 0, SamplingParams.GREEDY));
  }

  @Test
  void oneLongPromptDoesNotPadTheShortOnes() {
    List<SequenceState> states = new ArrayList<>();
    for (int len : new int[] {30, 400, 25, 35, 28}) {
      states.add(prompt(len));
    }
    List<List<Integer>> groups = LlamaEngine.lengthGroups(states);
    assertEquals(List.of(List.of(2, 4, 0, 3), List.of(1)), groups, "short prompts together, the long one alone");
    for (List<Integer> g : groups) {
      long real = g.stream().mapToLong(i -> states.get(i).promptLength()).sum();
      long padded = (long) g.size() * g.stream().mapToInt(i -> states.get(i).promptLength()).max().orElse(0);
      assertEquals(true, padded <= 1.5 * real + 64, g.toString());
    }
    assertEquals(List.of(List.of(0)), LlamaEngine.lengthGroups(List.of(prompt(7))));
  }
}
