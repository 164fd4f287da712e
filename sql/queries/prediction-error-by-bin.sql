-- The predictor's initial prediction against the length each request really had, by TRAIL's length bin of that
-- length (10 bins over 0..512 tokens, the last open-ended): mean absolute error and bias (prediction - truth).
SELECT
  LEAST(CAST(FLOOR(output_tokens / 51.2) AS INT), 9) AS length_bin,
  COUNT(*) AS requests,
  AVG(CAST(output_tokens AS DOUBLE)) AS mean_output_tokens,
  AVG(ABS(initial_prediction - output_tokens)) AS mae_tokens,
  AVG(initial_prediction - output_tokens) AS bias_tokens
FROM responses
WHERE initial_prediction IS NOT NULL AND finish_reason IN ('stop', 'length')
GROUP BY LEAST(CAST(FLOOR(output_tokens / 51.2) AS INT), 9);
