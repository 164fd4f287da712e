package io.trailflink.serving;

/**
 * One decode engine's identity, in its two spellings: the index (the Flink key of its scheduler, of its feedback and
 * of its predictor; engine i's decode UDF runs as subtask i) and the name {@code engine-i} (on every record that
 * names an engine: commands, feedback, responses, status). Conversions between them live here only.
 *
 * @param index 0 .. engines − 1
 */
public record EngineId(int index) implements java.io.Serializable {
  private static final String PREFIX = "engine-";

  public EngineId {
    if (index < 0) {
      throw new IllegalArgumentException("engine index must be >= 0, got " + index);
    }
  }

  public static EngineId of(int index) {
    return new EngineId(index);
  }

  /** The engine named {@code name} ({@code engine-i}), or an IllegalArgumentException naming it. */
  public static EngineId parse(String name) {
    if (name == null || !name.startsWith(PREFIX)) {
      throw new IllegalArgumentException("not an engine name: '" + name + "'");
    }
    try {
      return new EngineId(Integer.parseInt(name, PREFIX.length(), name.length(), 10));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an engine name: '" + name + "'");
    }
  }

  /** The index of the engine named {@code name}, or an IllegalArgumentException naming it. */
  public static int indexOf(String name) {
    return parse(name).index();
  }

  /**
   * The key a feedback record naming {@code name} is routed by: its engine's index, or -1 for a name that is no
   * engine's (no scheduler state has that key, so the record is dropped there instead of failing the job).
   */
  public static int keyOf(String name) {
    try {
      return indexOf(name);
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }

  public String name() {
    return PREFIX + index;
  }

  @Override
  public String toString() {
    return name();
  }
}
