package io.trailflink.engine.train;

/**
 * One instruction/answer pair of the training corpus.
 *
 * @param prompt the user's instruction
 * @param answer the reference answer
 * @param family where it comes from: a generated task name (list, count, ...) or "real"
 * @param exact true when the prompt fixes the answer's length exactly; false when only its distribution
 * @param intendedUnits length the prompt asks for in the task's own unit (items, numbers, sentences), or -1
 */
public record Example(String prompt, String answer, String family, boolean exact, int intendedUnits) {}
