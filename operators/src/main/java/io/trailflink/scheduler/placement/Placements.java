package io.trailflink.scheduler.placement;

import java.util.Locale;

/** Placement names as users write them. */
public final class Placements {
  public static final String KNOWN = "hash, least-requests, least-predicted-work, least-load";

  private Placements() {}

  /** Parses one name, or throws naming the known ones. */
  public static Placement parse(String spec) {
    return switch (spec.strip().toLowerCase(Locale.ROOT)) {
      case "hash" -> new HashPlacement();
      case "least-requests" -> new LeastRequests();
      case "least-predicted-work" -> new LeastPredictedWork();
      case "least-load" -> new LeastLoad();
      default -> throw new IllegalArgumentException("unknown placement '" + spec + "' (known: " + KNOWN + ")");
    };
  }
}
