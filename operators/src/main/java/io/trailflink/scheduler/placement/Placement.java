package io.trailflink.scheduler.placement;

import java.util.List;

/**
 * Which engine serves a new request, chosen from every engine's load. Plain Java, shared by the simulator and the
 * job's placement operator. Implementations are stateless: the same loads give the same answer.
 */
public interface Placement extends java.io.Serializable {
  String name();

  /**
   * The engine (an index into {@code loads}) for request {@code requestId}.
   *
   * @param predictedTokens the request's predicted output (tokens), or its max_new_tokens when nothing predicts
   * @param loads one entry per engine, never empty
   */
  int choose(String requestId, double predictedTokens, List<EngineLoad> loads);

  /** Whether the choice reads the loads (hash placement does not, so the job needs no load feed for it). */
  default boolean readsLoad() {
    return true;
  }

  /**
   * The stable hash of a request id onto {@code engines} engines (also the tie-break start of the others). The
   * id's {@code hashCode} is mixed (MurmurHash3's finaliser) first: ids that differ in their last characters
   * differ mostly in low bits, and a plain modulo left 64 engines ±15 % apart.
   */
  static int hash(String requestId, int engines) {
    int h = requestId.hashCode();
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return Math.floorMod(h, engines);
  }
}
