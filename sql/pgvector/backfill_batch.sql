-- One backfill batch: fills the prefix of rows still without one, in key order, starting at :'after'.
-- Rows written meanwhile get their prefix from the trigger; an UPDATE that races with this one is
-- re-checked by PostgreSQL, and a row whose prefix is already set is left alone. The prefix comes from
-- the same function the trigger calls (create_prefix_trigger.sql), which gives NULL rather than an error
-- for a row it cannot serve; rows of another dimension (a table shared by several models) are not touched.
-- (ORDER BY ... LIMIT 1 rather than max(): PostgreSQL 15 has no max(uuid).)
WITH batch AS (
    SELECT :"key_column" AS k
    FROM :"schema".:"table"
    WHERE :"key_column" >= :'after' AND (:"key_column" > :'after' OR :'inclusive'::boolean)
    ORDER BY :"key_column"
    LIMIT :batch_size
), filled AS (
    UPDATE :"schema".:"table" AS t
    SET :"prefix_column" = :"schema".:"prefix_function"(t.:"vector_column")
    FROM batch
    WHERE t.:"key_column" = batch.k AND t.:"prefix_column" IS NULL
      AND :"vector_schema".vector_dims(t.:"vector_column") = :full_dims
    RETURNING 1
)
SELECT (SELECT k FROM batch ORDER BY k DESC LIMIT 1) AS last_key,
       (SELECT count(*) FROM batch) AS scanned,
       (SELECT count(*) FROM filled) AS filled;
