-- The projection a projected key is computed with: one row per key direction (a unit vector of the full dimensions), per
-- version. The trigger's prefix function reads the rows of its version; a refit adds a new version beside the old one.
-- The prefix function reads every direction of its version for every row it computes a key for: a direction kept in the
-- row itself (PLAIN, up to 1,900 dimensions) saves a TOAST lookup each, and above that EXTERNAL saves a decompression.
CREATE TABLE IF NOT EXISTS :"schema".:"projection_table" (
    version integer NOT NULL,
    i integer NOT NULL,
    direction :"vector_schema".vector(:full_dims) NOT NULL,
    PRIMARY KEY (version, i)
);
ALTER TABLE :"schema".:"projection_table" ALTER COLUMN direction SET STORAGE :projection_storage;
