-- The workers a parallel index build (and a parallel scan) of this table may use. PostgreSQL plans a build's workers from
-- the heap's size unless this is set, and a heap whose vectors live in TOAST can look too small for any worker: setting
-- it makes builds of different indexes on the table run at the same parallelism. Still capped by max_parallel_maintenance_workers.
ALTER TABLE :"schema".:"table" SET (parallel_workers = :parallel_workers);
