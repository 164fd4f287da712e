package io.trailflink.job;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Savepoints of the running serving job through the JobManager's REST API (the embedded runner's web UI, or a
 * cluster's): take one while the job runs, or stop the job with one — the first half of an upgrade, whose second
 * half is {@code serve --from-savepoint} (or {@code flink run -s}).
 */
public final class Savepoints {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private final String rest;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  /** @param restUrl the JobManager's REST address, e.g. {@code http://localhost:8081} */
  public Savepoints(String restUrl) {
    this.rest = restUrl.endsWith("/") ? restUrl.substring(0, restUrl.length() - 1) : restUrl;
  }

  /** The id of the one running job; a one-line error when there is none or several. */
  public String runningJob() throws IOException, InterruptedException {
    List<String> running = new ArrayList<>();
    for (JsonElement j : get("/jobs").getAsJsonArray("jobs")) {
      if ("RUNNING".equals(j.getAsJsonObject().get("status").getAsString())) {
        running.add(j.getAsJsonObject().get("id").getAsString());
      }
    }
    if (running.size() != 1) {
      throw new IllegalArgumentException(rest + " runs " + (running.isEmpty() ? "no job" : running.size()
          + " jobs " + running + ": name one with --job"));
    }
    return running.get(0);
  }

  /**
   * Takes a savepoint of {@code job} into {@code directory} (a URI or path every TaskManager can write), stopping the
   * job with it when {@code stop}; waits until it completes and returns its path. {@code progress} hears about the
   * wait every few seconds.
   */
  public String take(String job, String directory, boolean stop, Duration timeout, Consumer<String> progress)
      throws IOException, InterruptedException {
    JsonObject body = new JsonObject(); // the two endpoints spell the target differently
    body.addProperty("formatType", "CANONICAL");
    if (stop) {
      body.addProperty("targetDirectory", directory);
      body.addProperty("drain", false);
    } else {
      body.addProperty("target-directory", directory);
      body.addProperty("cancel-job", false);
    }
    String trigger = post("/jobs/" + job + (stop ? "/stop" : "/savepoints"), body).get("request-id").getAsString();
    long deadline = System.nanoTime() + timeout.toNanos();
    long started = System.nanoTime();
    while (System.nanoTime() < deadline) {
      JsonObject s = get("/jobs/" + job + "/savepoints/" + trigger);
      if ("COMPLETED".equals(s.getAsJsonObject("status").get("id").getAsString())) {
        JsonObject op = s.getAsJsonObject("operation");
        if (op.has("failure-cause")) {
          JsonObject cause = op.getAsJsonObject("failure-cause");
          throw new IOException("savepoint of " + job + " failed: " + (cause.has("class") ? cause.get("class")
              .getAsString() + ": " : "") + (cause.has("stack-trace") ? firstLine(cause.get("stack-trace")
              .getAsString()) : cause.toString()));
        }
        return op.get("location").getAsString();
      }
      progress.accept(String.format("savepoint of %s in progress (%.0f s)", job, (System.nanoTime() - started) / 1e9));
      Thread.sleep(1_000);
    }
    throw new IOException("savepoint of " + job + " not complete after " + timeout.toSeconds() + " s");
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private JsonObject get(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(rest + path)).timeout(TIMEOUT).GET().build(), "GET " + path);
  }

  private JsonObject post(String path, JsonObject body) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(rest + path)).timeout(TIMEOUT)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
        .build(), "POST " + path);
  }

  private JsonObject send(HttpRequest request, String what) throws IOException, InterruptedException {
    HttpResponse<String> r;
    try {
      r = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new IllegalArgumentException("no Flink REST API at " + rest + " (is the job running? --web-ui names it)");
    }
    if (r.statusCode() / 100 != 2) {
      JsonElement errors = r.body().isEmpty() ? null : JsonParser.parseString(r.body()).getAsJsonObject().get("errors");
      throw new IOException(what + " at " + rest + ": HTTP " + r.statusCode()
          + (errors instanceof JsonArray a && !a.isEmpty() ? ": " + firstLine(a.get(0).getAsString()) : ""));
    }
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }
}
