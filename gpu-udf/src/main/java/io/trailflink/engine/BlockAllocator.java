package io.trailflink.engine;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The engine's KV memory budget: a fixed number of blocks of {@code blockSize} token slots each, handed out from a
 * free list. A sequence of L tokens holds {@code ceil(L / blockSize)} blocks.
 */
public final class BlockAllocator {
  private final int capacity; // blocks
  private final int blockSize; // tokens per block
  private final Deque<Integer> free = new ArrayDeque<>();

  public BlockAllocator(int capacity, int blockSize) {
    if (capacity <= 0 || blockSize <= 0) {
      throw new IllegalArgumentException("KV capacity and block size must be > 0, got " + capacity + ", " + blockSize);
    }
    this.capacity = capacity;
    this.blockSize = blockSize;
    for (int i = 0; i < capacity; i++) {
      free.addLast(i);
    }
  }

  /** Blocks needed to hold {@code tokens} tokens. */
  public int blocksFor(int tokens) {
    return (tokens + blockSize - 1) / blockSize;
  }

  /** Takes one free block; throws if none is left (callers check {@link #free()} first). */
  int allocate() {
    Integer b = free.pollFirst();
    if (b == null) {
      throw new IllegalStateException("KV pool exhausted: all " + capacity + " blocks in use");
    }
    return b;
  }

  void release(List<Integer> blocks) {
    for (int b : blocks) {
      free.addFirst(b);
    }
  }

  public int capacity() {
    return capacity;
  }

  public int blockSize() {
    return blockSize;
  }

  public int free() {
    return free.size();
  }

  public int used() {
    return capacity - free.size();
  }
}
