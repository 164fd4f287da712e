package io.trailflink.flink;

import io.trailflink.schema.EngineLoopState;
import io.trailflink.serving.EngineLoop;

/**
 * State serializer of the scheduler's {@link EngineSlot}s: each engine's loop as an {@link EngineLoopState} record.
 * A restore yields slots holding the record, rebuilt into loops under the operator's settings on first use. The
 * heap backend's copy of a live loop is a deep copy in memory (Java serialization, never written anywhere): the
 * record form is what survives a restore, not the loop's exact state (see {@link EngineLoop#restore}).
 */
public final class EngineSlotSerializer extends AvroStateSerializer<EngineSlot, EngineLoopState> {
  private static final long serialVersionUID = 1L;
  private static final JavaSerializer<EngineLoop> IN_MEMORY_COPY = new JavaSerializer<>(EngineLoop.class);

  @Override
  protected Class<EngineLoopState> recordClass() {
    return EngineLoopState.class;
  }

  @Override
  protected EngineLoopState toRecord(EngineSlot slot) {
    return slot.toState();
  }

  @Override
  protected EngineSlot fromRecord(EngineLoopState record) {
    return EngineSlot.restoredFrom(record);
  }

  @Override
  protected EngineSlot copyLive(EngineSlot slot) {
    return slot.pending() ? EngineSlot.restoredFrom(slot.toState()) : EngineSlot.of(IN_MEMORY_COPY.copy(slot.liveLoop()));
  }
}
