-- A read-only role for the ELT monitoring dashboard (Superset's database connection).
--
-- elt_dashboard_reader can SELECT the views in schema elt_dashboard and the log table
-- public.elt_manager_log, and nothing else in the mart. It cannot log in itself: give it
-- to a login role that Superset connects as, for example (run as the mart's owner):
--
--   CREATE ROLE superset_reader LOGIN PASSWORD '...' IN ROLE elt_dashboard_reader;
--
-- and point Superset at postgresql://superset_reader:...@host/db. Run this script after
-- the views exist (`ensure_dashboard_views`, or `subway-platform dashboard --no-serve`),
-- and again after new views are added. It is idempotent.
-- `apply_dashboard_grants(conn)` in subway_platform/dashboard/views.py runs it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'elt_dashboard_reader') THEN
        CREATE ROLE elt_dashboard_reader NOLOGIN;
    END IF;
END
$$;

-- Nothing by default: PUBLIC may create in / read from public on older databases.
REVOKE ALL ON SCHEMA elt_dashboard FROM PUBLIC;

GRANT USAGE ON SCHEMA elt_dashboard TO elt_dashboard_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA elt_dashboard TO elt_dashboard_reader;
GRANT USAGE ON SCHEMA public TO elt_dashboard_reader;
GRANT SELECT ON public.elt_manager_log TO elt_dashboard_reader;
