package io.trailflink.predictor.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.predictor.LengthBins;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PromptOnlyBaselineTest {
  @Test
  void learnsWhichWordsAskForLongAnswers() {
    Random r = new Random(2);
    String[] filler = {"the", "a", "river", "city", "about", "please", "my", "friend"};
    List<String> prompts = new ArrayList<>();
    List<Integer> lengths = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      boolean essay = r.nextBoolean();
      String p = (essay ? "write a detailed essay on " : "give one word for ") + filler[r.nextInt(filler.length)]
          + " " + filler[r.nextInt(filler.length)];
      prompts.add(p);
      lengths.add(essay ? 400 + r.nextInt(100) : 5 + r.nextInt(20));
    }
    PromptOnlyBaseline b = PromptOnlyBaseline.train(prompts, lengths.stream().mapToInt(Integer::intValue).toArray(),
        LengthBins.PAPER, 10, 1);
    double essay = b.predictTotal("write a detailed essay on my city");
    double word = b.predictTotal("give one word for the river");
    assertTrue(essay > 350 && word < 80, "essay " + essay + ", word " + word);
  }
}
