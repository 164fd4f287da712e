package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.job.BadRecords;
import io.trailflink.job.EmbeddedServing;
import io.trailflink.job.JobFailures;
import io.trailflink.job.RequestProducer;
import io.trailflink.job.ResponseCollector;
import io.trailflink.job.ServingOptions;
import io.trailflink.job.WorkDir;
import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.InferenceRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trail fuzz}: the serving job on the embedded default, fed malformed and invalid records of every kind
 * ({@link BadRecords}) interleaved with valid requests. Reports, per kind, how many were dead-lettered (matched by
 * their offset on the requests topic) and with which reasons, the job's restarts (its exception history), and
 * whether every valid request was answered exactly once. Exit 0 only when all of that holds.
 */
@Command(name = "fuzz", description = "Send malformed records with valid requests through the job; report dead letters, restarts and answers.")
final class FuzzCommand implements Callable<Integer> {
  @Mixin ServingOptions serving;

  @Option(names = "--records", defaultValue = "10000", description = "Bad records to send (default: ${DEFAULT-VALUE}).") int records;
  @Option(names = "--valid-every", defaultValue = "50", description = "A valid request after every N bad records (default: ${DEFAULT-VALUE}).") int validEvery;
  @Option(names = "--seed", defaultValue = "1") long seed;
  @Option(names = "--timeout-s", defaultValue = "900", description = "Give up waiting after this long (default: ${DEFAULT-VALUE}).") long timeoutS;
  @Option(names = "--json", description = "Print the report as one JSON object on the last line.") boolean json;

