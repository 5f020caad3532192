-- One row per catalogue indicator; selection is the JSON text of the catalogue's selection table.
CREATE TABLE catalogue AS
SELECT
    CAST(id AS VARCHAR) AS id,
    CAST(title AS VARCHAR) AS title,
    CAST(description AS VARCHAR) AS description,
    CAST(dataset AS VARCHAR) AS dataset,
    CAST(dataset_title AS VARCHAR) AS dataset_title,
    CAST(source_format AS VARCHAR) AS source_format,
    CAST(selection AS VARCHAR) AS selection,
    CAST(unit AS VARCHAR) AS unit,
    CAST(higher_is_better AS BOOLEAN) AS higher_is_better,
    CAST(theme AS VARCHAR) AS theme,
    CAST(target_2030 AS DOUBLE) AS target_2030,
    CAST(target_label AS VARCHAR) AS target_label,
    CAST(headline AS BOOLEAN) AS headline,
    CAST(live_only AS BOOLEAN) AS live_only,
    CAST(aggregate AS VARCHAR) AS aggregate,
    CAST(parts AS INTEGER) AS parts,
    CAST(scale AS DOUBLE) AS scale,
    CAST(same_measure_as AS VARCHAR) AS same_measure_as,
    CAST(twin_break AS BOOLEAN) AS twin_break,
    CAST(population AS VARCHAR) AS population,
    CAST(directed AS BOOLEAN) AS directed,
    CAST(direction_note AS VARCHAR) AS direction_note
FROM staged_catalogue;
