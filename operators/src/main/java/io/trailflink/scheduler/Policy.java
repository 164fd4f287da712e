package io.trailflink.scheduler;

/**
 * A scheduling policy: how candidates are ordered and which running requests may be preempted.
 * Lower ranks run first; ties go to the earlier arrival.
 */
public interface Policy extends java.io.Serializable {
  String name();

  /** Priority of a request by its (predicted or true) remaining work; compared against victims' ranks. */
  double rank(Request r);

  /** Order key in the candidate queue; equals {@link #rank} unless a starvation guard ages waiting requests. */
  default double queueKey(Request r) {
    return rank(r);
  }

  /** Whether {@code r}, now running, may be preempted. Non-preemptive policies answer false. */
  boolean preemptible(Request r);

  /**
   * Whether the policy ranks by predicted lengths, so that waiting prompts are worth embedding for an initial
   * prediction (the job's probes); FCFS does not, nor does the oracle, which knows the lengths.
   */
  default boolean usesPredictions() {
    return true;
  }

  /** A candidate preempts a victim only if its rank is lower by more than this (tokens). */
  default double margin() {
    return 0;
  }
}
