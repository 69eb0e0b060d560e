-- The function a prefix trigger called; the trigger itself went with its table (drop_table.sql) or drop_prefix_trigger.sql.
DROP FUNCTION IF EXISTS :"schema".:"function_name"();
