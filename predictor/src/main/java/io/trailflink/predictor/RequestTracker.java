package io.trailflink.predictor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The predictor's side of one engine step for one request: reads the tap rows the engine attached (row with 0
 * tokens generated = the prompt mean, then the newest token's state after each token), runs the initial
 * prediction or the smoothed refreshes that are due, and says what to publish. The per-request state is passed
 * in and out, so the caller keeps it wherever it likes (Flink keyed state in the job, a map in tests). Stateless
 * and thread-safe.
 */
public final class RequestTracker {
  /**
   * A prediction to publish.
   *
   * @param generated tokens generated when the prediction holds (0 for the initial prediction r)
   * @param remaining predicted remaining output tokens, clamped to [0, cap − generated]
   * @param posterior smoothed bin probabilities behind it
   */
  public record Update(int generated, double remaining, float[] posterior) {}

  /**
   * The new state and the updates to publish, in order: the initial prediction first when this step prefilled
   * the request, then the current estimate.
   */
  public record Result(RemainingLength state, List<Update> updates) {}

  private final TrailPredictor predictor;

  public RequestTracker(TrailPredictor predictor) {
    this.predictor = predictor;
  }

  /**
   * @param state the request's state before this step, or null for a request not seen yet
   * @param tapHidden floats per tap row (0 when the engine attached none)
   * @param tapStates rows of float32 little-endian
   * @param tapGenerated per row, tokens generated when that state was computed
   * @param generatedNow tokens generated after the step
   */
  public Result observe(RemainingLength state, int tapHidden, ByteBuffer tapStates, List<Integer> tapGenerated,
      int generatedNow) {
    List<Update> updates = new ArrayList<>(2);
    int cap = predictor.spec().cap();
    if (tapHidden > 0 && tapHidden != predictor.spec().hidden()) {
      throw new IllegalArgumentException("engine tap rows have " + tapHidden + " floats; the predictor takes "
          + predictor.spec().hidden() + " (is the engine tapping layer " + predictor.spec().layer() + "?)");
    }
    ByteBuffer b = tapStates.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    float[] row = new float[tapHidden];
    for (int i = 0; i < tapGenerated.size() && tapHidden > 0; i++) {
      b.position(i * tapHidden * 4);
      b.asFloatBuffer().get(row);
      int g = tapGenerated.get(i);
      if (g == 0) {
        state = predictor.initial(row);
        updates.add(new Update(0, state.estimate(0, cap), state.posterior()));
      } else if (state == null) {
        // no prompt-mean row seen (e.g. state lost): the first softmax is the first posterior
        float[] p = predictor.probabilities(row, 0);
        state = new RemainingLength(p, g, predictor.bins().expectation(p));
      } else if (predictor.due(state, g)) {
        state = predictor.refresh(state, row, g);
      }
    }
    if (state != null && generatedNow > 0) {
      updates.add(new Update(generatedNow, state.estimate(generatedNow, cap), state.posterior()));
    }
    return new Result(state, updates);
  }

  public TrailPredictor predictor() {
    return predictor;
  }
}
