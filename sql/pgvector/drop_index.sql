-- Also removes an INVALID index left by a cancelled CREATE INDEX CONCURRENTLY. :concurrently is empty for the index of a
-- partitioned table (PostgreSQL cannot drop those concurrently); dropping it drops its partitions' indexes too.
DROP INDEX :concurrently IF EXISTS :"schema".:"index_name";
