-- HNSW on the prefix column. CONCURRENTLY: writers are not blocked; it cannot run inside a transaction.
CREATE INDEX CONCURRENTLY IF NOT EXISTS :"index_name" ON :"schema".:"table"
    USING hnsw (:"prefix_column" :opclass) WITH (m = :m, ef_construction = :ef_construction);
