-- Drops a table with its indexes and triggers. Trigger functions are separate objects: drop_prefix_function.sql removes one.
DROP TABLE IF EXISTS :"schema".:"table";
