-- The switch of a refit: the key column built beside the one in use, and its indexes, take the names stores use, and the
-- ones they replace move aside under names of their version, to be dropped once the switch has committed. It runs in one
-- transaction between drop_prefix_trigger.sql, with the names of the refit's own trigger and functions, and
-- create_prefix_trigger.sql, with the store's names and the new version: the store's trigger and functions keep their names
-- and from the commit on compute the new key into the renamed column, and their comment names the new version. (By hand:
-- BEGIN, then the three scripts with \set and \i in one psql session, then COMMIT.) Every statement is a catalog change;
-- the table's lock is held only until the commit.
ALTER TABLE :"schema".:"table" RENAME COLUMN :"prefix_column" TO :"retired_column";
ALTER TABLE :"schema".:"table" RENAME COLUMN :"refit_column" TO :"prefix_column";
ALTER INDEX :"schema".:"index_name" RENAME TO :"retired_index";
ALTER INDEX :"schema".:"refit_index" RENAME TO :"index_name";
ALTER INDEX IF EXISTS :"schema".:"pending_index" RENAME TO :"retired_pending_index";
ALTER INDEX :"schema".:"refit_pending_index" RENAME TO :"pending_index";
