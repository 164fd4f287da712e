package io.trailflink.job;

import io.trailflink.schema.EngineStatus;
import io.trailflink.serving.OverloadGate;
import io.trailflink.serving.ValidatedRequest;
import io.trailflink.serving.records.BoundedAvroReader;
import io.trailflink.serving.records.MalformedRecordException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --overload backpressure}: holds validated requests while the engines are full ({@link OverloadGate}) and lets
 * them through oldest first as room frees. The ordered async operator around it holds at most {@link #CAPACITY} and
 * emits in arrival order; beyond that it stops taking input, so the requests source stops reading (Flink's
 * backpressure) and the backlog stays in the requests topic — not in the job's memory or checkpoints (the held
 * requests are in the operator's checkpoint and resubmitted in order on restore). A cancel needs no room, and comes
 * out behind the requests that arrived before it — behind its own request, too, if that is held.
 *
 * <p>The engines' load comes from the engine-status topic through a consumer of its own (retried while the task
 * runs): a load report decides only when a request goes in, so nothing in a checkpoint depends on it. Without
 * statuses the gate lets another {@code limit} through every {@link OverloadGate#ASSUMED_ARRIVED_MS} ms, and says so
 * in the log.
 */
public final class OverloadGateFunction extends RichAsyncFunction<ValidatedRequest, ValidatedRequest> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(OverloadGateFunction.class);
  /** Requests the gate's operator holds at most (it then stops reading its input). */
  static final int CAPACITY = 64;
  /** Statuses read back at start (per partition): the engines' recent load. */
  private static final int RECENT_STATUSES = 256;

  private final String bootstrapServers;
  private final String statusTopic;
  private final int engines;
  private final int maxRunning;
  private final int maxWaiting;
  private final long startedAtMs;
  private transient OverloadGate gate;
  private transient ArrayDeque<Held> held;
  private transient Thread reader;
  private transient volatile boolean running;
  private transient volatile KafkaConsumer<byte[], byte[]> consumer;
  private transient java.util.concurrent.ScheduledExecutorService releases;

  private record Held(ValidatedRequest request, ResultFuture<ValidatedRequest> future) {}

  /**
   * @param startedAtMs when this run of the job started (epoch ms): older statuses are another run's
   */
  public OverloadGateFunction(String bootstrapServers, String statusTopic, int engines, int maxRunning, int maxWaiting,
      long startedAtMs) {
    this.bootstrapServers = bootstrapServers;
    this.statusTopic = statusTopic;
    this.engines = engines;
    this.maxRunning = maxRunning;
    this.maxWaiting = maxWaiting;
    this.startedAtMs = startedAtMs;
  }

  @Override
  public void open(OpenContext ctx) {
    gate = new OverloadGate(engines, maxRunning, maxWaiting, startedAtMs);
    held = new ArrayDeque<>();
    running = true;
    reader = new Thread(this::readStatuses, "overload-gate-statuses");
    reader.setDaemon(true);
    reader.start();
    // room also frees with time (OverloadGate.ASSUMED_ARRIVED_MS): a timer of its own, so that a reader stuck in a
    // metadata wait, or gone, never leaves held requests waiting while no new one arrives
    releases = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "overload-gate-release");
      t.setDaemon(true);
      return t;
    });
    releases.scheduleWithFixedDelay(this::release, 100, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  @Override
  public void asyncInvoke(ValidatedRequest r, ResultFuture<ValidatedRequest> future) {
    if (r.cancel()) {
      future.complete(List.of(r)); // the ordered operator emits it after everything that arrived before it
      return;
    }
    synchronized (this) {
      held.addLast(new Held(r, future));
    }
    release();
  }

  /** Lets held requests through, oldest first, while there is room. */
  private void release() {
    long now = System.currentTimeMillis();
    synchronized (this) {
      while (!held.isEmpty() && gate.hasRoom(now)) {
        gate.letThrough(now);
        Held h = held.pollFirst();
        h.future().complete(List.of(h.request()));
      }
    }
  }

  /** Reads engine statuses into the gate until the task ends; on an error it logs and starts over after a second. */
  private void readStatuses() {
    while (running) {
      try {
        readStatusesOnce();
      } catch (WakeupException closing) {
        return;
      } catch (RuntimeException e) {
        if (!running) {
          return; // closing
        }
        LOG.warn("overload gate: cannot read {} ({}); retrying in 1 s", statusTopic, e.toString());
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  private void readStatusesOnce() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
    BoundedAvroReader<EngineStatus> avro = new BoundedAvroReader<>(EngineStatus.class, Map.of(), Integer.MAX_VALUE);
    long lastReport = System.currentTimeMillis();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      consumer = c;
      if (!running) {
        return;
      }
      List<TopicPartition> partitions = c.partitionsFor(statusTopic, Duration.ofSeconds(30)).stream()
          .map(i -> new TopicPartition(statusTopic, i.partition())).toList();
      c.assign(partitions);
      c.endOffsets(partitions).forEach((tp, end) -> c.seek(tp, Math.max(0, end - RECENT_STATUSES)));
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
          if (AvroBytes.writtenAs(r, EngineStatus.class)) {
            try {
              gate.observe(avro.read(r.value()));
            } catch (MalformedRecordException e) {
              LOG.debug("skipped a record of {}@{}: {}", statusTopic, r.offset(), e.getMessage());
            }
          }
        }
        release();
        long now = System.currentTimeMillis();
        int waiting;
        synchronized (this) {
          waiting = held.size();
        }
        if (waiting > 0 && now - lastReport > (LOG.isDebugEnabled() ? 2_000 : 30_000)) {
          lastReport = now;
          LOG.info("overload gate: {} requests held, engines hold about {} of {} ({} statuses read)", waiting,
              gate.inFlight(now), gate.limit(), gate.statusesApplied());
        }
      }
    } finally {
      consumer = null;
    }
  }

  @Override
  public void close() throws Exception {
    running = false;
    if (releases != null) {
      releases.shutdownNow();
    }
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup(); // out of a poll or a metadata wait at once
    }
    if (reader != null) {
      reader.join(5_000); // no interrupt: it would fail the consumer's own close with an error in the log
    }
  }
}
