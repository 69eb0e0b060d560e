-- HNSW on the prefix column of one collection only: the rows whose :scope_column holds :scope_value (LangChain keeps every
-- collection in one table, told apart by collection_id). Each collection gets an index of its own, of its own dimension, and a
-- search of it walks no other collection's graph. The store's pass 1 carries the same predicate, written the same way
-- ('value'::pg_catalog.type), so the planner proves the index applies. :scope_value is a literal here, not a parameter:
-- a partial index's predicate must be a constant, and CREATE INDEX takes no parameters.
-- :concurrently and :only as in create_prefix_index.sql.
CREATE INDEX :concurrently IF NOT EXISTS :"index_name" ON :only :"schema".:"table"
    USING hnsw (:"prefix_column" :"vector_schema".:opclass) WITH (m = :m, ef_construction = :ef_construction)
    WHERE :"scope_column" = :'scope_value'::pg_catalog.:scope_type;
