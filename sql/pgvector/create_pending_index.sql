-- The rows of the layout's dimension that have no prefix yet: all of them before the backfill, none after it but the few whose
-- prefix could not be computed. Searches scan these rows exactly beside pass 1 (a bounded number of them), so that a row is
-- found while the backfill has not reached it. The predicate is what those searches ask for, so the planner uses this index.
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table" (:"key_column")
    WHERE :"prefix_column" IS NULL AND :"vector_schema".vector_dims(:"vector_column") = :full_dims;
