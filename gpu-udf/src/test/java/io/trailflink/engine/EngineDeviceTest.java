package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EngineDeviceTest {
  @Test
  void autoThreadsLeaveOneCoreButNeverExceedPyTorchsDefaultOrDropToZero() {
    assertEquals(1, EngineDevice.autoCpuThreads(2, 2));
    assertEquals(7, EngineDevice.autoCpuThreads(8, 8));
    assertEquals(8, EngineDevice.autoCpuThreads(8, 16)); // PyTorch counts physical cores only
    assertEquals(1, EngineDevice.autoCpuThreads(1, 1));
  }
}
