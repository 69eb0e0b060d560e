-- Where the backfill starts, and how much is left. Resuming needs no checkpoint: the work left is exactly the rows of this
-- layout's dimension whose prefix is still NULL. (ORDER BY ... LIMIT 1 rather than min(): PostgreSQL 15 has no min(uuid).)
SELECT (SELECT :"key_column" FROM :"schema".:"table"
        WHERE :"prefix_column" IS NULL AND :"vector_schema".vector_dims(:"vector_column") = :full_dims
        ORDER BY :"key_column" LIMIT 1) AS first_key,
       (SELECT count(*) FROM :"schema".:"table"
        WHERE :"prefix_column" IS NULL AND :"vector_schema".vector_dims(:"vector_column") = :full_dims) AS remaining;
