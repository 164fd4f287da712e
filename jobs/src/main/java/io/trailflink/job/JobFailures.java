package io.trailflink.job;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.flink.api.common.JobID;

/**
 * How many times a running job has failed (each failure restarts it), read from the JobManager's REST API: the
 * entries of its exception history. Fault drills and the regression tests use it to tell "no restart" from
 * "recovered".
 */
public final class JobFailures {
  private JobFailures() {}

  /** @param restUrl the JobManager's REST address, e.g. {@code http://127.0.0.1:8081} */
  public static int count(String restUrl, JobID job) throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + job + "/exceptions?maxExceptions=1000"))
            .timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET " + restUrl + "/jobs/" + job + "/exceptions: HTTP " + r.statusCode());
    }
    JsonObject history = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("exceptionHistory");
    return history == null ? 0 : history.getAsJsonArray("entries").size();
  }
}
