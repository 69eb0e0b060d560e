-- A nullable column without a default: a catalog change, no table rewrite. On a partitioned table it reaches every partition.
ALTER TABLE :"schema".:"table" ADD COLUMN IF NOT EXISTS :"prefix_column" :"vector_schema".:prefix_type(:prefix_dims);
