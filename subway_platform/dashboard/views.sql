-- The ELT monitoring dashboard's data: one view per chart over public.elt_manager_log.
--
-- Every filterable view keeps the three filter columns of the dashboard's native
-- filters, with the same names in every view, because Superset applies a native filter
-- to each chart in its scope by column name:
--   record_time  (timestamptz)  the time range filter
--   outcome      ('success' / 'failure', from valid) the "valid" filter
--   domain       (text)         the domain filter
-- and ``valid`` itself, for SQL users. The two big numbers (target_tables,
-- total_records) ignore the filters, as in the reference dashboard, so they have none.
--
-- Counts of -1 are the reference framework's "unknown" (a load that failed before it
-- counted); they are turned into NULL so that sums skip them instead of subtracting.
-- Days are calendar days in the dashboard's time zone: the time_zone placeholder below
-- is replaced, when the views are installed, by SUBWAY_DASHBOARD_TZ (default Asia/Seoul,
-- where the users are) as a quoted literal.

CREATE SCHEMA IF NOT EXISTS elt_dashboard;

-- 1. Big number: ELT target tables, one row per physical table (type, topic, object:
--    a Delta table and a PostgreSQL table of the same name are two tables), filters not
--    applied.
CREATE OR REPLACE VIEW elt_dashboard.target_tables AS
SELECT
    target_object,
    target_type,
    target_topic,
    count(*)                         AS operations,
    count(*) FILTER (WHERE valid)    AS successes,
    max(record_time)                 AS last_record_time
FROM public.elt_manager_log
WHERE target_object IS NOT NULL AND target_object <> ''
GROUP BY target_type, target_topic, target_object;

-- 2. Big number: ELT records in total (rows written to targets), filters not applied.
CREATE OR REPLACE VIEW elt_dashboard.total_records AS
SELECT
    count(*)::bigint                                                        AS operations,
    coalesce(sum(CASE WHEN target_read_size >= 0 THEN target_read_size END), 0)::bigint
                                                                            AS target_records,
    coalesce(sum(CASE WHEN source_read_size >= 0 THEN source_read_size END), 0)::bigint
                                                                            AS source_records
FROM public.elt_manager_log;

-- 3. Pie: success vs failure; one row per logged operation (the pie counts rows).
CREATE OR REPLACE VIEW elt_dashboard.status_split AS
SELECT
    record_time,
    domain,
    valid,
    CASE WHEN valid THEN 'success' ELSE 'failure' END AS outcome,
    1::bigint                                         AS operations
FROM public.elt_manager_log;

-- 4. Bar: success and failure counts per domain.
CREATE OR REPLACE VIEW elt_dashboard.status_by_domain AS
SELECT
    record_time,
    domain,
    valid,
    CASE WHEN valid THEN 'success' ELSE 'failure' END AS outcome,
    (CASE WHEN valid THEN 1 ELSE 0 END)::bigint       AS success_count,
    (CASE WHEN valid THEN 0 ELSE 1 END)::bigint       AS failure_count
FROM public.elt_manager_log;

-- 5. Bar: success and failure counts per day (dashboard time zone).
-- The rows of status_by_domain, with their day.
CREATE OR REPLACE VIEW elt_dashboard.daily_operations AS
SELECT
    record_time,
    (record_time AT TIME ZONE {time_zone})::date      AS record_day,
    domain,
    valid,
    outcome,
    success_count,
    failure_count
FROM elt_dashboard.status_by_domain;

-- 6. Bar: source vs target rows per day (dashboard time zone); ratio = sum(target_rows) / sum(source_rows)
--    of the same day (the filtering/transformation ratio). Per-row ratio is given for
--    inspection; a day's ratio must be computed from the sums, never averaged.
CREATE OR REPLACE VIEW elt_dashboard.daily_records AS
SELECT
    record_time,
    (record_time AT TIME ZONE {time_zone})::date      AS record_day,
    domain,
    valid,
    CASE WHEN valid THEN 'success' ELSE 'failure' END AS outcome,
    CASE WHEN source_read_size >= 0 THEN source_read_size END AS source_rows,
    CASE WHEN target_read_size >= 0 THEN target_read_size END AS target_rows,
    CASE WHEN source_read_size > 0 AND target_read_size >= 0
         THEN target_read_size::double precision / source_read_size END AS target_ratio
FROM public.elt_manager_log;

-- 7. Table: failed operations, newest first (the chart orders too: views keep no order
--    once filtered, but a plain SELECT of this view returns newest first). Overdue tables
--    are here too: the freshness sensor's rows (status 'overdue', valid false).
CREATE OR REPLACE VIEW elt_dashboard.recent_failures AS
SELECT
    record_time,
    domain,
    valid,
    CASE WHEN valid THEN 'success' ELSE 'failure' END AS outcome,
    action,
    source_object,
    target_object,
    error_message,
    asset_key,
    partition_key,
    run_id
FROM public.elt_manager_log
WHERE NOT valid
ORDER BY record_time DESC, id DESC;

-- 8. Table: loads that were valid but left rows behind in gold/rejects ("loaded with
--    rejects"), newest first. valid keeps the reference's meaning (every source row is
--    accounted for: source = target + cleaned + merged), so these rows are not in
--    recent_failures; error_message says how many rows, their passengers and the first
--    reason (the failed warning check no_rows_rejected). Invalid rows with rejects (a
--    blocked month, a cancelled run's bronze) are failures: recent_failures shows them.
CREATE OR REPLACE VIEW elt_dashboard.loads_with_rejects AS
SELECT
    record_time,
    domain,
    valid,
    CASE WHEN valid THEN 'success' ELSE 'failure' END AS outcome,
    asset_key,
    partition_key,
    target_object,
    cleaned_count                                     AS rejected_rows,
    error_message,
    run_id
FROM public.elt_manager_log
WHERE cleaned_count > 0 AND valid
ORDER BY record_time DESC, id DESC;

-- 9. Bar: where the time goes, seconds per target table per day (dashboard time zone):
--    the seed's "operation-specific time consumption analysis". elapsed is each row's own
--    share of its step (a range step's time shared by the rows each month read: summed,
--    a day counts each step once; elt_log/elapsed.py). Rows without a time (freshness
--    rows, a cancelled run's months it never reached) are left out. target_table names
--    the physical table (type and object: gold's Delta table and the mart's table of the
--    same data set are two).
CREATE OR REPLACE VIEW elt_dashboard.daily_time AS
SELECT
    record_time,
    (record_time AT TIME ZONE {time_zone})::date      AS record_day,
    domain,
    valid,
    CASE WHEN valid THEN 'success' ELSE 'failure' END AS outcome,
    coalesce(target_type || ' ' || target_object, asset_key) AS target_table,
    asset_key,
    partition_key,
    elapsed                                           AS elapsed_seconds
FROM public.elt_manager_log
WHERE elapsed IS NOT NULL;
