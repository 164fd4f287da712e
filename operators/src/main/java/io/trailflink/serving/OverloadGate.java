package io.trailflink.serving;

import io.trailflink.schema.EngineStatus;
import java.util.ArrayDeque;

/**
 * {@code --overload backpressure}: how many requests the engines may hold, and whether one more may go in. Plain
 * Java; the job's gate operator lets requests through while this says there is room and holds the rest, so that the
 * requests source stops reading (Flink's backpressure) instead of the queues growing.
 *
 * <p>The engines hold what their last statuses say (running, waiting, preempted) plus the requests let through since
 * the newest status, which no status counts yet: on a busy engine a status follows every command, so that window is
 * a command long. A request let through up to {@link #TRANSIT_MS} before a status may still be on its way to its
 * engine (placement, a network hop), so it stays counted until a status that much newer (an engine that goes quiet
 * reports once more a moment later, so one comes), or — when statuses cannot be read — for
 * {@link #ASSUMED_ARRIVED_MS}. Room is a total over the engines ({@code engines × (maxWaiting + maxRunning)}): placement spreads
 * what goes in. Statuses of another run of the job (older than {@code acceptFromMs}) are ignored. The bound is soft —
 * statuses lag, and a status in flight can undercount by a command's admissions — and it is never below the slots:
 * an engine always gets enough to fill its batch.
 */
public final class OverloadGate {
  /** Longest a request let through is taken to need to reach its engine's scheduler (ms). */
  static final long TRANSIT_MS = 50;
  /** After this long a request let through is taken to be in its engine's statuses, or finished (ms). */
  static final long ASSUMED_ARRIVED_MS = 10_000;
  private final int limit;
  private final long acceptFromMs;
  private final int[] held; // per engine: running + waiting + preempted in its last status
  private final long[] statusAtMs; // per engine: when its last status was taken (epoch ms), -1 = none
  private final ArrayDeque<Long> sinceStatus = new ArrayDeque<>(); // let through, epoch ms, newer than every status
  private long letThrough;
  private long statuses;

  /**
   * @param engines engines
   * @param maxRunning batch slots per engine
   * @param maxWaiting requests per engine beyond its batch (waiting or preempted), > 0
   * @param acceptFromMs statuses taken before this (epoch ms) belong to another run
   */
  public OverloadGate(int engines, int maxRunning, int maxWaiting, long acceptFromMs) {
    if (maxWaiting <= 0) {
      throw new IllegalArgumentException("--overload backpressure needs --max-waiting > 0, got " + maxWaiting);
    }
    this.limit = engines * (maxRunning + maxWaiting);
    this.acceptFromMs = acceptFromMs;
    this.held = new int[engines];
    this.statusAtMs = new long[engines];
    java.util.Arrays.fill(statusAtMs, -1);
  }

  /** An engine's status (read back from the engine-status topic). */
  public synchronized void observe(EngineStatus s) {
    int e;
    try {
      e = EngineId.indexOf(s.getEngine());
    } catch (IllegalArgumentException foreign) {
      return;
    }
    long at = s.getAt().toEpochMilli();
    if (e >= held.length || at < acceptFromMs || at < statusAtMs[e]) {
      return; // another run's, an engine this job does not have, or older than one applied
    }
    statuses++;
    held[e] = s.getRunning() + s.getWaiting() + s.getPreempted();
    statusAtMs[e] = at;
    long newest = java.util.Arrays.stream(statusAtMs).max().orElse(-1);
    while (!sinceStatus.isEmpty() && sinceStatus.peekFirst() <= newest - TRANSIT_MS) {
      sinceStatus.pollFirst(); // counted by a status now
    }
  }

  /** Requests the engines hold or will hold at {@code nowMs} (epoch ms), as far as is known. */
  public synchronized int inFlight(long nowMs) {
    while (!sinceStatus.isEmpty() && sinceStatus.peekFirst() <= nowMs - ASSUMED_ARRIVED_MS) {
      sinceStatus.pollFirst();
    }
    int sum = sinceStatus.size();
    for (int h : held) {
      sum += h;
    }
    return sum;
  }

  /** Whether one more request may go in at {@code nowMs} (epoch ms). */
  public synchronized boolean hasRoom(long nowMs) {
    return inFlight(nowMs) < limit;
  }

  /** A request went in at {@code nowMs} (epoch ms). */
  public synchronized void letThrough(long nowMs) {
    sinceStatus.addLast(nowMs);
    letThrough++;
  }

  public int limit() {
    return limit;
  }

  public synchronized long letThroughCount() {
    return letThrough;
  }

  public synchronized long statusesApplied() {
    return statuses;
  }
}
