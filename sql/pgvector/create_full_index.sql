-- HNSW on the full vector column, for the single-pass baseline (vector up to 2,000 dimensions, halfvec up to 4,000).
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table"
    USING hnsw (:"vector_column" :"vector_schema".:opclass) WITH (m = :m, ef_construction = :ef_construction);
