-- The tidy observations (OBSERVATION_SCHEMA columns), as the design contract names them.
CREATE VIEW observations AS
SELECT dataset, indicator, geo, period, year, unit, dims, value, flags, source_updated, retrieved_at, source_file
FROM observations_t;
