-- How far the ETA stream's predicted finish times were from the real ones, by why the estimate was published:
-- accepted (the ETA at admission, one per request), predicted (after its first prediction), refresh (later ones).
-- Errors in seconds (actual - predicted: positive = finished later than predicted).
CREATE TEMPORARY VIEW eta_errors AS
SELECT
  e.cause,
  e.request_id,
  ((EXTRACT(EPOCH FROM r.finished_at) - EXTRACT(EPOCH FROM e.predicted_finish_at)) * 1000
    + EXTRACT(MILLISECOND FROM r.finished_at) - EXTRACT(MILLISECOND FROM e.predicted_finish_at)) / 1000.0 AS error_s,
  ((EXTRACT(EPOCH FROM r.finished_at) - EXTRACT(EPOCH FROM e.emitted_at)) * 1000
    + EXTRACT(MILLISECOND FROM r.finished_at) - EXTRACT(MILLISECOND FROM e.emitted_at)) / 1000.0 AS remaining_s
FROM etas AS e
JOIN responses AS r
  ON e.request_id = r.request_id AND e.submitted_at = r.submitted_at -- an id reused later is another request
  AND r.finished_at BETWEEN e.emitted_at - INTERVAL '1' MINUTE AND e.emitted_at + INTERVAL '1' HOUR -- bounded state
WHERE e.predicted_finish_at IS NOT NULL AND r.finish_reason IN ('stop', 'length');

SELECT
  cause,
  COUNT(*) AS estimates,
  COUNT(DISTINCT request_id) AS requests,
  AVG(ABS(error_s)) AS mae_s,
  AVG(error_s) AS bias_s,
  AVG(remaining_s) AS mean_time_left_s
FROM eta_errors
GROUP BY cause;
