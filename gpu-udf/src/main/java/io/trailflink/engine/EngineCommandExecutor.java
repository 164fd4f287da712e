package io.trailflink.engine;

import java.util.ArrayList;
import java.util.List;

/** Applies an {@link EngineCommand} to an engine; any exception becomes a failed result, never a thrown one. */
public final class EngineCommandExecutor {
  private EngineCommandExecutor() {}

  public static EngineResult apply(LlamaEngine engine, EngineCommand cmd) {
    long start = System.nanoTime();
    List<SequenceUpdate> updates = new ArrayList<>();
    try {
      cmd.release().forEach(id -> updates.add(engine.release(id)));
      cmd.evict().forEach(id -> updates.add(engine.evict(id)));
      cmd.preempt().forEach(id -> updates.add(engine.preempt(id)));
      if (!cmd.resume().isEmpty()) {
        updates.addAll(engine.resume(cmd.resume()));
      }
      if (!cmd.admit().isEmpty()) {
        updates.addAll(engine.admit(cmd.admit()));
      }
      if (!cmd.decode().isEmpty()) {
        updates.addAll(engine.decode(cmd.decode(), cmd.decodeSteps()));
      }
      return new EngineResult(cmd.engineId(), cmd.sequence(), updates, engine.blocksUsed(), engine.blockCapacity(),
          System.nanoTime() - start, null);
    } catch (RuntimeException e) {
      return new EngineResult(cmd.engineId(), cmd.sequence(), updates, engine.blocksUsed(), engine.blockCapacity(),
          System.nanoTime() - start, "engine command " + cmd.sequence() + " failed: " + e);
    }
  }
}
