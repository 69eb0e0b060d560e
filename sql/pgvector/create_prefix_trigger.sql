-- Keeps the prefix in step with the full vector on every INSERT and on UPDATE of the vector.
-- psql does not expand variables inside dollar quotes, so they reach the DO block as settings.
SELECT set_config('mrl.schema', :'schema', false),
       set_config('mrl.table', :'table', false),
       set_config('mrl.vector_column', :'vector_column', false),
       set_config('mrl.prefix_column', :'prefix_column', false),
       set_config('mrl.prefix_type', :'prefix_type', false),
       set_config('mrl.prefix_dims', :'prefix_dims', false),
       set_config('mrl.normalize_fn', :'normalize_fn', false),
       set_config('mrl.function_name', :'function_name', false),
       set_config('mrl.trigger_name', :'trigger_name', false);

DO $mrl$
DECLARE
    schema_name text := current_setting('mrl.schema');
    table_name text := current_setting('mrl.table');
    vector_column text := current_setting('mrl.vector_column');
    prefix_column text := current_setting('mrl.prefix_column');
    prefix_type text := current_setting('mrl.prefix_type');
    prefix_dims int := current_setting('mrl.prefix_dims')::int;
    normalize_fn text := current_setting('mrl.normalize_fn');
    function_name text := current_setting('mrl.function_name');
    trigger_name text := current_setting('mrl.trigger_name');
BEGIN
    IF prefix_type NOT IN ('halfvec', 'vector') THEN
        RAISE EXCEPTION 'prefix_type must be halfvec or vector, not %', prefix_type;
    END IF;
    IF normalize_fn NOT IN ('l2_normalize', '') THEN
        RAISE EXCEPTION 'normalize_fn must be l2_normalize or empty, not %', normalize_fn;
    END IF;

    -- The body goes in as a quoted literal (%L), not between dollar quotes: a column name containing the dollar tag
    -- would otherwise end the body early and splice the rest of the name into the statement.
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION %I.%I() RETURNS trigger LANGUAGE plpgsql AS %L',
        schema_name, function_name,
        format($body$
BEGIN
    NEW.%I := CAST(%s(subvector(NEW.%I, 1, %s)) AS %s(%s));
    RETURN NEW;
END
$body$, prefix_column, normalize_fn, vector_column, prefix_dims, prefix_type, prefix_dims));

    EXECUTE format(
        'CREATE OR REPLACE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.%I()',
        trigger_name, vector_column, schema_name, table_name, schema_name, function_name);
END
$mrl$;
