package io.trailflink.cli;

import io.trailflink.job.SqlRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.types.Row;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail sql}: Flink SQL over the job's topics on a local MiniCluster. The tables come from
 * {@code sql/tables/} (the files Flink's SQL client runs unchanged), pointed at {@code --bootstrap-servers} and
 * {@code --topic-prefix}. Streaming (the default), each change of the result is printed as it comes, with its kind
 * ({@code +I}, {@code -U}, {@code +U}, {@code -D}); with {@code --bounded} the topics are read up to their ends and
 * the final result is printed as a table.
 */
@Command(name = "sql", description = "Run Flink SQL (a query file or a statement) over the job's topics.")
final class SqlCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092") String bootstrapServers;
  @Option(names = "--topic-prefix", defaultValue = "trail.") String topicPrefix;
  @Option(names = "--tables", description = "Folder of CREATE TABLE files (default: sql/tables of this checkout).")
  Path tables;
  @Option(names = "--bounded", description = "Read the topics up to their current ends, then print the result and exit.")
  boolean bounded;

  @ArgGroup(exclusive = true, multiplicity = "1") Source source;

  static final class Source {
    @Option(names = "--query", description = "A file of SQL statements; the last one's rows are printed.") Path file;
    @Option(names = "--execute", description = "SQL statements, e.g. \"SELECT * FROM responses\".") String sql;
  }

  @Override
  public Integer call() throws Exception {
    Path tableDir = tables != null ? tables : TrailCli.home().resolve("sql/tables");
    if (!Files.isDirectory(tableDir)) {
      throw new IllegalArgumentException("--tables " + tableDir + ": not a folder of CREATE TABLE files");
    }
    Path name = source.file != null ? source.file : Path.of("--execute");
    if (source.file != null && !Files.isReadable(source.file)) {
      throw new IllegalArgumentException("--query " + source.file + ": no such file");
    }
    String sql = source.file != null ? Files.readString(source.file) : source.sql;
    run(tableDir, bootstrapServers, topicPrefix, bounded, name, sql);
    return 0;
  }

  /** Runs {@code sql} over the topics and prints its result (bounded: the final table; else every change). */
  static void run(Path tableDir, String bootstrapServers, String topicPrefix, boolean bounded, Path name, String sql)
      throws Exception {
    List<Row> changes = new ArrayList<>();
    ResolvedSchema schema;
    try (SqlRunner runner = new SqlRunner(tableDir, bootstrapServers, topicPrefix, bounded)) {
      schema = runner.run(name, sql, row -> {
        if (bounded) {
          changes.add(row);
        } else {
          System.out.println(row.getKind().shortString() + " " + cells(row));
          System.out.flush();
        }
      });
    }
    if (schema == null) {
      System.err.println("done (no rows to print)");
    } else if (bounded) {
      List<Row> rows = SqlRunner.materialize(changes);
      System.out.print(table(schema.getColumnNames(), rows));
      System.err.println(rows.size() + " rows");
    }
  }

  private static String cells(Row r) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < r.getArity(); i++) {
      out.add(cell(r.getField(i)));
    }
    return String.join(" | ", out);
  }

  private static String cell(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Double d) {
      return String.format(Locale.ROOT, "%.1f", d);
    }
    return v.toString();
  }

  /** Rows under their column names, columns padded to their widest cell. */
  static String table(List<String> columns, List<Row> rows) {
    int[] width = new int[columns.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = columns.get(i).length();
      for (Row r : rows) {
        width[i] = Math.max(width[i], cell(r.getField(i)).length());
      }
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < width.length; i++) {
      b.append(String.format("%-" + width[i] + "s", columns.get(i))).append(i + 1 < width.length ? "  " : "\n");
    }
    for (Row r : rows) {
      for (int i = 0; i < width.length; i++) {
        String c = cell(r.getField(i));
        boolean numeric = r.getField(i) instanceof Number;
        b.append(String.format("%" + (numeric ? "" : "-") + width[i] + "s", c)).append(i + 1 < width.length ? "  " : "\n");
      }
    }
    return b.toString();
  }
}
