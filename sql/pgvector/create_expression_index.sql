-- HNSW on the prefix as an expression: no new column. Queries must repeat this expression exactly.
CREATE INDEX CONCURRENTLY IF NOT EXISTS :"index_name" ON :"schema".:"table"
    USING hnsw ((CAST(:normalize_fn(subvector(:"vector_column", 1, :prefix_dims)) AS halfvec(:prefix_dims))) :opclass)
    WITH (m = :m, ef_construction = :ef_construction);
