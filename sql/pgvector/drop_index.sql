-- Also removes an INVALID index left by a cancelled CREATE INDEX CONCURRENTLY.
DROP INDEX CONCURRENTLY IF EXISTS :"schema".:"index_name";
