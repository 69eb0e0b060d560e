-- A nullable column without a default: a catalog change, no table rewrite.
ALTER TABLE :"schema".:"table" ADD COLUMN IF NOT EXISTS :"prefix_column" :prefix_type(:prefix_dims);
