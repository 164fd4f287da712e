package io.trailflink.engine.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A model that cannot fit is refused before loading, with its sizes and what to change. */
class MemoryBudgetTest {
  @Test
  void aModelLargerThanTheAvailableMemoryIsRefusedWithItsSizes() {
    long available = MemoryBudget.availableBytes();
    assertTrue(available > 0, "this Linux machine reports MemAvailable");
    String why = assertThrows(CheckpointException.class,
        () -> MemoryBudget.requireFits("/models/huge", available, 1L << 30, ComputeType.F32)).getMessage();
    assertTrue(why.startsWith("/models/huge: needs ") && why.contains("weights at f32") && why.contains("--dtype f16"),
        why);
    assertDoesNotThrow(() -> MemoryBudget.requireFits("/models/tiny", 1 << 20, 1 << 20, ComputeType.F16));
  }
}
