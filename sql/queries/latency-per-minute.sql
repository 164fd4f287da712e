-- Latency and TTFT per minute, per policy and tenant: event-time tumbling windows over the final responses
-- (served requests only: stop or length), closed by the watermark on finished_at.
SELECT
  window_start,
  policy,
  tenant,
  COUNT(*) AS requests,
  AVG(CAST(latency_ms AS DOUBLE)) AS mean_latency_ms,
  PERCENTILE(latency_ms, 0.5) AS p50_latency_ms,
  PERCENTILE(latency_ms, 0.99) AS p99_latency_ms,
  AVG(CAST(ttft_ms AS DOUBLE)) AS mean_ttft_ms,
  PERCENTILE(ttft_ms, 0.5) AS p50_ttft_ms,
  PERCENTILE(ttft_ms, 0.99) AS p99_ttft_ms,
  SUM(output_tokens) AS output_tokens
FROM TABLE(TUMBLE(TABLE responses, DESCRIPTOR(finished_at), INTERVAL '1' MINUTE))
WHERE finish_reason IN ('stop', 'length')
GROUP BY window_start, window_end, policy, tenant;
