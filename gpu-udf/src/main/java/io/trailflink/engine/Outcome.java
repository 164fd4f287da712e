package io.trailflink.engine;

/** How an engine operation went for one request. */
public enum Outcome {
  /** Done as asked (tokens may have been produced; the request may have finished). */
  OK,
  /** Stopped early: the KV pool had no free block for the next token. The request stays resident. */
  KV_FULL,
  /** Refused: invalid request, unknown id, wrong state, or it can never fit. The engine is unaffected. */
  REJECTED,
  /** The engine failed while running it (e.g. a native error); its state was released. */
  FAILED
}
