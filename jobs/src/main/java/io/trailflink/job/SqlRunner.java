package io.trailflink.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * Flink SQL over the job's topics, in this JVM (a local MiniCluster through the Table API): declares the topics'
 * tables from {@code sql/tables/*.sql} exactly as written — so the same files run in Flink's SQL client — then
 * points them at the given broker and topic prefix with {@code ALTER TABLE … SET}, and runs a query file's
 * statements. A bounded run reads each topic up to its end offsets at start, so the query finishes.
 */
public final class SqlRunner implements AutoCloseable {
  private final TableEnvironment tables;
  private final List<String> declared = new ArrayList<>();

  /**
   * @param tableDir the {@code CREATE TABLE} files (every {@code *.sql} in it, in name order)
   * @param bootstrapServers the broker, or null to keep the files' own
   * @param topicPrefix prefix of the job's topics (the files use {@code trail.}), or null to keep theirs
   * @param bounded read each topic only up to its end offsets at start
   */
  public SqlRunner(Path tableDir, String bootstrapServers, String topicPrefix, boolean bounded) throws IOException {
    tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
    tables.getConfig().set("table.local-time-zone", "UTC"); // the topics' timestamps are UTC
    // one reader per topic: a reader without a partition never emits a watermark, and event-time windows would
    // never close; an idle partition does not hold them back either
    tables.getConfig().set("parallelism.default", "1");
    tables.getConfig().set("table.exec.source.idle-timeout", "5 s");
    List<Path> files;
    try (Stream<Path> s = Files.list(tableDir)) {
      files = s.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException(tableDir + ": no .sql table files");
    }
    for (Path f : files) {
      for (String statement : SqlScript.statements(Files.readString(f))) {
        execute(f, statement);
      }
    }
    for (String table : tables.listTables()) {
      declared.add(table);
      String topic = options(table).get("topic");
      StringBuilder set = new StringBuilder();
      if (bootstrapServers != null) {
        set.append("'properties.bootstrap.servers' = '").append(bootstrapServers).append("', ");
      }
      if (topicPrefix != null && topic != null && topic.startsWith("trail.")) {
        set.append("'topic' = '").append(topicPrefix).append(topic.substring("trail.".length())).append("', ");
      }
      if (bounded) {
        set.append("'scan.bounded.mode' = 'latest-offset', ");
      }
      if (!set.isEmpty()) {
        tables.executeSql("ALTER TABLE `" + table + "` SET (" + set.substring(0, set.length() - 2) + ")");
      }
    }
  }

  private Map<String, String> options(String table) {
    return tables.getCatalog(tables.getCurrentCatalog()).map(c -> {
      try {
        return c.getTable(new org.apache.flink.table.catalog.ObjectPath(tables.getCurrentDatabase(), table))
            .getOptions();
      } catch (org.apache.flink.table.catalog.exceptions.TableNotExistException e) {
        return Map.<String, String>of();
      }
    }).orElse(Map.of());
  }

  /** The tables declared from the table files. */
  public List<String> tables() {
    return List.copyOf(declared);
  }

  /** The table environment, for tests that inspect the declared schemas. */
  public TableEnvironment environment() {
    return tables;
  }

  /**
   * Runs every statement of {@code sql} (named {@code source} in errors); the rows of the last one that returns
   * rows go to {@code rows} as they come (with their change kind); returns that statement's schema, or null.
   */
  public ResolvedSchema run(Path source, String sql, Consumer<Row> rows) throws Exception {
    List<String> statements = SqlScript.statements(sql);
    if (statements.isEmpty()) {
      throw new IllegalArgumentException(source + ": no SQL statement");
    }
    ResolvedSchema schema = null;
    for (int i = 0; i < statements.size(); i++) {
      TableResult result = execute(source, statements.get(i));
      if (i == statements.size() - 1 && result.getResolvedSchema().getColumnCount() > 0
          && result.getJobClient().isPresent()) {
        schema = result.getResolvedSchema();
        try (CloseableIterator<Row> it = result.collect()) {
          while (it.hasNext()) {
            rows.accept(it.next());
          }
        }
      }
    }
    return schema;
  }

  /** The rows a bounded query ends with: its changelog applied (retractions remove their rows). */
  public static List<Row> materialize(List<Row> changes) {
    List<Row> out = new ArrayList<>();
    for (Row r : changes) {
      Row plain = Row.copy(r);
      plain.setKind(org.apache.flink.types.RowKind.INSERT);
      switch (r.getKind()) {
        case INSERT, UPDATE_AFTER -> out.add(plain);
        case UPDATE_BEFORE, DELETE -> out.remove(plain);
        default -> throw new IllegalStateException("unknown row kind " + r.getKind());
      }
    }
    return out;
  }

  private TableResult execute(Path source, String statement) {
    try {
      return tables.executeSql(statement);
    } catch (RuntimeException e) {
      throw new SqlError(source, e);
    }
  }

  /** A statement Flink refused: its message, with the file that held it. */
  public static final class SqlError extends IllegalArgumentException {
    SqlError(Path source, RuntimeException cause) {
      super(source + ": " + firstLine(cause), cause);
    }

    private static String firstLine(Throwable e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage();
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      if (root != e && root.getMessage() != null && !m.contains(root.getMessage())) {
        m = m + " (" + root.getMessage() + ")";
      }
      int expecting = m.indexOf("Was expecting");
      if (expecting > 0) {
        m = m.substring(0, expecting).strip() + " …"; // the parser's list of every token it would take
      }
      return m.replace('\n', ' ').strip();
    }
  }

  @Override
  public void close() {}
}
