package io.trailflink.embedded;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node Kafka broker in KRaft mode (broker and controller in one process), started from the Kafka
 * jars on this JVM's classpath as a child JVM: no Docker, no download. The child keeps the broker's Scala and
 * server dependencies out of the Flink job's JVM. Logs go to {@code <dir>/broker.log}. A broker can be stopped and
 * started again on the same directory: its ports ({@code <dir>/ports.properties}) and cluster id (from the formatted
 * storage) are reused, so clients and the data carry over.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private final Process process;
  private final String bootstrapServers;
  private final Path dir;

  private EmbeddedKafka(Process process, String bootstrapServers, Path dir) {
    this.process = process;
    this.bootstrapServers = bootstrapServers;
    this.dir = dir;
  }

  /** Formats storage under {@code dir}, starts the broker and waits until it answers (at most 90 s). */
  public static EmbeddedKafka start(Path dir) throws IOException, InterruptedException {
    return start(dir, 0);
  }

  /**
   * As {@link #start(Path)}, the broker listening on {@code port} (0: the port this directory had, else a free one).
   * On a directory that already holds a broker's data it restarts that broker: same cluster id, same ports.
   */
  public static EmbeddedKafka start(Path dir, int port) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Properties ports = new Properties();
    Path portsFile = dir.resolve("ports.properties");
    if (Files.isRegularFile(portsFile)) {
      try (var in = Files.newInputStream(portsFile)) {
        ports.load(in);
      }
    }
    int brokerPort = port > 0 ? port : Integer.parseInt(ports.getProperty("broker", Integer.toString(freePort())));
    int controllerPort = Integer.parseInt(ports.getProperty("controller", Integer.toString(freePort())));
    ports.setProperty("broker", Integer.toString(brokerPort));
    ports.setProperty("controller", Integer.toString(controllerPort));
    try (var out = Files.newOutputStream(portsFile)) {
      ports.store(out, "ports of the embedded broker in this directory");
    }
    Path props = dir.resolve("server.properties");
    Files.writeString(props, String.join("\n",
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
        "listeners=PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
        "advertised.listeners=PLAINTEXT://127.0.0.1:" + brokerPort,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs=" + dir.resolve("data").toAbsolutePath(),
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=4",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "transaction.state.log.num.partitions=4",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "") );
    String cp = System.getProperty("java.class.path");
    Path log = dir.resolve("broker.log");
    String uuid = existingClusterId(dir.resolve("data")); // a restart keeps its cluster id (formatting checks it)
    if (uuid == null) {
      uuid = Uuid.randomUuid().toString();
    }
    Process format = java(cp, "kafka.tools.StorageTool", List.of("format", "-t", uuid, "-c", props.toString(),
        "--ignore-formatted"), log).start();
    if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
      format.destroyForcibly();
      throw new IOException("Kafka storage format failed; see " + log);
    }
    // the broker halts by itself when this JVM is gone, even after kill -9
    Process broker = java(cp, ParentWatchingMain.class.getName(), List.of("kafka.Kafka", props.toString()), log).start();
    EmbeddedKafka kafka = new EmbeddedKafka(broker, "127.0.0.1:" + brokerPort, dir);
    Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "embedded-kafka-stop"));
    kafka.awaitReady(Duration.ofSeconds(90));
    return kafka;
  }

  private static ProcessBuilder java(String cp, String main, List<String> args, Path log) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp,
        "-Dlog4j2.configurationFile=" + "classpath:log4j2-kafka-broker.xml", main));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
  }

  private void awaitReady(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("Kafka broker exited with code " + process.exitValue() + "; see " + dir.resolve("broker.log"));
      }
      try (Admin admin = admin()) {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(300);
      }
    }
    close();
    throw new IOException("Kafka broker did not answer within " + timeout.toSeconds() + " s (" + last + "); see "
        + dir.resolve("broker.log"));
  }

  public Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    return Admin.create(p);
  }

  /** Creates topics with the given partition counts (replication 1). */
  public void createTopics(Map<String, Integer> partitions) throws Exception {
    try (Admin admin = admin()) {
      List<NewTopic> topics = new ArrayList<>();
      partitions.forEach((t, n) -> topics.add(new NewTopic(t, n, (short) 1)));
      admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
    }
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The cluster id of storage formatted earlier under {@code logDir}, or null. */
  private static String existingClusterId(Path logDir) throws IOException {
    Path meta = logDir.resolve("meta.properties");
    if (!Files.isRegularFile(meta)) {
      return null;
    }
    Properties p = new Properties();
    try (var in = Files.newInputStream(meta)) {
      p.load(in);
    }
    return p.getProperty("cluster.id");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
