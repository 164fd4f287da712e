package io.trailflink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.PredictionUpdate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's live predictor figures: raw, capped at the request's max_new_tokens as the scheduler ranks, initial. */
class PredictionFiguresTest {
  @Test
  void capsEachPredictionAtTheRequestsRemainingBudget() {
    // request a: 40 output tokens, cap 64. Predicted 300 remaining at generated 0, 10 remaining at generated 30.
    EngineFeedback fb = feedback(update("a", 0, 300), update("a", 30, 10), update("unknown", 0, 5));
    FinalResponse a = FinalResponse.newBuilder().setRequestId("a").setTenant("t").setText("").setPromptTokens(3)
        .setOutputTokens(40).setSubmittedAt(java.time.Instant.ofEpochMilli(0)).setFirstTokenAt(java.time.Instant.ofEpochMilli(1))
        .setFinishedAt(java.time.Instant.ofEpochMilli(2)).setTtftMs(1)
        .setLatencyMs(2).setQueueingMs(0).setPreemptions(0).setEvictions(0).setFinishReason("stop").setError(null)
        .setEngine("engine-0").setPolicy("trail").setInitialPrediction(300.0).build();
    DemoCommand.PredictionFigures f = DemoCommand.PredictionFigures.of(List.of(fb), List.of(a), Map.of("a", 64));
    assertEquals(2, f.count(), "a prediction for a request without a final response is not scored");
    assertEquals((260 + 0) / 2.0, f.mae(), 1e-9); // |300 − 40|, |10 − 10|
    assertEquals((24 + 0) / 2.0, f.cappedMae(), 1e-9); // min(300, 64 − 0) = 64 against 40
    assertEquals(260, f.initialMae(), 1e-9);
  }

  private static PredictionUpdate update(String id, int generated, double remaining) {
    return PredictionUpdate.newBuilder().setRequestId(id).setEngine("engine-0").setStepSeq(1).setGenerated(generated)
        .setPredictedRemaining(remaining).setBinProbabilities(List.of()).setPredictorVersion("test").build();
  }

  private static EngineFeedback feedback(PredictionUpdate... updates) {
    return EngineFeedback.newBuilder().setEngine("engine-0").setEngineIncarnation("i1").setStepSeq(1)
        .setIssuedAtMs(0).setFinishedAtMs(10).setPublishedAtMs(11).setBusyMs(10).setBlocksUsed(0)
        .setBlockCapacity(64).setProgress(List.of()).setPredictions(List.of(updates)).build();
  }
}
