-- pgvector itself; needs a role allowed to create extensions in this database.
CREATE EXTENSION IF NOT EXISTS vector;
