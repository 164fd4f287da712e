package io.trailflink.embedded;

import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs another main class, and halts this JVM as soon as the process that started it is gone: a child broker must
 * not outlive a parent that was killed with {@code kill -9} (no shutdown hook runs then), holding ports and disk.
 * Usage: {@code ParentWatchingMain <main class> <args...>}.
 */
public final class ParentWatchingMain {
  private ParentWatchingMain() {}

  public static void main(String[] args) throws Exception {
    ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(0)));
    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
  }
}
