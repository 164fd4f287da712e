package io.trailflink.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.trailflink.engine.model.LlamaConfig;

/**
 * The physical KV cache: per layer one key and one value tensor of {@code (blocks × blockSize, kvDim)} slots,
 * allocated once. Slot {@code block * blockSize + offset} holds one token's post-RoPE key (or value).
 * Which blocks belong to which request is the {@link io.trailflink.engine.BlockAllocator}'s business.
 */
final class KvPool implements AutoCloseable {
  final NDArray[] keys; // per layer: (slots, kvDim)
  final NDArray[] values; // per layer: (slots, kvDim)
  private final NDManager manager;
  private final long bytes;

  KvPool(NDManager parent, LlamaConfig config, int blocks, int blockSize, DataType dtype) {
    manager = parent.newSubManager();
    long slots = (long) blocks * blockSize;
    keys = new NDArray[config.numLayers()];
    values = new NDArray[config.numLayers()];
    for (int l = 0; l < config.numLayers(); l++) {
      keys[l] = manager.zeros(new Shape(slots, config.kvDim()), dtype);
      values[l] = manager.zeros(new Shape(slots, config.kvDim()), dtype);
    }
    bytes = 2L * config.numLayers() * slots * config.kvDim() * dtype.getNumOfBytes();
  }

  /** Bytes the pool occupies on its device. */
  long bytes() {
    return bytes;
  }

  @Override
  public void close() {
    manager.close();
  }
}
