-- trail.dead-letters: refused requests and unwritable records, with their reasons (io.trailflink.schema.DeadLetter, v2).
CREATE TABLE IF NOT EXISTS dead_letters (
  `raw` BYTES NOT NULL,
  request_id STRING,
  source_topic STRING NOT NULL,
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  reason STRING NOT NULL,
  refused_at TIMESTAMP(3) NOT NULL,
  raw_size INT NOT NULL,
  raw_sha256 STRING NOT NULL,
  raw_truncated BOOLEAN NOT NULL,
  reason_kind STRING NOT NULL,
  WATERMARK FOR refused_at AS refused_at - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'trail.dead-letters',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'avro'
);
