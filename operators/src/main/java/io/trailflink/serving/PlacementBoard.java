package io.trailflink.serving;

import io.trailflink.scheduler.placement.EngineLoad;
import io.trailflink.scheduler.placement.Placement;
import io.trailflink.schema.EngineBoardState;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.LivePlacementState;
import io.trailflink.schema.PendingPlacementState;
import io.trailflink.schema.PlacementBoardState;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the placement operator knows of every engine, and its decisions. Plain Java: the Flink operator keeps one
 * board as its state and feeds it requests and engine statuses.
 *
 * <p>An engine's load is its last status (read back from the engine-status topic) plus the requests placed on it
 * since: every placement is numbered per engine, every status says the highest number its engine has received,
 * so requests on their way are counted exactly once however late the statuses come. Before an engine's first
 * status its load is what was placed on it.
 *
 * <p>Where each live request went is remembered until its engine reports it ended: a cancel goes to the engine
 * that holds its request, and a repeated id to the engine that still has the first (which refuses it), whatever the
 * loads say — so every accepted request still gets exactly one final response.
 */
public final class PlacementBoard implements Serializable {
  private static final long serialVersionUID = 1L;

  private Placement placement; // may change across a restore (--placement), the rest of the board stays
  private final int maxRunning;
  private final int kvCapacityBlocks;
  private final EngineLoad[] reported; // per engine: its last status, as a load
  private final long[] reportedSeq; // per engine: the last placement its status counts
  private final long[] placedSeq; // per engine: the last placement made
  private final List<ArrayDeque<Placed>> unseen = new ArrayList<>(); // per engine: placements after its status
  private final double[] unseenTokens; // per engine: their max_new_tokens, summed (tokens)
  private final Map<String, Where> liveOn = new BoundedIds(); // request id -> its engine, until its placements end
  private long statusesApplied;
  private long statusesStale;

  /**
   * Most placements remembered per engine beyond its status, and most live ids in all: without statuses (an
   * engine-status topic nobody can read) placement degrades to counting its own placements instead of growing.
   */
  static final int MAX_REMEMBERED = 200_000;

