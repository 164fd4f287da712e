package io.trailflink.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CorpusTest {
  @Test
  void realPairsAreRepeatedAndGeneratedTasksAreNot() {
    Example real = new Example("Why is the sky blue?", "Scattering.", "real", false, 0);
    Example task = new Example("List 2 fruits.", "2. fig\n1. lime", "list", true, 2);
    List<Example> train = List.of(real, task);
    List<Example> weighted = Corpus.weightReal(train, 3, 1);
    assertEquals(4, weighted.size());
    assertEquals(3, weighted.stream().filter(e -> e == real).count());
    assertEquals(1, weighted.stream().filter(e -> e == task).count());
    assertSame(train, Corpus.weightReal(train, 1, 1), "weight 1 keeps the corpus as it is");
    assertThrows(IllegalArgumentException.class, () -> Corpus.weightReal(train, 0, 1));
  }
}
