-- Drops a table with its indexes and triggers. Trigger functions are separate objects: drop_prefix_trigger.sql removes them.
DROP TABLE IF EXISTS :"schema".:"table";
