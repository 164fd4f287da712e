package io.trailflink.engine.train;

/**
 * Hyper-parameters of a model training run.
 *
 * @param steps optimiser steps in the whole run (the cosine schedule spans them)
 * @param tokensPerBatch padded tokens per batch
 * @param maxSeqLen longest prompt+answer kept (tokens); longer examples are dropped and counted
 * @param learningRate peak AdamW learning rate
 * @param warmupSteps linear warm-up steps
 * @param weightDecay AdamW decoupled weight decay (matrices only)
 * @param seed data order and initialisation seed
 * @param checkpointEvery steps between resumable checkpoints
 * @param logEvery steps between progress lines
 * @param unlikelihoodWeight weight α of the token-level unlikelihood loss added to the cross-entropy (0: none); see
 *     {@link TrainingBatches#earlierAnswerTokens}
 */
public record TrainingConfig(int steps, int tokensPerBatch, int maxSeqLen, double learningRate, int warmupSteps,
    double weightDecay, long seed, int checkpointEvery, int logEvery, double unlikelihoodWeight) {

  public TrainingConfig {
    if (steps <= 0 || tokensPerBatch <= 0 || maxSeqLen <= 1 || !(learningRate > 0) || warmupSteps < 0
        || checkpointEvery <= 0 || logEvery <= 0) {
      throw new IllegalArgumentException("training settings must be positive (steps, batch tokens, lr, ...)");
    }
    if (!(unlikelihoodWeight >= 0) || Double.isInfinite(unlikelihoodWeight)) {
      throw new IllegalArgumentException("unlikelihood weight must be a finite number >= 0, got " + unlikelihoodWeight);
    }
  }

  /** Plain cross-entropy training, without the unlikelihood term. */
  public TrainingConfig(int steps, int tokensPerBatch, int maxSeqLen, double learningRate, int warmupSteps,
      double weightDecay, long seed, int checkpointEvery, int logEvery) {
    this(steps, tokensPerBatch, maxSeqLen, learningRate, warmupSteps, weightDecay, seed, checkpointEvery, logEvery, 0);
  }

  /** Learning rate at {@code step}: linear warm-up, then cosine decay to 10 % of the peak. */
  double learningRateAt(int step) {
    if (step < warmupSteps) {
      return learningRate * (step + 1) / warmupSteps;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps));
    return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}
