-- HNSW on the prefix as an expression, for one collection only (see create_scoped_prefix_index.sql for the predicate and
-- create_expression_index.sql for the expression, which queries must repeat exactly).
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table"
    USING hnsw ((CAST(:normalize_fn(:"vector_schema".subvector(:"vector_column", 1, :prefix_dims)) AS :"vector_schema".halfvec(:prefix_dims))) :"vector_schema".:opclass)
    WITH (m = :m, ef_construction = :ef_construction)
    WHERE :"scope_column" = :'scope_value'::pg_catalog.:scope_type;
