-- trail.etas: predicted finish times of live requests (io.trailflink.schema.EtaUpdate, v1).
CREATE TABLE IF NOT EXISTS etas (
  request_id STRING NOT NULL,
  tenant STRING NOT NULL,
  engine STRING NOT NULL,
  policy STRING NOT NULL,
  cause STRING NOT NULL, -- accepted, predicted, refresh
  state STRING NOT NULL, -- waiting, running, preempted, evicted
  submitted_at TIMESTAMP(3) NOT NULL,
  emitted_at TIMESTAMP(3) NOT NULL,
  generated INT NOT NULL,
  queue_position INT NOT NULL, -- 0 = in the batch
  queued_ahead INT NOT NULL,
  predicted_remaining DOUBLE, -- tokens; null before the first prediction
  predicted_remaining_p90 DOUBLE,
  assumed_remaining DOUBLE NOT NULL,
  step_ms DOUBLE,
  slots INT NOT NULL,
  predicted_finish_at TIMESTAMP(3), -- null before the engine's step time is measured
  WATERMARK FOR emitted_at AS emitted_at - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'trail.etas',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'avro'
);
