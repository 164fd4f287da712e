-- trail.responses: exactly one final response per accepted request (io.trailflink.schema.FinalResponse, release v2).
-- Columns in the Avro schema's order and nullability: Flink's avro format derives the writer schema from them.
CREATE TABLE IF NOT EXISTS responses (
  request_id STRING NOT NULL,
  tenant STRING NOT NULL,
  `text` STRING NOT NULL,
  prompt_tokens INT NOT NULL,
  output_tokens INT NOT NULL,
  submitted_at TIMESTAMP(3) NOT NULL,
  first_token_at TIMESTAMP(3) NOT NULL,
  finished_at TIMESTAMP(3) NOT NULL,
  ttft_ms BIGINT NOT NULL,
  latency_ms BIGINT NOT NULL,
  queueing_ms BIGINT NOT NULL,
  preemptions INT NOT NULL,
  evictions INT NOT NULL,
  finish_reason STRING NOT NULL, -- stop, length, error, cancelled, rejected
  error STRING,
  engine STRING NOT NULL,
  policy STRING NOT NULL,
  initial_prediction DOUBLE, -- tokens; null when none was made
  WATERMARK FOR finished_at AS finished_at - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'trail.responses',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'avro'
);
