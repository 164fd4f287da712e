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

  @Test
  void longRealAnswersAreCappedAndGeneratedTasksStay() {
    Example shortReal = new Example("Name a colour.", "Blue is one.", "real", false, 0);
    Example longReal = new Example("Tell me about Rome.", "Rome is old and large and famous.", "real", false, 0);
    Example longTask = new Example("Count down from 9.", "9, 8, 7, 6, 5, 4, 3, 2, 1.", "count", true, 9);
    List<Example> capped = Corpus.capRealAnswers(List.of(shortReal, longReal, longTask),
        text -> text.split(" ").length, 3);
    assertEquals(List.of(shortReal, longTask), capped);
    assertThrows(IllegalArgumentException.class, () -> Corpus.capRealAnswers(List.of(), t -> 1, 0));
  }
}