  @Override
  public Integer call() throws Exception {
    if (records < 1 || validEvery < 1) {
      throw new TrailCli.UsageException("--records and --valid-every must be >= 1");
    }
    Path model = serving.modelDir != null ? Path.of(serving.modelDir) : TrailCli.defaultModel();
    serving.check(model);
    int webUi;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      webUi = s.getLocalPort(); // the exception history is read over REST
    }
    BadRecords gen = new BadRecords(seed);
    Map<Long, BadRecords.Kind> kindAt = new HashMap<>(); // requests-topic offset -> what was wrong with it
    Map<BadRecords.Kind, Integer> sent = new EnumMap<>(BadRecords.Kind.class);
    Set<String> validIds = new HashSet<>();
    Set<String> unknownCancelIds = new HashSet<>();
    WorkDir work = WorkDir.create("trail-fuzz-");
    System.err.println("fuzz: starting Kafka (KRaft) and the Flink MiniCluster ... (work dir " + work.path() + ")");
    try (work; EmbeddedServing s = EmbeddedServing.start(serving, model, work.path(), webUi);
        ResponseCollector collector = new ResponseCollector(s.bootstrapServers(), serving.topics());
        RequestProducer producer = new RequestProducer(s.bootstrapServers(), serving.topics())) {
      List<Future<RecordMetadata>> pending = new ArrayList<>();
      List<BadRecords.Kind> pendingKinds = new ArrayList<>();
      long started = System.currentTimeMillis();
      for (int i = 0; i < records; i++) {
        BadRecords.Bad b = gen.next();
        if (b.kind() == BadRecords.Kind.DUPLICATE_ID_IN_FLIGHT) {
          producer.sendRaw(b.key(), b.value()); // the original: valid, served
          validIds.add(b.key());
        }
        if (b.kind() == BadRecords.Kind.CANCEL_UNKNOWN_ID) {
          unknownCancelIds.add(b.key());
        }
        pending.add(producer.sendRaw(b.key(), b.value()));
        pendingKinds.add(b.kind());
        sent.merge(b.kind(), 1, Integer::sum);
        if ((i + 1) % validEvery == 0) {
          InferenceRequest v = BadRecords.valid("fuzz-valid-" + i, "Name " + (2 + i % 5) + " colours.", 8);
          producer.send(v);
          validIds.add(v.getId());
        }
      }
      producer.flush();
      for (int i = 0; i < pending.size(); i++) {
        kindAt.put(pending.get(i).get().offset(), pendingKinds.get(i));
      }
      int expectedDead = (int) sent.entrySet().stream().filter(e -> e.getKey().expectsDeadLetter())
          .mapToLong(Map.Entry::getValue).sum();
      long deadline = started + timeoutS * 1000;
      long lastLine = 0;
      ProgressLine line = new ProgressLine();
      while ((collector.deadLetters().size() < expectedDead || !answered(collector, validIds))
          && System.currentTimeMillis() < deadline) {
        long now = System.currentTimeMillis();
        if (now - lastLine >= 1000) {
          line.show(fuzzProgress(collector, expectedDead, validIds, now - started));
          lastLine = now;
        }
        Thread.sleep(200);
      }
      Thread.sleep(2_000); // late duplicates would show by now
      line.done(fuzzProgress(collector, expectedDead, validIds, System.currentTimeMillis() - started));
      int restarts = JobFailures.count("http://127.0.0.1:" + webUi, s.job().getJobID());
      return report(collector, kindAt, sent, validIds, unknownCancelIds, restarts,
          System.currentTimeMillis() - started);
    }
  }

  private static String fuzzProgress(ResponseCollector c, int expectedDead, Set<String> validIds, long elapsedMs) {
    return String.format(java.util.Locale.ROOT, "dead letters %d/%d, valid answered %d/%d, %.0f s",
        c.deadLetters().size(), expectedDead, validIds.stream().filter(id -> c.finals().containsKey(id)).count(),
        validIds.size(), elapsedMs / 1000.0);
  }

  private static boolean answered(ResponseCollector c, Set<String> ids) {
    Map<String, List<FinalResponse>> finals = c.finals();
    return ids.stream().allMatch(finals::containsKey);
  }

  private int report(ResponseCollector c, Map<Long, BadRecords.Kind> kindAt, Map<BadRecords.Kind, Integer> sent,
      Set<String> validIds, Set<String> unknownCancelIds, int restarts, long wallMs) {
    Map<BadRecords.Kind, Integer> dead = new EnumMap<>(BadRecords.Kind.class);
    Map<BadRecords.Kind, Map<String, Integer>> reasons = new EnumMap<>(BadRecords.Kind.class);
    int withoutReason = 0;
    for (DeadLetter d : c.deadLetters()) {
      BadRecords.Kind k = kindAt.get(d.getSourceOffset());
      if (k == null) {
        continue; // a valid request's dead letter: counted below as unanswered
      }
      dead.merge(k, 1, Integer::sum);
      if (d.getReason() == null || d.getReason().isBlank()) {
        withoutReason++;
      }
      reasons.computeIfAbsent(k, x -> new TreeMap<>()).merge(reasonShape(d.getReason()), 1, Integer::sum);
    }
    Map<String, List<FinalResponse>> finals = c.finals();
    long validAnswered = validIds.stream().filter(finals::containsKey).count();
    long duplicated = validIds.stream().filter(id -> finals.getOrDefault(id, List.of()).size() > 1).count();
    long cancelAnswered = unknownCancelIds.stream().filter(finals::containsKey).count();
    int badSent = sent.values().stream().mapToInt(Integer::intValue).sum();
    int expectedDead = sent.entrySet().stream().filter(e -> e.getKey().expectsDeadLetter())
        .mapToInt(Map.Entry::getValue).sum();
    int deadTotal = dead.values().stream().mapToInt(Integer::intValue).sum();

    System.out.printf("%-26s %6s %6s  %s%n", "kind", "sent", "dead", "reasons (shape: count)");
    JsonObject kinds = new JsonObject();
    for (BadRecords.Kind k : BadRecords.Kind.values()) {
      int n = sent.getOrDefault(k, 0);
      int d = dead.getOrDefault(k, 0);
      System.out.printf("%-26s %6d %6d  %s%n", k.name().toLowerCase(Locale.ROOT), n, d,
          reasons.getOrDefault(k, Map.of()));
      JsonObject o = new JsonObject();
      o.addProperty("sent", n);
      o.addProperty("dead_lettered", d);
      kinds.add(k.name().toLowerCase(Locale.ROOT), o);
    }
    System.out.printf(Locale.ROOT, "bad records: %d sent, %d of the %d that must be dead-lettered were (%.2f %%), %d "
        + "without a reason; cancels for unknown ids answered: %d%n", badSent, deadTotal, expectedDead,
        100.0 * deadTotal / Math.max(1, expectedDead), withoutReason, cancelAnswered);
    System.out.printf("valid requests: %d of %d answered, %d answered more than once; job restarts: %d; %.0f s%n",
        validAnswered, validIds.size(), duplicated, restarts, wallMs / 1000.0);
    if (json) {
      JsonObject o = new JsonObject();
      o.add("kinds", kinds);
      o.addProperty("bad_sent", badSent);
      o.addProperty("must_be_dead_lettered", expectedDead);
      o.addProperty("dead_lettered", deadTotal);
      o.addProperty("dead_letters_without_reason", withoutReason);
      o.addProperty("unknown_cancels_answered", cancelAnswered);
      o.addProperty("valid_sent", validIds.size());
      o.addProperty("valid_answered", validAnswered);
      o.addProperty("valid_answered_twice", duplicated);
      o.addProperty("job_restarts", restarts);
      o.addProperty("wall_s", wallMs / 1000.0);
      System.out.println(o);
    }
    boolean ok = deadTotal == expectedDead && withoutReason == 0 && cancelAnswered == 0
        && validAnswered == validIds.size() && duplicated == 0 && restarts == 0;
    return ok ? 0 : 1;
  }

  /** A reason with its numbers and quoted values blanked, so that reasons group by what they say. */
  static String reasonShape(String reason) {
    String r = reason == null ? "" : reason.replaceAll("'[^']*'", "'…'").replaceAll("(?<![A-Za-z-])-?\\d+(\\.\\d+)?", "N");
    return r.length() > 70 ? r.substring(0, 70) + "…" : r;
  }
}
