-- The projection a projected key is computed with: one row per key direction (a unit vector of the full dimensions), per
-- version. The trigger's prefix function reads the rows of its version; a refit adds a new version beside the old one.
CREATE TABLE IF NOT EXISTS :"schema".:"projection_table" (
    version integer NOT NULL,
    i integer NOT NULL,
    direction :"vector_schema".vector(:full_dims) NOT NULL,
    PRIMARY KEY (version, i)
);
