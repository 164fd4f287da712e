package io.trailflink.job;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestOptions;

/**
 * The task slots a Flink cluster offers, asked of its JobManager's REST API before submission, so that
 * {@code --engines} above them is one line at once instead of a job waiting for slots that never come.
 */
final class ClusterSlots {
  private ClusterSlots() {}

  /** Total slots of the cluster the client is configured for, or -1 when its REST API does not answer. */
  static int total(ReadableConfig conf) {
    String host = conf.get(RestOptions.ADDRESS);
    if (host == null) {
      return -1;
    }
    URI uri = URI.create("http://" + host + ":" + conf.get(RestOptions.PORT) + "/overview");
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return -1;
      }
      return JsonParser.parseString(r.body()).getAsJsonObject().get("slots-total").getAsInt();
    } catch (IOException | RuntimeException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /**
   * Throws a one-line error when the cluster answers with fewer slots than {@code engines}. Only for a client
   * submitting to a running session cluster ({@code flink run}, target {@code remote}): in application mode, or
   * when the JobManager runs the jar itself, TaskManagers may still be registering, and no answer is final.
   */
  static void check(ReadableConfig conf, int engines) {
    if (!"remote".equals(conf.get(DeploymentOptions.TARGET))) {
      return;
    }
    int slots = total(conf);
    if (slots > 0 && engines > slots) { // 0: no TaskManager has registered yet
      throw new IllegalArgumentException("--engines " + engines + " is more than the " + slots + " task slots the "
          + "cluster offers (each engine needs one; start more TaskManagers or lower --engines)");
    }
  }
}
