package io.trailflink.serving;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.LoopCountersState;
import java.io.Serializable;

/** Counters of one engine loop, for metrics and the demo's summary. */
public final class LoopStats implements Serializable {
  private static final long serialVersionUID = 1L;

  long commands;
  long steps;
  long finished;
  long staleFeedback;
  long engineRestarts;
  long stalls;
  long shed; // requests refused for overload (--max-waiting)
  long cancelled; // requests cancelled in flight
  long cancelsUnknown; // cancels of ids not in flight (unknown or finished)
  long deadlines; // requests cancelled because their deadline passed
  long unreachable; // requests refused at admission: predicted to finish after their deadline
  long parked; // waiting requests prefilled ahead of their turn and paused (instead of probed)
  double busyMs; // engine compute time over all steps (ms)
  long firstIssuedAtMs = -1; // epoch ms
  long lastFinishedAtMs = -1; // epoch ms
  /** Last feedback's hop: record published to received by the scheduler (ms). */
  long lastHopMs;
  /** Last command's round trip: issued to feedback applied (ms). */
  long lastRoundTripMs;
  /** Last command's scheduling time: decisions plus building the command (µs). */
  double lastDecisionUs;

  /** The counters into a checkpoint's form (the scheduler's counters are added by the loop). */
  LoopCountersState.Builder toState() {
    return LoopCountersState.newBuilder().setCommands(commands).setSteps(steps).setFinished(finished)
        .setStaleFeedback(staleFeedback).setEngineRestarts(engineRestarts).setStalls(stalls).setShed(shed)
        .setCancelled(cancelled).setCancelsUnknown(cancelsUnknown).setDeadlines(deadlines).setUnreachable(unreachable)
        .setParked(parked).setBusyMs(busyMs).setFirstIssuedAtMs(firstIssuedAtMs).setLastFinishedAtMs(lastFinishedAtMs);
  }

  /** The counters a checkpoint kept. */
  void restore(LoopCountersState c) {
    commands = c.getCommands();
    steps = c.getSteps();
    finished = c.getFinished();
    staleFeedback = c.getStaleFeedback();
    engineRestarts = c.getEngineRestarts();
    stalls = c.getStalls();
    shed = c.getShed();
    cancelled = c.getCancelled();
    cancelsUnknown = c.getCancelsUnknown();
    deadlines = c.getDeadlines();
    unreachable = c.getUnreachable();
    parked = c.getParked();
    busyMs = c.getBusyMs();
    firstIssuedAtMs = c.getFirstIssuedAtMs();
    lastFinishedAtMs = c.getLastFinishedAtMs();
  }

  void recordDecision(double micros) {
    lastDecisionUs = micros;
  }

  public double lastDecisionUs() {
    return lastDecisionUs;
  }

  void recordStep(EngineFeedback fb, long now) {
    steps++;
    busyMs += fb.getBusyMs();
    if (firstIssuedAtMs < 0) {
      firstIssuedAtMs = fb.getIssuedAtMs();
    }
    lastFinishedAtMs = fb.getFinishedAtMs();
    lastHopMs = Math.max(0, now - fb.getPublishedAtMs());
    lastRoundTripMs = Math.max(0, now - fb.getIssuedAtMs());
  }

  public long commands() {
    return commands;
  }

  public long steps() {
    return steps;
  }

  public long finished() {
    return finished;
  }

  public long staleFeedback() {
    return staleFeedback;
  }

  public long engineRestarts() {
    return engineRestarts;
  }

  public long stalls() {
    return stalls;
  }

  public double busyMs() {
    return busyMs;
  }

  public long lastHopMs() {
    return lastHopMs;
  }

  public long lastRoundTripMs() {
    return lastRoundTripMs;
  }

  /** Waiting requests prefilled ahead of their turn and paused, their KV kept (instead of probed). */
  public long parked() {
    return parked;
  }

  /** Requests refused for overload. */
  public long shed() {
    return shed;
  }

  /** Requests cancelled while in flight. */
  public long cancelled() {
    return cancelled;
  }

  /** Cancels of ids that were not in flight (unknown or already finished). */
  public long cancelsUnknown() {
    return cancelsUnknown;
  }

  /** Requests cancelled because their deadline passed. */
  /** Requests refused at admission because their predicted finish was past their deadline. */
  public long unreachable() {
    return unreachable;
  }

  public long deadlines() {
    return deadlines;
  }
}
