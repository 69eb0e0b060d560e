-- Deletes one version of a projection from the side table, after a refit has switched the key to another version: nothing
-- computes a key with it any more. The refit deletes it last, so that a version older than the one in use still stored
-- there tells a rerun that the refit's clean-up did not finish.
DELETE FROM :"schema".:"projection_table" WHERE version = CAST(:'projection_version' AS integer);
