package io.trailflink.engine.djl;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Frees a direct or memory-mapped buffer at once instead of whenever the garbage collector gets to it, so that a
 * checkpoint's file pages and conversion buffers do not stay in the process's resident memory after its tensors are
 * on the device. Uses the JDK's
 * {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported); where that is unavailable the buffer is left to GC.
 * The buffer must not be used afterwards.
 */
final class MappedFiles {
  private static final Object UNSAFE;
  private static final Method INVOKE_CLEANER;

  static {
    Object unsafe = null;
    Method clean = null;
    try {
      Class<?> c = Class.forName("sun.misc.Unsafe");
      Field f = c.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      unsafe = f.get(null);
      clean = c.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // left to GC
    }
    UNSAFE = unsafe;
    INVOKE_CLEANER = clean;
  }

  private MappedFiles() {}

  static void free(ByteBuffer buffer) {
    if (buffer == null || !buffer.isDirect() || INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invoke(UNSAFE, buffer);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // a slice or duplicate cannot be cleaned directly: left to GC
    }
  }
}
