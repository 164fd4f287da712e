-- Queue length, batch and KV use per engine over 10-second event-time windows of the engine-status stream.
SELECT
  window_start,
  engine,
  COUNT(*) AS commands,
  AVG(CAST(waiting AS DOUBLE)) AS mean_waiting,
  MAX(waiting) AS max_waiting,
  AVG(CAST(`running` AS DOUBLE)) AS mean_running,
  AVG(100.0 * kv_blocks_used / kv_blocks_capacity) AS mean_kv_used_pct,
  MAX(kv_blocks_used) AS peak_kv_blocks,
  SUM(new_tokens) / 10.0 AS tokens_per_s
FROM TABLE(TUMBLE(TABLE engine_status, DESCRIPTOR(`at`), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, engine;
