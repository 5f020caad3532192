-- The run that built this database (its generation id): one row.
CREATE TABLE build AS
SELECT CAST($run_id AS VARCHAR) AS run_id, CAST(now() AS TIMESTAMPTZ) AS built_at;
