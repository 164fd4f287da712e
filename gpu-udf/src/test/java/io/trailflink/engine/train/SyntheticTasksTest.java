package io.trailflink.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticTasksTest {
  @Test
  void countedAnswersCountDownToOne() {
    SyntheticTasks tasks = new SyntheticTasks(5);
    Example list = tasks.list();
    String[] lines = list.answer().split("\n");
    assertEquals(list.intendedUnits(), lines.length);
    assertTrue(lines[0].startsWith(list.intendedUnits() + ". "), lines[0]);
    assertTrue(lines[lines.length - 1].startsWith("1. "), lines[lines.length - 1]);

    Example count = tasks.countDown();
    assertTrue(count.prompt().contains(Integer.toString(count.intendedUnits())), count.prompt());
    assertTrue(count.answer().startsWith(count.intendedUnits() + ", "), count.answer());
    assertTrue(count.answer().endsWith(", 1."), count.answer());
    assertEquals(count.intendedUnits(), count.answer().split(", ").length);

    Example repeat = tasks.repeat();
    assertTrue(repeat.answer().startsWith(repeat.intendedUnits() + ") "), repeat.answer());
    assertTrue(repeat.answer().contains("1) "), repeat.answer());
  }

  @Test
  void trainAndHeldOutPromptsAreDisjointAndEveryExactFamilyIsHeldOut() {
    List<Example> train = new SyntheticTasks(1).generate(20_000, false);
    List<Example> held = new SyntheticTasks(2).generate(4_000, true);
    Set<String> trainPrompts = new HashSet<>();
    train.forEach(e -> trainPrompts.add(e.prompt()));
    Set<String> heldFamilies = new HashSet<>();
    for (Example e : held) {
      assertTrue(!trainPrompts.contains(e.prompt()), e.prompt());
      heldFamilies.add(e.family());
    }
    assertEquals(Set.of("list", "count", "repeat", "spell", "letters", "story", "describe"), heldFamilies);
    long heldShare = train.stream().filter(e -> SyntheticTasks.heldOut(e.prompt())).count();
    assertEquals(0, heldShare);
  }
}
