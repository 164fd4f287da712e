package io.trailflink.engine;

import java.io.Serializable;
import java.util.List;

/**
 * What one {@link EngineCommand} did.
 *
 * @param engineId the engine
 * @param sequence the command's sequence number
 * @param updates one update per request touched, in the order the operations ran
 * @param blocksUsed KV blocks in use after the command
 * @param blockCapacity the engine's KV capacity in blocks
 * @param busyNanos time the engine spent executing the command (ns)
 * @param error non-null when the command as a whole failed (the engine is still usable)
 */
public record EngineResult(
    String engineId,
    long sequence,
    List<SequenceUpdate> updates,
    int blocksUsed,
    int blockCapacity,
    long busyNanos,
    String error) implements Serializable {

  public EngineResult {
    updates = List.copyOf(updates);
  }

  public boolean failed() {
    return error != null;
  }
}
