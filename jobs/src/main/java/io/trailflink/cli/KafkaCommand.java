package io.trailflink.cli;

import io.trailflink.embedded.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code trail kafka}: a real single-node Kafka broker (KRaft, from the Maven jars) for serve/produce/consume. */
@Command(name = "kafka", description = "Run a local single-node Kafka broker (KRaft) until interrupted.")
final class KafkaCommand implements Callable<Integer> {
  @Option(names = {"--data-dir", "--dir"}, description = "Broker data directory; a broker stopped on it starts again with its data, cluster id and ports (default: a temporary one).") Path dir;

  @Option(names = "--port", defaultValue = "9092", description = "Client port (default: ${DEFAULT-VALUE}, as `serve --bootstrap-servers localhost:9092` expects; 0 = the data directory's, else a free one).") int port;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new TrailCli.UsageException("--port must be in [0, 65535], got " + port);
    }
    Path d = dir != null ? dir : Files.createTempDirectory("trail-kafka");
    EmbeddedKafka kafka = EmbeddedKafka.start(d, port);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      kafka.close();
      stop.countDown();
    }));
    System.out.println("Kafka broker at " + kafka.bootstrapServers() + " (data in " + d + "); Ctrl-C stops it");
    stop.await();
    return 0;
  }
}
