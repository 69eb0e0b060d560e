DROP TRIGGER IF EXISTS :"trigger_name" ON :"schema".:"table";
DROP FUNCTION IF EXISTS :"schema".:"function_name"();
