package io.trailflink.scheduler;

/**
 * The scheduler's view of one request: sizes, progress, predictions and lifecycle.
 *
 * <p>Predictions are in output tokens. {@code initialPrediction} (TRAIL's r) is fixed at submission;
 * {@code predictedRemaining} is refreshed as the request runs. Unknown predictions are NaN and fall back to the
 * prompt prior's guess when there is one, else to {@code maxNewTokens - generated}, as the public port does.
 */
public final class Request implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  // -- identity and sizes
  private final String id;
  private final long arrivalMs; // epoch ms (or simulated ms)
  private final long arrivalOrder; // tie-breaker: submission order
  private final int promptTokens; // tokens
  private final int maxNewTokens; // tokens
  private final int trueOutputTokens; // tokens, for the oracle and the simulator; -1 when unknown
  private final String tenant; // owner label, "" when none (tenant-fair scheduling shares tokens between them)

  // -- progress
  private int generated; // output tokens so far (TRAIL's age a)
  private double initialPrediction = Double.NaN; // tokens (TRAIL's r)
  private double predictedRemaining = Double.NaN; // tokens
  private double promptPrior = Double.NaN; // tokens: total output guessed from the prompt alone, until a prediction
  private RequestState state = RequestState.WAITING;
  private int preemptions;
  private int evictions;
  private boolean rescued; // placed past the starvation bound: not preempted again
  private long placedInRound; // the scheduling round that last placed it in the batch
  private long queuedSince; // ms: when the request last entered the candidate queue (for the starvation guard)

  public Request(String id, long arrivalMs, long arrivalOrder, int promptTokens, int maxNewTokens,
      int trueOutputTokens) {
    this(id, arrivalMs, arrivalOrder, promptTokens, maxNewTokens, trueOutputTokens, "");
  }

  public Request(String id, long arrivalMs, long arrivalOrder, int promptTokens, int maxNewTokens,
      int trueOutputTokens, String tenant) {
    if (promptTokens <= 0 || maxNewTokens <= 0) {
      throw new IllegalArgumentException("request " + id + ": prompt and max_new_tokens must be > 0");
    }
    this.id = id;
    this.arrivalMs = arrivalMs;
    this.arrivalOrder = arrivalOrder;
    this.promptTokens = promptTokens;
    this.maxNewTokens = maxNewTokens;
    this.trueOutputTokens = trueOutputTokens;
    this.tenant = tenant == null ? "" : tenant;
    this.queuedSince = arrivalMs;
  }

  /**
   * A request as a checkpoint kept it, to be queued again by {@link Scheduler#restore}: its sizes, its progress
   * ({@code generated} tokens) and its history; predictions NaN when none was made.
   */
  public static Request restored(String id, long arrivalMs, long arrivalOrder, int promptTokens, int maxNewTokens,
      int trueOutputTokens, String tenant, int generated, double initialPrediction, double predictedRemaining,
      int preemptions, int evictions, boolean rescued, long queuedSinceMs) {
    Request r = new Request(id, arrivalMs, arrivalOrder, promptTokens, maxNewTokens, trueOutputTokens, tenant);
    r.generated = generated;
    r.initialPrediction = initialPrediction;
    r.predictedRemaining = predictedRemaining;
    r.preemptions = preemptions;
    r.evictions = evictions;
    r.rescued = rescued;
    r.queuedSince = queuedSinceMs;
    return r;
  }

  public String id() {
    return id;
  }

  public long arrivalMs() {
    return arrivalMs;
  }

  public long arrivalOrder() {
    return arrivalOrder;
  }

  public int promptTokens() {
    return promptTokens;
  }

  public int maxNewTokens() {
    return maxNewTokens;
  }

  public int trueOutputTokens() {
    return trueOutputTokens;
  }

  public String tenant() {
    return tenant;
  }

  public int generated() {
    return generated;
  }

  /** Tokens whose keys and values the engine must hold for this request to decode its next token. */
  public int kvTokens() {
    return promptTokens + generated;
  }

  public double initialPrediction() {
    return initialPrediction;
  }

  /** The last predicted remaining output (tokens), not clamped to the cap; NaN before any prediction. */
  public double predictedRemaining() {
    return predictedRemaining;
  }

  /**
   * The predicted remaining output; without a prediction, the prompt prior's total less what was generated (at
   * least 1 while the cap allows), else {@code maxNewTokens - generated}.
   */
  public double remainingEstimate() {
    double fallback = maxNewTokens - generated;
    if (!Double.isNaN(predictedRemaining)) {
      return Math.min(predictedRemaining, fallback);
    }
    return Double.isNaN(promptPrior) ? fallback : Math.min(fallback, Math.max(1, promptPrior - generated));
  }

  /**
   * Sets the total output guessed from the prompt alone (tokens; NaN = none), which stands for the prediction in
   * {@link #remainingEstimate} until one is made. Set it before the request is submitted: the scheduler's queue
   * keys and work sums read the estimate. It does not make a request preemptible ({@link #hasPrediction} stays
   * false): nothing has looked inside the model yet.
   */
  public void setPromptPrior(double tokens) {
    if (!Double.isNaN(tokens) && !(tokens >= 0 && !Double.isInfinite(tokens))) {
      throw new IllegalArgumentException("prompt prior must be >= 0 tokens or NaN, got " + tokens);
    }
    promptPrior = tokens;
  }

  /** The prompt prior (tokens), NaN when none. */
  public double promptPrior() {
    return promptPrior;
  }

  /** The initial predicted length r; without one, the prompt prior's guess (at most the cap), else max_new_tokens. */
  public double initialEstimate() {
    if (!Double.isNaN(initialPrediction)) {
      return initialPrediction;
    }
    return Double.isNaN(promptPrior) ? maxNewTokens : Math.min(maxNewTokens, Math.max(1, promptPrior));
  }

  /** Whether a prediction was ever made for this request (a request without one is not preemptible under TRAIL). */
  public boolean hasPrediction() {
    return !Double.isNaN(initialPrediction);
  }

  /** True remaining output tokens (oracle); falls back to the estimate when the truth is unknown. */
  public double trueRemaining() {
    return trueOutputTokens < 0 ? remainingEstimate() : trueOutputTokens - generated;
  }

  public RequestState state() {
    return state;
  }

  public int preemptions() {
    return preemptions;
  }

  public int evictions() {
    return evictions;
  }

  /** When the request last entered the candidate queue (ms). */
  public long queuedSinceMs() {
    return queuedSince;
  }

  // -- mutations, by the scheduler only

  void setState(RequestState next) {
    state = next;
  }

  void setQueuedSince(long ms) {
    queuedSince = ms;
  }

  /** Whether it was placed past the starvation bound (it then runs to completion). */
  public boolean rescued() {
    return rescued;
  }

  long placedInRound() {
    return placedInRound;
  }

  void setPlacedInRound(long round) {
    placedInRound = round;
  }

  void markRescued() {
    rescued = true;
  }

  void countPreemption() {
    preemptions++;
  }

  void countEviction() {
    evictions++;
  }

  void addGenerated(int tokens) {
    generated += tokens;
  }

  /**
   * Sets the initial prediction r (once: the first prediction made before any output), clamped to max_new_tokens
   * (the request can never run longer, and an unclamped r would let C·r exceed the cap and make the preemption
   * limit unlimited), and the current remaining prediction; an initial prediction arriving after tokens were
   * generated is counted down by them.
   */
  void predict(double remaining, boolean madeBeforeOutput) {
    if (Double.isNaN(initialPrediction) && (generated == 0 || madeBeforeOutput)) {
      initialPrediction = Math.min(remaining, maxNewTokens);
    }
    predictedRemaining = madeBeforeOutput ? Math.max(0, remaining - generated) : remaining;
  }

  @Override
  public String toString() {
    return id + "[" + state + ", generated " + generated + ", remaining≈" + Math.round(remainingEstimate()) + "]";
  }
}
