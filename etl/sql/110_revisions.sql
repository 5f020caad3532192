-- What each refresh changed in indicator_values against the database it replaced, keyed by run: cells added,
-- removed and revised (old and new value and flags). Earlier runs' rows are carried over from that database;
-- $compared is false for a first build (nothing to compare with, so nothing is listed). Values equal to
-- 1e-9 relative are equal: an aggregate's sum may differ in its last bits with the order its parts are added in.
CREATE TABLE revisions AS
WITH changes AS (
    SELECT
        CAST($run_id AS VARCHAR) AS run_id,
        coalesce(n.dataset, o.dataset) AS dataset,
        coalesce(n.indicator, o.indicator) AS indicator,
        coalesce(n.geo, o.geo) AS geo,
        coalesce(n.period, o.period) AS period,
        CASE WHEN o.indicator IS NULL THEN 'added' WHEN n.indicator IS NULL THEN 'removed' ELSE 'revised' END AS change,
        CAST(o.value AS DOUBLE) AS old_value,
        CAST(o.flags AS VARCHAR) AS old_flags,
        CAST(n.value AS DOUBLE) AS new_value,
        CAST(n.flags AS VARCHAR) AS new_flags
    FROM indicator_values AS n
    FULL OUTER JOIN previous_values AS o
        ON o.indicator = n.indicator AND o.geo = n.geo AND o.period = n.period
    WHERE $compared
      AND (o.indicator IS NULL OR n.indicator IS NULL
           OR (o.value IS NULL) <> (n.value IS NULL) OR o.flags IS DISTINCT FROM n.flags
           OR abs(o.value - n.value) > 1e-9 * greatest(abs(o.value), abs(n.value), 1))
)
SELECT
    CAST(run_id AS VARCHAR) AS run_id, CAST(dataset AS VARCHAR) AS dataset, CAST(indicator AS VARCHAR) AS indicator,
    CAST(geo AS VARCHAR) AS geo, CAST(period AS VARCHAR) AS period, CAST(change AS VARCHAR) AS change,
    CAST(old_value AS DOUBLE) AS old_value, CAST(old_flags AS VARCHAR) AS old_flags,
    CAST(new_value AS DOUBLE) AS new_value, CAST(new_flags AS VARCHAR) AS new_flags
FROM previous_revisions
UNION ALL
SELECT * FROM changes
ORDER BY run_id, dataset, indicator, geo, period;
