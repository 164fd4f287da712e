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
  @Option(names = "--dir", description = "Broker data directory (default: a temporary one).") Path dir;

  @Override
  public Integer call() throws Exception {
    Path d = dir != null ? dir : Files.createTempDirectory("trail-kafka");
    EmbeddedKafka kafka = EmbeddedKafka.start(d);
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