  /** Live ids in placement order; past {@link #MAX_REMEMBERED} the oldest is forgotten (its cancel then hashes). */
  private static final class BoundedIds extends LinkedHashMap<String, Where> {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Where> eldest) {
      return size() > MAX_REMEMBERED;
    }
  }

  /** Where an id's requests went, and how many of its placements there have not been reported ended. */
  private static final class Where implements Serializable {
    private static final long serialVersionUID = 1L;
    final int engine;
    int placements;

    Where(int engine) {
      this.engine = engine;
    }
  }

  /** One placement its engine's status does not count yet. */
  private record Placed(long seq, double predictedTokens) implements Serializable {}

  /**
   * @param placement how engines are picked
   * @param engines engines
   * @param maxRunning slots per engine
   * @param kvCapacityBlocks KV capacity per engine (blocks)
   */
  public PlacementBoard(Placement placement, int engines, int maxRunning, int kvCapacityBlocks) {
    this.placement = placement;
    this.maxRunning = maxRunning;
    this.kvCapacityBlocks = kvCapacityBlocks;
    this.reported = new EngineLoad[engines];
    this.reportedSeq = new long[engines];
    this.placedSeq = new long[engines];
    this.unseenTokens = new double[engines];
    for (int i = 0; i < engines; i++) {
      reported[i] = new EngineLoad(0, 0, maxRunning, 0, kvCapacityBlocks, kvCapacityBlocks);
      unseen.add(new ArrayDeque<>());
    }
  }

  /** The board's checkpoint form ({@link PlacementBoardState}: declared fields, evolvable). */
  public PlacementBoardState toState() {
    List<EngineBoardState> engines = new ArrayList<>(engines());
    for (int i = 0; i < engines(); i++) {
      EngineLoad l = reported[i];
      engines.add(EngineBoardState.newBuilder().setRequests(l.requests()).setRunning(l.running())
          .setPredictedWorkTokens(l.predictedWorkTokens()).setKvFreeBlocks(l.kvFreeBlocks())
          .setKvCapacityBlocks(l.kvCapacityBlocks()).setReportedSeq(reportedSeq[i]).setPlacedSeq(placedSeq[i])
          .setUnseen(unseen.get(i).stream().map(p -> new PendingPlacementState(p.seq(), p.predictedTokens())).toList())
          .build());
    }
    List<LivePlacementState> live = new ArrayList<>(liveOn.size());
    liveOn.forEach((id, w) -> live.add(new LivePlacementState(id, w.engine, w.placements)));
    return PlacementBoardState.newBuilder().setMaxRunning(maxRunning).setKvCapacityBlocks(kvCapacityBlocks)
        .setEngines(engines).setLive(live).setStatusesApplied(statusesApplied).setStatusesStale(statusesStale).build();
  }

  /** The board a checkpoint kept; it places by {@code placement} (the restored job's, see {@link #usePlacement}). */
  public static PlacementBoard restore(PlacementBoardState st, Placement placement) {
    PlacementBoard b = new PlacementBoard(placement, st.getEngines().size(), st.getMaxRunning(),
        st.getKvCapacityBlocks());
    for (int i = 0; i < b.engines(); i++) {
      EngineBoardState e = st.getEngines().get(i);
      b.reported[i] = new EngineLoad(e.getRequests(), e.getRunning(), st.getMaxRunning(), e.getPredictedWorkTokens(),
          e.getKvFreeBlocks(), e.getKvCapacityBlocks());
      b.reportedSeq[i] = e.getReportedSeq();
      b.placedSeq[i] = e.getPlacedSeq();
      for (PendingPlacementState p : e.getUnseen()) {
        b.unseen.get(i).addLast(new Placed(p.getSeq(), p.getPredictedTokens()));
        b.unseenTokens[i] += p.getPredictedTokens();
      }
    }
    for (LivePlacementState l : st.getLive()) {
      Where w = new Where(l.getEngine());
      w.placements = l.getPlacements();
      b.liveOn.put(l.getId(), w);
    }
    b.statusesApplied = st.getStatusesApplied();
    b.statusesStale = st.getStatusesStale();
    return b;
  }

  public int engines() {
    return reported.length;
  }

  /** The placement policy's name. */
  public String placementName() {
    return placement.name();
  }

  /**
   * Places {@code r}: a cancel, or a request whose id is still live somewhere, goes where that id went; anything else
   * where the placement policy says. Returns the request stamped with its engine and placement number.
   */
  public ValidatedRequest place(ValidatedRequest r) {
    Where known = liveOn.get(r.id());
    if (r.cancel()) {
      int engine = known != null ? known.engine : Placement.hash(r.id(), engines()); // unknown: where hash puts it
      return r.placedOn(engine, 0);
    }
    int engine = known != null ? known.engine : placement.choose(r.id(), r.maxNewTokens(), loads());
    long seq = ++placedSeq[engine];
    ArrayDeque<Placed> pending = unseen.get(engine);
    pending.addLast(new Placed(seq, r.maxNewTokens())); // nothing is predicted before the engine sees it
    unseenTokens[engine] += r.maxNewTokens();
    if (pending.size() > MAX_REMEMBERED) {
      unseenTokens[engine] -= pending.pollFirst().predictedTokens();
    }
    liveOn.computeIfAbsent(r.id(), id -> new Where(engine)).placements++;
    return r.placedOn(engine, seq);
  }

  /**
   * Applies an engine's status: its load replaces the last one, the placements it counts stop being added, and the
   * requests it ended are forgotten. A status older than one applied (fewer placements seen) only prunes.
   */
  public void observe(EngineStatus s) {
    int e;
    try {
      e = EngineId.indexOf(s.getEngine());
    } catch (IllegalArgumentException bad) {
      statusesStale++;
      return;
    }
    if (e >= engines()) {
      statusesStale++; // from a run with more engines
      return;
    }
    for (String id : s.getEnded()) {
      Where w = liveOn.get(id);
      if (w != null && w.engine == e && --w.placements <= 0) {
        liveOn.remove(id);
      }
    }
    if (s.getPlacementsSeen() < reportedSeq[e]) {
      statusesStale++;
      return;
    }
    statusesApplied++;
    reportedSeq[e] = s.getPlacementsSeen();
    reported[e] = new EngineLoad(s.getRunning() + s.getWaiting() + s.getPreempted(), s.getRunning(), maxRunning,
        s.getPredictedWorkTokens(), s.getKvBlocksCapacity() - s.getKvBlocksUsed(), s.getKvBlocksCapacity());
    ArrayDeque<Placed> q = unseen.get(e);
    while (!q.isEmpty() && q.peekFirst().seq() <= reportedSeq[e]) {
      unseenTokens[e] -= q.pollFirst().predictedTokens();
    }
    if (q.isEmpty()) {
      unseenTokens[e] = 0; // no drift
    }
  }

  /** Every engine's load as placement reads it: its last status plus what was placed on it since. */
  public List<EngineLoad> loads() {
    List<EngineLoad> out = new ArrayList<>(engines());
    for (int i = 0; i < engines(); i++) {
      EngineLoad l = reported[i];
      out.add(new EngineLoad(l.requests() + unseen.get(i).size(), l.running(), l.maxRunning(),
          l.predictedWorkTokens() + unseenTokens[i], l.kvFreeBlocks(), l.kvCapacityBlocks()));
    }
    return out;
  }

  /** Ids placed and not yet reported ended. */
  public int liveRequests() {
    return liveOn.size();
  }

  public long statusesApplied() {
    return statusesApplied;
  }

  /** Statuses ignored (older than one applied, or of an engine this job does not have). */
  public long statusesStale() {
    return statusesStale;
  }

  /** Whether this board was made for {@code engines} engines of these limits (a restored one may not be). */
  public boolean fits(int engines, int maxRunning, int kvCapacityBlocks) {
    return engines() == engines && this.maxRunning == maxRunning && this.kvCapacityBlocks == kvCapacityBlocks;
  }

  /** Places from now on by {@code p} (a restored board under a changed --placement keeps what it knows). */
  public void usePlacement(Placement p) {
    placement = p;
  }
}
