package io.trailflink.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.job.RequestJson;
import io.trailflink.job.RequestProducer;
import io.trailflink.job.Topics;
import io.trailflink.schema.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail produce}: sends requests to the requests topic, from a JSONL file ({@code {"prompt": … | "messages":
 * [{"role", "content"}, …], "max_new_tokens"?, "id"?, "tenant"?, "temperature"?, "top_p"?, "seed"?}} per line,
 * see {@link RequestJson}) or one {@code --prompt}.
 */
@Command(name = "produce", description = "Send inference requests to the requests topic.")
final class ProduceCommand implements Callable<Integer> {
  private final ProgressLine line = new ProgressLine();

  @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092") String bootstrapServers;
  @Option(names = "--topic-prefix", defaultValue = "trail.") String topicPrefix;
  @Option(names = "--file", description = "JSONL of requests.") Path file;
  @Option(names = "--prompt", description = "One prompt (instead of --file).") String prompt;
  @Option(names = "--cancel", description = "Cancel the request with this id (repeat for several; instead of --file/--prompt).") List<String> cancel = new ArrayList<>();
  @Option(names = "--max-new-tokens", defaultValue = "256", description = "Default max_new_tokens (default: ${DEFAULT-VALUE}).") int maxNewTokens;
  @Option(names = "--rate", defaultValue = "0", description = "Requests per second; 0 sends all at once.") double rate;
  @Option(names = "--id-prefix", defaultValue = "req-", description = "Prefix of generated request ids.") String idPrefix;

  @Override
  public Integer call() throws Exception {
    if ((file != null ? 1 : 0) + (prompt != null ? 1 : 0) + (cancel.isEmpty() ? 0 : 1) != 1) {
      throw new TrailCli.UsageException("give exactly one of --file, --prompt and --cancel");
    }
    List<InferenceRequest> requests = new ArrayList<>();
    String runId = Long.toString(System.currentTimeMillis(), 36);
    if (!cancel.isEmpty()) {
      for (String id : cancel) {
        requests.add(InferenceRequest.newBuilder().setId(id).setMaxNewTokens(0).setSubmittedAtMs(0).setCancel(true)
            .build());
      }
    } else if (prompt != null) {
      JsonObject one = new JsonObject();
      one.addProperty("prompt", prompt);
      requests.add(RequestJson.parse(one, idPrefix + runId + "-0", maxNewTokens, "cli"));
    } else {
      if (!Files.isRegularFile(file)) {
        throw new TrailCli.UsageException("--file " + file + " does not exist");
      }
      int line = 0;
      for (String s : Files.readAllLines(file)) {
        line++;
        if (s.isBlank()) {
          continue;
        }
        try {
          JsonObject o = JsonParser.parseString(s).getAsJsonObject();
          requests.add(RequestJson.parse(o, idPrefix + runId + "-" + line, maxNewTokens, "cli"));
        } catch (RuntimeException e) {
          throw new TrailCli.UsageException("--file " + file + " line " + line + ": " + e.getMessage());
        }
      }
    }
    long start = System.nanoTime();
    List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
    try (RequestProducer producer = new RequestProducer(bootstrapServers, new Topics(topicPrefix))) {
      for (int i = 0; i < requests.size(); i++) {
        if (rate > 0) {
          long due = start + (long) (i / rate * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
        InferenceRequest r = InferenceRequest.newBuilder(requests.get(i)).setSubmittedAtMs(System.currentTimeMillis())
            .build();
        sent.add(producer.send(r));
        if ((i + 1) % 10 == 0 || i + 1 == requests.size()) {
          producer.flush();
          for (int k = 0; k < sent.size(); k++) {
            try {
              sent.get(k).get();
            } catch (java.util.concurrent.ExecutionException e) {
              throw new TrailCli.UsageException("request " + requests.get(i + 1 - sent.size() + k).getId()
                  + " not sent to " + bootstrapServers + ": " + e.getCause().getMessage());
            }
          }
          sent.clear();
          line.show("sent " + (i + 1) + "/" + requests.size());
        }
      }
    }
    line.end();
    requests.forEach(r -> System.out.println(r.getId()));
    return 0;
  }
}
