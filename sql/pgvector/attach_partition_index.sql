-- Attaches one partition's index to the partitioned table's index; once every partition's is attached, the parent's index
-- is valid, and PostgreSQL builds the index of any partition created or attached later by itself. Attaching twice is a no-op.
ALTER INDEX :"schema".:"index_name" ATTACH PARTITION :"partition_schema".:"partition_index";
