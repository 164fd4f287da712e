package io.trailflink.cli;

import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.FinalResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How close the ETA stream came to the real finish times, beside two naive ETAs made at the same moments from the
 * same records, both told the run's mean time between completions {@code S} (makespan ÷ served requests, known
 * only in hindsight — a generous baseline): <em>queue position</em> ({@code emitted + (queue_position + 1) × S}, the
 * policy's own position) and <em>FIFO</em> ({@code emitted + (unfinished requests accepted before it + 1) × S}).
 * "First" is each request's first estimate with a finish time (a burst is accepted before the engine has measured
 * its step time); "all" is every estimate published.
 *
 * @param requests requests scored (served, with at least one estimate)
 * @param firstMaeS mean absolute error of the first estimates (s)
 * @param firstMedianS median absolute error of the first estimates (s)
 * @param firstNaiveMaeS the same for the queue-position ETA (s)
 * @param firstFifoMaeS the same for the FIFO ETA (s)
 * @param estimates estimates scored
 * @param allMaeS mean absolute error over every estimate (s)
 * @param allNaiveMaeS the same for the queue-position ETA (s)
 */
record EtaFigures(int requests, double firstMaeS, double firstMedianS, double firstNaiveMaeS, double firstFifoMaeS,
    int estimates, double allMaeS, double allNaiveMaeS) {

  static EtaFigures of(List<EtaUpdate> etas, List<FinalResponse> finals) {
    Map<String, Long> finished = new HashMap<>();
    long firstSubmit = Long.MAX_VALUE;
    long lastFinish = Long.MIN_VALUE;
    for (FinalResponse f : finals) {
      if ("stop".equals(f.getFinishReason()) || "length".equals(f.getFinishReason())) {
        finished.put(f.getRequestId(), f.getFinishedAt().toEpochMilli());
        firstSubmit = Math.min(firstSubmit, f.getSubmittedAt().toEpochMilli());
        lastFinish = Math.max(lastFinish, f.getFinishedAt().toEpochMilli());
      }
    }
    if (finished.isEmpty()) {
      return new EtaFigures(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN);
    }
    double interval = (lastFinish - firstSubmit) / (double) finished.size(); // ms between completions
    List<String> acceptance = new ArrayList<>(); // FIFO order: the order the engines accepted the requests
    for (EtaUpdate e : etas) {
      if ("accepted".equals(e.getCause())) {
        acceptance.add(e.getRequestId());
      }
    }
    Map<String, EtaUpdate> first = new HashMap<>();
    List<Double> all = new ArrayList<>();
    List<Double> allNaive = new ArrayList<>();
    for (EtaUpdate e : etas) {
      Long end = finished.get(e.getRequestId());
      if (end == null || e.getPredictedFinishAt() == null) {
        continue;
      }
      first.putIfAbsent(e.getRequestId(), e);
      all.add(Math.abs(end - e.getPredictedFinishAt().toEpochMilli()) / 1000.0);
      allNaive.add(Math.abs(end - byPosition(e, interval)) / 1000.0);
    }
    List<Double> firstErr = new ArrayList<>();
    List<Double> naiveErr = new ArrayList<>();
    List<Double> fifoErr = new ArrayList<>();
    for (int rank = 0; rank < acceptance.size(); rank++) {
      EtaUpdate e = first.get(acceptance.get(rank));
      if (e == null) {
        continue;
      }
      long at = e.getEmittedAt().toEpochMilli();
      long end = finished.get(e.getRequestId());
      int ahead = 0;
      for (int j = 0; j < rank; j++) {
        Long done = finished.get(acceptance.get(j));
        if (done == null || done > at) {
          ahead++;
        }
      }
      firstErr.add(Math.abs(end - e.getPredictedFinishAt().toEpochMilli()) / 1000.0);
      naiveErr.add(Math.abs(end - byPosition(e, interval)) / 1000.0);
      fifoErr.add(Math.abs(end - (at + (ahead + 1) * interval)) / 1000.0);
    }
    double[] f = firstErr.stream().mapToDouble(Double::doubleValue).toArray();
    return new EtaFigures(f.length, Stats.mean(f), Stats.percentile(f, 50), mean(naiveErr), mean(fifoErr), all.size(),
        mean(all), mean(allNaive));
  }

  /** Every ETA update as a JSON line, with {@code finished_at_ms} of its request when it was served. */
  static void write(java.nio.file.Path file, List<EtaUpdate> etas, List<FinalResponse> finals) throws java.io.IOException {
    Map<String, Long> finished = new HashMap<>();
    finals.forEach(f -> finished.put(f.getRequestId(), f.getFinishedAt().toEpochMilli()));
    try (var out = java.nio.file.Files.newBufferedWriter(file)) {
      for (EtaUpdate e : etas) {
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("id", e.getRequestId());
        o.addProperty("cause", e.getCause());
        o.addProperty("state", e.getState());
        o.addProperty("emitted_at_ms", e.getEmittedAt().toEpochMilli());
        o.addProperty("generated", e.getGenerated());
        o.addProperty("queue_position", e.getQueuePosition());
        o.addProperty("predicted_remaining", e.getPredictedRemaining());
        o.addProperty("assumed_remaining", e.getAssumedRemaining());
        o.addProperty("step_ms", e.getStepMs());
        o.addProperty("slots", e.getSlots());
        o.addProperty("predicted_finish_at_ms", e.getPredictedFinishAt() == null ? null
            : e.getPredictedFinishAt().toEpochMilli());
        o.addProperty("finished_at_ms", finished.get(e.getRequestId()));
        out.write(o.toString());
        out.newLine();
      }
    }
  }

  private static double byPosition(EtaUpdate e, double interval) {
    return e.getEmittedAt().toEpochMilli() + (e.getQueuePosition() + 1) * interval;
  }

  private static double mean(List<Double> v) {
    return Stats.mean(v.stream().mapToDouble(Double::doubleValue).toArray());
  }
}
