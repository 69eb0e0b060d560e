-- HNSW on the prefix column. CONCURRENTLY: writers are not blocked; it cannot run inside a transaction.
-- On a partitioned table each partition gets its own concurrent build, then the parent's index is made
-- with :only = ONLY and :concurrently empty, and the partitions' indexes attached (attach_partition_index.sql).
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table"
    USING hnsw (:"prefix_column" :"vector_schema".:opclass) WITH (m = :m, ef_construction = :ef_construction);
