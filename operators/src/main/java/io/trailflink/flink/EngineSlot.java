package io.trailflink.flink;

import io.trailflink.schema.EngineLoopState;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.ServingConfig;

/**
 * The scheduler operator's keyed state for one engine: its live {@link EngineLoop}, or — right after a restore —
 * the {@link EngineLoopState} the checkpoint kept, rebuilt into a loop on first use under the operator's current
 * settings (a state serializer cannot know them). The value is mutable: the heap state backend keeps this object
 * and serializes it only when a checkpoint is taken.
 */
public final class EngineSlot implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private EngineLoop loop;
  private EngineLoopState restored;

  private EngineSlot(EngineLoop loop, EngineLoopState restored) {
    this.loop = loop;
    this.restored = restored;
  }

  static EngineSlot of(EngineLoop loop) {
    return new EngineSlot(loop, null);
  }

  /** A slot from a checkpoint: the loop is rebuilt on first {@link #loop}. */
  static EngineSlot restoredFrom(EngineLoopState state) {
    return new EngineSlot(null, state);
  }

  /** The engine's loop; rebuilt from the restored state (at {@code now}, epoch ms) under {@code config} if needed. */
  EngineLoop loop(ServingConfig config, long now) {
    if (loop == null) {
      loop = EngineLoop.restore(restored, config, now);
      restored = null;
    }
    return loop;
  }

  /** The checkpoint form: the restored state itself while no loop was rebuilt from it. */
  EngineLoopState toState() {
    return loop != null ? loop.toState() : restored;
  }

  /** Whether this slot still holds only restored state (for the serializer's copy). */
  boolean pending() {
    return loop == null;
  }

  EngineLoop liveLoop() {
    return loop;
  }
}
