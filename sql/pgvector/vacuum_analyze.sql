-- After a bulk load: sets hint bits and the visibility map once, and gives the planner statistics, so that index builds
-- and searches that follow do not pay for it (and pay equally). Cannot run inside a transaction.
VACUUM (ANALYZE) :"schema".:"table";
