package io.trailflink.engine;

import java.io.Serializable;
import java.util.List;

/**
 * Everything the scheduler asks one engine to do in one round trip, applied in this order: release, evict,
 * preempt, resume, admit, then {@code decodeSteps} batched decode steps over {@code decode}.
 *
 * @param engineId the engine (Flink key) this command is for
 * @param sequence per-engine command number, echoed in the result so replays are recognised
 * @param release requests to forget (finished elsewhere or cancelled)
 * @param evict requests whose KV cache to free
 * @param preempt requests to stop decoding, keeping their KV cache
 * @param resume requests to make runnable again (evicted ones are recomputed)
 * @param admit new requests to prefill
 * @param decode resident requests to decode
 * @param decodeSteps decode steps in this quantum (0 when {@code decode} is empty)
 */
public record EngineCommand(
    String engineId,
    long sequence,
    List<String> release,
    List<String> evict,
    List<String> preempt,
    List<String> resume,
    List<GenerationRequest> admit,
    List<String> decode,
    int decodeSteps) implements Serializable {

  public EngineCommand {
    release = List.copyOf(release);
    evict = List.copyOf(evict);
    preempt = List.copyOf(preempt);
    resume = List.copyOf(resume);
    admit = List.copyOf(admit);
    decode = List.copyOf(decode);
  }

  public static EngineCommand admitAndDecode(
      String engineId, long sequence, List<GenerationRequest> admit, List<String> decode, int steps) {
    return new EngineCommand(engineId, sequence, List.of(), List.of(), List.of(), List.of(), admit, decode, steps);
  }
}
