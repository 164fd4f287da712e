package io.trailflink.scheduler.policy;

import io.trailflink.scheduler.Policy;
import java.util.Locale;

/** Policy names as users write them: {@code fcfs, sjf, sprpt, trail[:C], oracle[:C]}. */
public final class Policies {
  public static final String KNOWN = "fcfs, sjf, sprpt, trail[:C], oracle[:C]";

  private Policies() {}

  /** Parses one name; {@code defaultC} applies to trail and oracle without an explicit C. */
  public static Policy parse(String spec, double defaultC) {
    String s = spec.strip().toLowerCase(Locale.ROOT);
    String base = s.contains(":") ? s.substring(0, s.indexOf(':')) : s;
    double c = defaultC;
    if (s.contains(":")) {
      try {
        c = Double.parseDouble(s.substring(s.indexOf(':') + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("policy '" + spec + "': C must be a number");
      }
    }
    if (!(c >= 0)) {
      throw new IllegalArgumentException("policy '" + spec + "': C must be >= 0, got " + c);
    }
    return switch (base) {
      case "fcfs" -> new FcfsPolicy();
      case "sjf" -> new SjfPolicy();
      case "sprpt" -> TrailPolicy.sprpt();
      case "trail" -> new TrailPolicy(s.contains(":") ? s : "trail", c, 0, Integer.MAX_VALUE, false);
      case "oracle" -> new TrailPolicy(s.contains(":") ? s : "oracle", c, 0, Integer.MAX_VALUE, true);
      default -> throw new IllegalArgumentException("unknown policy '" + spec + "' (known: " + KNOWN + ")");
    };
  }
}
