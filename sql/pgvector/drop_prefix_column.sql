-- Dropping a column is a catalog change; the space is reclaimed as rows are rewritten.
ALTER TABLE :"schema".:"table" DROP COLUMN IF EXISTS :"prefix_column";
