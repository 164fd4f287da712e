package io.trailflink.predictor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptPriorTest {
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
    PromptPrior b = PromptPrior.train(prompts, lengths.stream().mapToInt(Integer::intValue).toArray(),
        LengthBins.PAPER, 10, 1);
    double essay = b.predictTotal("write a detailed essay on my city");
    double word = b.predictTotal("give one word for the river");
    assertTrue(essay > 350 && word < 80, "essay " + essay + ", word " + word);
  }

  /** Prompts as token ids: a "long" marker token (7) or a "short" one (9) among filler ids. */
  private static PromptPrior tokenPrior(int buckets) {
    Random r = new Random(3);
    List<int[]> prompts = new ArrayList<>();
    int[] lengths = new int[600];
    for (int i = 0; i < lengths.length; i++) {
      boolean longOne = r.nextBoolean();
      int[] ids = new int[4 + r.nextInt(6)];
      for (int j = 0; j < ids.length; j++) {
        ids[j] = 100 + r.nextInt(50);
      }
      ids[r.nextInt(ids.length)] = longOne ? 7 : 9;
      prompts.add(ids);
      lengths[i] = longOne ? 300 + r.nextInt(150) : 10 + r.nextInt(30);
    }
    return PromptPrior.trainOnTokens(prompts, lengths, LengthBins.PAPER, buckets, 10, 1);
  }

  @Test
  void learnsWhichTokensAskForLongAnswers() {
    PromptPrior p = tokenPrior(1 << 10);
    assertTrue(p.predictTotal(new int[] {120, 7, 130}) > 250, "long marker");
    assertTrue(p.predictTotal(new int[] {120, 9, 130}) < 100, "short marker");
    assertThrows(IllegalStateException.class, () -> p.predictTotal("a text"), "a token prior reads no text");
    int[] longPrompt = {120, 7, 130};
    assertTrue(p.predictTotal(longPrompt, 64) <= 64 && p.predictTotal(longPrompt, 64) > 50, "capped at 64");
    assertEquals(p.predictTotal(longPrompt), p.predictTotal(longPrompt, 512), 1e-6, "a cap past every bin: no change");
  }

  @Test
  void savesAndLoadsTheSamePredictions(@TempDir Path dir) {
    PromptPrior p = tokenPrior(1 << 10);
    p.save(dir, null);
    PromptPrior back = PromptPrior.load(dir);
    assertEquals(PromptPrior.Features.TOKENS, back.features());
    int[] prompt = {101, 7, 140, 9};
    assertArrayEquals(p.probabilities(prompt), back.probabilities(prompt));
  }

  @Test
  void refusesCorruptOrForeignFilesNamingThem(@TempDir Path dir) throws Exception {
    tokenPrior(1 << 10).save(dir, null);
    Path spec = dir.resolve(PromptPrior.SPEC_FILE);
    String good = Files.readString(spec);
    Files.writeString(spec, good.replace("tokens-uni-bi-v1", "chars-v9"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptPrior.load(dir));
    assertTrue(e.getMessage().contains(PromptPrior.SPEC_FILE) && e.getMessage().contains("chars-v9"), e.getMessage());
    Files.writeString(spec, good.replace("1024", "2048")); // buckets that disagree with the weights
    e = assertThrows(IllegalArgumentException.class, () -> PromptPrior.load(dir));
    assertTrue(e.getMessage().contains(PromptPrior.WEIGHTS_FILE), e.getMessage());
    Files.writeString(spec, "{not json");
    e = assertThrows(IllegalArgumentException.class, () -> PromptPrior.load(dir));
    assertTrue(e.getMessage().startsWith("corrupt " + spec), e.getMessage());
  }
}
