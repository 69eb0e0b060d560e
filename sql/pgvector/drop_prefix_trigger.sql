-- The trigger, then the two functions the migration created for it.
DROP TRIGGER IF EXISTS :"trigger_name" ON :"schema".:"table";
DROP FUNCTION IF EXISTS :"schema".:"function_name"();
DROP FUNCTION IF EXISTS :"schema".:"prefix_function"(:"vector_schema".:full_type);
