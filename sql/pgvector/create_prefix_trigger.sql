-- Keeps the prefix in step with the full vector on every INSERT and on UPDATE of the vector, through two functions:
-- the prefix function, which the backfill calls too, and the trigger function that calls it.
--
-- The trigger never fails the application's write: a row the layout cannot serve (no vector, another dimension in a table
-- shared by several models, a zero prefix, a Euclidean prefix too large for halfvec) is stored with a NULL prefix.
-- Both functions pin their search_path to pg_catalog and pgvector's schema and name every pgvector object with its schema,
-- so nothing another role creates in a schema on the caller's search_path (a public.l2_normalize, say) is ever run.
-- Each function carries a comment naming the table, the columns and the layout: a later run reads it to tell its own
-- functions from anyone else's, and an earlier run with other parameters from this one.
-- With a projection table (create_projection_table.sql) the key is P·v instead of the first values: one inner product per
-- stored direction, by pgvector's own <#> operator, gathered in key order; the function is then STABLE, as it reads a table.
-- psql does not expand variables inside dollar quotes, so they reach the DO block as settings.
SELECT set_config('mrl.schema', :'schema', false),
       set_config('mrl.table', :'table', false),
       set_config('mrl.vector_schema', :'vector_schema', false),
       set_config('mrl.vector_column', :'vector_column', false),
       set_config('mrl.full_type', :'full_type', false),
       set_config('mrl.full_dims', :'full_dims', false),
       set_config('mrl.prefix_column', :'prefix_column', false),
       set_config('mrl.prefix_type', :'prefix_type', false),
       set_config('mrl.prefix_dims', :'prefix_dims', false),
       set_config('mrl.normalize', :'normalize', false),
       set_config('mrl.function_name', :'function_name', false),
       set_config('mrl.prefix_function', :'prefix_function', false),
       set_config('mrl.trigger_name', :'trigger_name', false),
       set_config('mrl.function_comment', :'function_comment', false),
       set_config('mrl.projection_table', :'projection_table', false),
       set_config('mrl.projection_version', :'projection_version', false);

DO $mrl$
DECLARE
    schema_name text := current_setting('mrl.schema');
    table_name text := current_setting('mrl.table');
    ext text := current_setting('mrl.vector_schema');
    vector_column text := current_setting('mrl.vector_column');
    full_type text := current_setting('mrl.full_type');
    full_dims int := current_setting('mrl.full_dims')::int;
    prefix_column text := current_setting('mrl.prefix_column');
    prefix_type text := current_setting('mrl.prefix_type');
    prefix_dims int := current_setting('mrl.prefix_dims')::int;
    normalize boolean := current_setting('mrl.normalize')::boolean;
    function_name text := current_setting('mrl.function_name');
    prefix_function text := current_setting('mrl.prefix_function');
    trigger_name text := current_setting('mrl.trigger_name');
    function_comment text := current_setting('mrl.function_comment');
    projection_table text := current_setting('mrl.projection_table');
    projection_version text := current_setting('mrl.projection_version');
    volatility text := 'IMMUTABLE';
    head text;
    argument_type text;
    body text;
    guard text;
    value text;
BEGIN
    IF prefix_type NOT IN ('halfvec', 'vector') OR full_type NOT IN ('halfvec', 'vector') THEN
        RAISE EXCEPTION 'prefix_type and full_type must be halfvec or vector, not % and %', prefix_type, full_type;
    END IF;

    argument_type := full_type;

    head := format('%I.subvector(v, 1, %s)', ext, prefix_dims);
    guard := format('v IS NOT NULL AND %I.vector_dims(v) = %s', ext, full_dims);
    IF projection_table <> '' THEN
        -- <#> is the negative inner product. The full vector is cast to vector, the directions' type.
        head := format(
            'CAST(CAST((SELECT array_agg(-(CAST(v AS %1$I.vector) OPERATOR(%1$I.<#>) d.direction) ORDER BY d.i) '
            'FROM %2$I.%3$I AS d WHERE d.version = %4$s) AS real[]) AS %1$I.vector)',
            ext, schema_name, projection_table, projection_version::int);
        full_type := 'vector';
        volatility := 'STABLE';
    END IF;
    IF normalize THEN
        -- A zero prefix has no direction: cosine and inner-product indexes cannot place it.
        guard := guard || format(' AND %I.%I(%s) > 0', ext, CASE full_type WHEN 'vector' THEN 'vector_norm' ELSE 'l2_norm' END, head);
        value := format('%I.l2_normalize(%s)', ext, head);
    ELSE
        value := head;
        IF prefix_type = 'halfvec' AND full_type = 'vector' THEN
            -- A value beyond halfvec's range would make the cast fail.
            guard := guard || format(' AND (SELECT max(abs(x)) FROM unnest(CAST(%s AS real[])) AS x) <= 65504', head);
        END IF;
    END IF;

    IF projection_table <> '' THEN
        -- The key is computed once, in a subquery, and only then checked and normalized.
        body := format('SELECT CASE WHEN %s THEN CAST(%s AS %I.%I(%s)) END FROM (SELECT CASE WHEN %s THEN %s END AS k) AS projected',
            replace(guard, head, 'k'), replace(value, head, 'k'), ext, prefix_type, prefix_dims,
            format('v IS NOT NULL AND %I.vector_dims(v) = %s', ext, full_dims), head);
    ELSE
        body := format('SELECT CASE WHEN %s THEN CAST(%s AS %I.%I(%s)) END', guard, value, ext, prefix_type, prefix_dims);
    END IF;

    EXECUTE format(
        'CREATE OR REPLACE FUNCTION %I.%I(v %I.%I) RETURNS %I.%I LANGUAGE sql %s PARALLEL SAFE '
        'SET search_path = pg_catalog, %I, pg_temp AS %L',
        schema_name, prefix_function, ext, argument_type, ext, prefix_type, volatility, ext, body);
    EXECUTE format('COMMENT ON FUNCTION %I.%I(%I.%I) IS %L', schema_name, prefix_function, ext, argument_type, function_comment);

    -- The body goes in as a quoted literal (%L), not between dollar quotes: a column name containing the dollar tag
    -- would otherwise end the body early and splice the rest of the name into the statement.
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION %I.%I() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, %I, pg_temp AS %L',
        schema_name, function_name, ext,
        format($body$
BEGIN
    NEW.%I := %I.%I(NEW.%I);
    RETURN NEW;
END
$body$, prefix_column, schema_name, prefix_function, vector_column));
    EXECUTE format('COMMENT ON FUNCTION %I.%I() IS %L', schema_name, function_name, function_comment);

    EXECUTE format(
        'CREATE OR REPLACE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.%I()',
        trigger_name, vector_column, schema_name, table_name, schema_name, function_name);
END
$mrl$;
