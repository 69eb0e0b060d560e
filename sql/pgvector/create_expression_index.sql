-- HNSW on the prefix as an expression: no new column. Queries must repeat this expression exactly.
-- :normalize_fn is the schema-qualified l2_normalize (cosine, inner product) or empty (Euclidean).
-- :concurrently is CONCURRENTLY, or empty with :only = ONLY for the parent of a partitioned table (see attach_partition_index.sql).
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table"
    USING hnsw ((CAST(:normalize_fn(:"vector_schema".subvector(:"vector_column", 1, :prefix_dims)) AS :"vector_schema".halfvec(:prefix_dims))) :"vector_schema".:opclass)
    WITH (m = :m, ef_construction = :ef_construction);
