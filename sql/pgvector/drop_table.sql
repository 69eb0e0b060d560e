-- Drops a managed table with its indexes and prefix trigger, then the function the trigger called.
DROP TABLE IF EXISTS :"schema".:"table";
DROP FUNCTION IF EXISTS :"schema".:"function_name"();
