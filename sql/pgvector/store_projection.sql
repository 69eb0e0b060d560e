-- Stores one version of the projection: the directions come in key order as vector literals. A version
-- already stored is left as it is, so that a rerun after an interruption does not change the keys already computed.
INSERT INTO :"schema".:"projection_table" (version, i, direction)
SELECT CAST(:'projection_version' AS integer), d.ordinality::integer - 1, CAST(d.direction AS :"vector_schema".vector(:full_dims))
FROM unnest(CAST(:'directions' AS text[])) WITH ORDINALITY AS d(direction, ordinality)
ON CONFLICT (version, i) DO NOTHING;
