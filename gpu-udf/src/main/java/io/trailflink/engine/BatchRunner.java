package io.trailflink.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Runs a bounded list of requests to completion on one engine with simple continuous batching (first come, first
 * served; up to {@code maxRunning} decoding at once; new requests admitted as others finish). For offline
 * evaluation and batch inference; the streaming job schedules with TRAIL instead. Size the engine's KV capacity
 * for {@code maxRunning} requests at full length: running out mid-decode is reported, not handled.
 */
public final class BatchRunner {
  /**
   * A finished request: its tokens and why it stopped (null finish with a message when it was refused), and when its
   * first token and its last came (epoch ms).
   */
  public record Completion(String id, int[] tokens, FinishReason finish, String error, long firstTokenAtMs,
      long finishedAtMs) {}

  private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory
      .getThreadMXBean();

  private final LlamaEngine engine;
  private final int maxRunning;
  private final int quantum;
  private double prefillMs; // engine time in admissions (prefill), summed
  private double decodeMs; // engine time in decode quanta, summed
  private double cpuMs; // CPU time of the calling thread in the engine's calls, summed

  public BatchRunner(LlamaEngine engine, int maxRunning, int quantum) {
    this.engine = engine;
    this.maxRunning = maxRunning;
    this.quantum = quantum;
  }

  /** Engine time spent prefilling admitted requests so far (ms). */
  public double prefillMs() {
    return prefillMs;
  }

  /** CPU time of the engine's calls so far (ms): below their wall time when the thread waited for a core. */
  public double cpuMs() {
    return cpuMs;
  }

  /** Engine time spent in decode quanta so far (ms). */
  public double decodeMs() {
    return decodeMs;
  }

  /** Generates every request; {@code onDone} receives the count of completed requests as they finish. */
  public Map<String, Completion> run(List<GenerationRequest> requests, IntConsumer onDone) {
    int[] count = {0};
    Consumer<Completion> counting = c -> onDone.accept(++count[0]);
    return runEach(requests, counting);
  }

  /** Generates every request; {@code onComplete} receives each completion as it finishes. */
  public Map<String, Completion> runEach(List<GenerationRequest> requests, Consumer<Completion> onComplete) {
    Map<String, Long> firstToken = new java.util.HashMap<>();
    Deque<GenerationRequest> waiting = new ArrayDeque<>(requests);
    Map<String, List<Integer>> tokens = new LinkedHashMap<>();
    Map<String, Completion> done = new LinkedHashMap<>();
    List<String> running = new ArrayList<>();
    while (!waiting.isEmpty() || !running.isEmpty()) {
      List<GenerationRequest> admit = new ArrayList<>();
      while (!waiting.isEmpty() && running.size() + admit.size() < maxRunning) {
        admit.add(waiting.pollFirst());
      }
      long c0 = CPU.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      List<SequenceUpdate> updates = new ArrayList<>(engine.admit(admit));
      long t1 = System.nanoTime();
      if (!running.isEmpty()) {
        updates.addAll(engine.decode(running, quantum));
      }
      prefillMs += (t1 - t0) / 1e6;
      decodeMs += (System.nanoTime() - t1) / 1e6;
      cpuMs += (CPU.getCurrentThreadCpuTime() - c0) / 1e6;
      for (SequenceUpdate u : updates) {
        switch (u.outcome()) {
          case OK -> {
            firstToken.putIfAbsent(u.requestId(), System.currentTimeMillis());
            List<Integer> t = tokens.computeIfAbsent(u.requestId(), k -> new ArrayList<>());
            for (int x : u.tokens()) {
              t.add(x);
            }
            if (!running.contains(u.requestId())) {
              running.add(u.requestId());
            }
            if (u.finished()) {
              running.remove(u.requestId());
              Completion c = new Completion(u.requestId(), toArray(t), u.finish(), null, firstToken.get(u.requestId()),
                  System.currentTimeMillis());
              done.put(u.requestId(), c);
              onComplete.accept(c);
            }
          }
          case KV_FULL -> {
            if (u.generated() > 0 || running.isEmpty()) {
              throw new IllegalStateException("KV capacity of " + engine.blockCapacity() + " blocks is too small for "
                  + maxRunning + " running requests: " + u.message());
            }
            // not admitted yet: it waits until running requests finish and free their blocks
            requests.stream().filter(r -> r.id().equals(u.requestId())).findFirst().ifPresent(waiting::addFirst);
          }
          case REJECTED, FAILED -> {
            running.remove(u.requestId());
            long now = System.currentTimeMillis();
            Completion c = new Completion(u.requestId(), new int[0], null, u.message(), now, now);
            done.put(u.requestId(), c);
            onComplete.accept(c);
          }
        }
      }
    }
    return done;
  }

  private static int[] toArray(List<Integer> t) {
    return t.stream().mapToInt(Integer::intValue).toArray();
  }
}
