-- Run once by the postgres image on an empty data directory: the Dagster instance's
-- database beside the mart's (POSTGRES_DB, which also holds elt_manager_log).
CREATE DATABASE dagster;
