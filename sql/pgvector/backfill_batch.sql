-- One backfill batch: fills the prefix of rows still without one, in key order, starting at :'after'.
-- Rows written meanwhile get their prefix from the trigger; an UPDATE that races with this one is
-- re-checked by PostgreSQL, and a row whose prefix is already set is left alone.
-- (ORDER BY ... LIMIT 1 rather than max(): PostgreSQL 15 has no max(uuid).)
WITH batch AS (
    SELECT :"key_column" AS k
    FROM :"schema".:"table"
    WHERE :"key_column" >= :'after' AND (:"key_column" > :'after' OR :'inclusive'::boolean)
    ORDER BY :"key_column"
    LIMIT :batch_size
), filled AS (
    UPDATE :"schema".:"table" AS t
    SET :"prefix_column" = CAST(:normalize_fn(subvector(t.:"vector_column", 1, :prefix_dims)) AS :prefix_type(:prefix_dims))
    FROM batch
    WHERE t.:"key_column" = batch.k AND t.:"prefix_column" IS NULL
    RETURNING 1
)
SELECT (SELECT k FROM batch ORDER BY k DESC LIMIT 1) AS last_key,
       (SELECT count(*) FROM batch) AS scanned,
       (SELECT count(*) FROM filled) AS filled;
