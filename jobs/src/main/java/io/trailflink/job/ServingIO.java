package io.trailflink.job;

import io.trailflink.serving.RawRecord;
import io.trailflink.serving.records.KafkaBytes;
import java.io.Serializable;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;

/**
 * Where the serving job takes its requests and puts its answers — the job's edges, handed to
 * {@link TrailServingJob#build} so that one topology serves every use: {@link KafkaServingIO} for serving (the
 * requests, responses and dead-letters topics), other sources and sinks in tests. The feedback loop is not an
 * edge: it always runs through the predictions topic.
 *
 * <p>Requests arrive as raw bytes (an Avro {@code InferenceRequest} each, validated inside the job); responses
 * and dead letters leave encoded and sized ({@link KafkaBytes}: key, Avro value), ready for any byte sink.
 */
public interface ServingIO extends Serializable {
  /** The requests, one raw record each. */
  Source<RawRecord, ?, ?> requests();

  /** Exactly one final response per accepted request. */
  Sink<KafkaBytes> responses();

  /** Streamed chunks of the requests' tokens. */
  Sink<KafkaBytes> chunks();

  /** The ETA stream: predicted finish times of live requests. */
  Sink<KafkaBytes> etas();

  /** Each engine's load after each command. */
  Sink<KafkaBytes> engineStatus();

  /** Refused requests and undeliverable responses, with their reasons. */
  Sink<KafkaBytes> deadLetters();
}
