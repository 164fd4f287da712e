-- trail.engine-status: each engine's queue, batch and KV after each command (io.trailflink.schema.EngineStatus, v2).
CREATE TABLE IF NOT EXISTS engine_status (
  engine STRING NOT NULL,
  policy STRING NOT NULL,
  `at` TIMESTAMP(3) NOT NULL,
  step_seq BIGINT NOT NULL,
  `running` INT NOT NULL,
  waiting INT NOT NULL,
  preempted INT NOT NULL,
  kv_blocks_used INT NOT NULL,
  kv_blocks_capacity INT NOT NULL,
  new_tokens INT NOT NULL,
  busy_ms DOUBLE NOT NULL,
  step_ms DOUBLE,
  predicted_work_tokens DOUBLE NOT NULL,
  placements_seen BIGINT NOT NULL,
  ended ARRAY<STRING NOT NULL> NOT NULL,
  WATERMARK FOR `at` AS `at` - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'trail.engine-status',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'avro'
);
