package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.ResponseChunk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.flink.formats.avro.typeutils.AvroSchemaConverter;
import org.apache.flink.table.types.logical.RowType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped {@code sql/tables} declare each topic so that Flink SQL's {@code avro} format — which derives the
 * writer schema from the columns — derives exactly the shape the job writes: same field order, types, logical
 * types and nullability. A column out of order or a nullability slip would misread every record, so this compares
 * the derived schema with the record's own, field by field.
 */
class SqlTablesTest {
  static final Path TABLES = Path.of("../sql/tables");
  static final Path QUERIES = Path.of("../sql/queries");

  @Test
  void everyTableDerivesTheWriterSchemaOfItsTopic() throws Exception {
    Map<String, Schema> topics = Map.of("responses", FinalResponse.getClassSchema(), "chunks",
        ResponseChunk.getClassSchema(), "etas", EtaUpdate.getClassSchema(), "engine_status",
        EngineStatus.getClassSchema(), "dead_letters", DeadLetter.getClassSchema());
    try (SqlRunner sql = new SqlRunner(TABLES, "broker:9", "t.", true)) {
      assertEquals(topics.keySet().stream().sorted().toList(), sql.tables().stream().sorted().toList());
      for (var e : topics.entrySet()) {
        RowType row = (RowType) sql.environment().from(e.getKey()).getResolvedSchema().toPhysicalRowDataType()
            .getLogicalType();
        Schema derived = AvroSchemaConverter.convertToSchema(row);
        List<String> diff = new ArrayList<>();
        compare(e.getKey(), e.getValue(), derived, diff);
        assertTrue(diff.isEmpty(), e.getKey() + ": " + diff);
      }
      var options = sql.environment().executeSql("SHOW CREATE TABLE responses").collect().next().getField(0);
      assertTrue(options.toString().contains("'topic' = 't.responses'")
          && options.toString().contains("'properties.bootstrap.servers' = 'broker:9'")
          && options.toString().contains("'scan.bounded.mode' = 'latest-offset'"), options.toString());
    }
  }

  @Test
  void everyShippedQueryPlansAgainstTheTables() throws Exception {
    try (SqlRunner sql = new SqlRunner(TABLES, null, null, true)) {
      List<Path> queries;
      try (var s = Files.list(QUERIES)) {
        queries = s.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
      }
      assertEquals(5, queries.size(), queries.toString());
      for (Path q : queries) {
        List<String> statements = SqlScript.statements(Files.readString(q));
        for (int i = 0; i < statements.size() - 1; i++) {
          sql.environment().executeSql(statements.get(i));
        }
        sql.environment().explainSql(statements.get(statements.size() - 1)); // parses, validates and plans
      }
    }
  }

  @Test
  void aFileThatDoesNotParseNamesItselfInFlinksError(@TempDir Path tmp) throws Exception {
    Path bad = tmp.resolve("bad.sql");
    Files.writeString(bad, "SELECT request_id FROM responses WHERE;");
    try (SqlRunner sql = new SqlRunner(TABLES, null, null, true)) {
      var e = assertThrows(SqlRunner.SqlError.class, () -> sql.run(bad, Files.readString(bad), r -> {}));
      assertTrue(e.getMessage().startsWith(bad + ": ") && e.getMessage().contains("Encountered \"<EOF>\" at line 1, column 38"),
          e.getMessage());
    }
  }

  @Test
  void statementsSplitOutsideQuotesAndComments() {
    assertEquals(List.of("SELECT ';' AS `a;b`", "SELECT 2"),
        SqlScript.statements("-- a comment; not a statement\nSELECT ';' AS `a;b`;\n\nSELECT 2 -- trailing;\n;"));
  }

  /** Field by field: names, types, logical types and union branches (names of records aside). */
  private static void compare(String path, Schema ours, Schema derived, List<String> diff) {
    if (ours.getType() != derived.getType()) {
      diff.add(path + ": " + ours.getType() + " vs derived " + derived.getType());
      return;
    }
    LogicalType a = ours.getLogicalType();
    LogicalType b = derived.getLogicalType();
    if (!String.valueOf(a == null ? null : a.getName()).equals(String.valueOf(b == null ? null : b.getName()))) {
      diff.add(path + ": logical type " + a + " vs derived " + b);
    }
    switch (ours.getType()) {
      case RECORD -> {
        if (ours.getFields().size() != derived.getFields().size()) {
          diff.add(path + ": " + ours.getFields().size() + " fields vs derived " + derived.getFields().size());
          return;
        }
        for (int i = 0; i < ours.getFields().size(); i++) {
          Schema.Field f = ours.getFields().get(i);
          Schema.Field g = derived.getFields().get(i);
          if (!f.name().equals(g.name())) {
            diff.add(path + "[" + i + "]: " + f.name() + " vs derived " + g.name());
          }
          compare(path + "." + f.name(), f.schema(), g.schema(), diff);
        }
      }
      case UNION -> {
        if (ours.getTypes().size() != derived.getTypes().size()) {
          diff.add(path + ": union of " + ours.getTypes().size() + " vs derived " + derived.getTypes().size());
          return;
        }
        for (int i = 0; i < ours.getTypes().size(); i++) {
          compare(path + "|" + i, ours.getTypes().get(i), derived.getTypes().get(i), diff);
        }
      }
      case ARRAY -> compare(path + "[]", ours.getElementType(), derived.getElementType(), diff);
      default -> { }
    }
  }
}
