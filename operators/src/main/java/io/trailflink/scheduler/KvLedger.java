package io.trailflink.scheduler;

import java.util.HashMap;
import java.util.Map;

/**
 * The scheduler's books on one engine's KV memory, in blocks of {@code blockSize} tokens: who holds how many.
 * It never lets the total exceed the capacity — a reservation that does not fit is refused, not granted.
 */
public final class KvLedger implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final int capacity; // blocks
  private final int blockSize; // tokens per block
  private final Map<String, Integer> held = new HashMap<>(); // request → blocks
  private int used; // blocks
  private int peak; // blocks

  public KvLedger(int capacity, int blockSize) {
    if (capacity <= 0 || blockSize <= 0) {
      throw new IllegalArgumentException("KV capacity and block size must be > 0");
    }
    this.capacity = capacity;
    this.blockSize = blockSize;
  }

  public int blocksFor(int tokens) {
    return (tokens + blockSize - 1) / blockSize;
  }

  /** Extra blocks {@code id} needs to hold {@code tokens} tokens. */
  public int shortfall(String id, int tokens) {
    return Math.max(0, blocksFor(tokens) - held(id));
  }

  /** Grows {@code id}'s holding to cover {@code tokens}; false, and nothing changes, when it does not fit. */
  public boolean reserve(String id, int tokens) {
    int extra = shortfall(id, tokens);
    if (extra > free()) {
      return false;
    }
    if (extra > 0) {
      held.merge(id, extra, Integer::sum);
      used += extra;
      peak = Math.max(peak, used);
    }
    return true;
  }

  public void release(String id) {
    Integer b = held.remove(id);
    if (b != null) {
      used -= b;
    }
  }

  public int held(String id) {
    return held.getOrDefault(id, 0);
  }

  public int used() {
    return used;
  }

  public int free() {
    return capacity - used;
  }

  public int capacity() {
    return capacity;
  }

  public int blockSize() {
    return blockSize;
  }

  public int peak() {
    return peak;
  }

  public int holders() {
    return held.size();
  }

  /** Throws when the books do not add up. */
  void check() {
    int sum = held.values().stream().mapToInt(Integer::intValue).sum();
    if (sum != used || used > capacity || used < 0) {
      throw new IllegalStateException("KV ledger inconsistent: used " + used + ", sum " + sum + ", capacity " + capacity);
    }
  }
}
