-- The functions a prefix trigger called; the trigger itself went with its table (drop_table.sql) or drop_prefix_trigger.sql.
DROP FUNCTION IF EXISTS :"schema".:"function_name"();
DROP FUNCTION IF EXISTS :"schema".:"prefix_function"(:"vector_schema".:full_type);
