-- trail.chunks: the tokens of each request as the engine produces them (io.trailflink.schema.ResponseChunk, v2).
CREATE TABLE IF NOT EXISTS chunks (
  request_id STRING NOT NULL,
  engine STRING NOT NULL,
  step_seq BIGINT NOT NULL,
  token_ids ARRAY<INT NOT NULL> NOT NULL,
  `text` STRING NOT NULL,
  generated INT NOT NULL,
  emitted_at TIMESTAMP(3) NOT NULL,
  WATERMARK FOR emitted_at AS emitted_at - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'trail.chunks',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'avro'
);
