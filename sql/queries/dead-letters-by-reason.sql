-- Dead letters by the kind of their reason (the words before the reason's first colon).
SELECT reason_kind, COUNT(*) AS dead_letters, MIN(refused_at) AS first_at, MAX(refused_at) AS last_at
FROM dead_letters
GROUP BY reason_kind;
