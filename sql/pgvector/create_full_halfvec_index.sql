-- HNSW on a vector column too wide for a vector index (over 2,000 dimensions), cast to halfvec (up to 4,000):
-- the widest full-dimension index pgvector can build. Queries must repeat the cast exactly.
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table"
    USING hnsw ((CAST(:"vector_column" AS :"vector_schema".halfvec(:full_dims))) :"vector_schema".:opclass) WITH (m = :m, ef_construction = :ef_construction);
