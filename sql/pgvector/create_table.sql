-- A managed table: key, full vector and a jsonb payload. The full vector stays inline (PLAIN) where it fits a page.
CREATE TABLE IF NOT EXISTS :"schema".:"table" (
    :"key_column" :key_type PRIMARY KEY,
    :"vector_column" :"vector_schema".:full_type(:full_dims) NOT NULL,
    :"payload_column" jsonb
);
ALTER TABLE :"schema".:"table" ALTER COLUMN :"vector_column" SET STORAGE :storage;
