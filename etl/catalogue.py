"""The indicator catalogue (etl/catalogue.toml): load, validate, and assign indicator ids to observations."""
from __future__ import annotations

import functools
import json
import re
import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from etl import codelists
from etl.formats import registry
from etl.formats.scoreboard import LIVE_FORMAT as SCOREBOARD_LIVE

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.toml"
THEMES = (
    "overall",  # composite indices (the DESI score) that span every dimension
    "connectivity", "human_capital", "use_of_internet", "integration_of_digital_technology",
    "digital_public_services", "e_commerce", "cross_border",
    "population",  # counts of persons, households, enterprises that weight the BSR average (not shown as areas)
)
LIVE_FORMATS = registry.live_names()
SOURCE_FORMATS = registry.names()
AGGREGATES = ("sum",)
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
DATASET_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# The observation columns a selection may name besides `dims` keys; geo and time are never selected.
COLUMN_KEYS = ("unit",)
FORBIDDEN_KEYS = ("geo", "time", "period", "year", "dataset")
GROUP_LISTS = ("bsr", "eu27", "best_practice")  # the [groups] fields that list geo codes (reference is one code)



class Entry(BaseModel):
    """A catalogue table's fields and their types: unknown fields refused, no coercion (true is not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class DatasetEntry(Entry):
    """The fields of one [datasets.<code>] table."""

    title: str
    licence: str
    source_url: str
    live_format: str | None = None
    live_filters: dict = {}


class GroupsEntry(Entry):
    """The fields of the [groups] table."""

    bsr: list
    eu27: list
    reference: str
    best_practice: list


class CatalogueError(ValueError):
    """A catalogue entry that is not usable; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Dataset:
    """One [datasets.<code>] entry."""

    code: str
    title: str
    licence: str
    source_url: str
    live_format: str | None = None
    live_filters: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    """One [[indicators]] entry."""

    id: str
    title: str
    description: str
    dataset: str
    source_format: str
    selection: dict[str, str]
    unit: str
    higher_is_better: bool
    theme: str
    headline: bool
    live_only: bool
    target_2030: float | None = None
    target_label: str | None = None
    aggregate: str | None = None
    parts: int | None = None
    scale: float = 1.0
    same_measure_as: str | None = None   # another indicator id measuring the same thing from another source
    twin_break: bool = False             # its years continue the twin's by another method (a break where they join)
    population: str | None = None        # the population indicator (theme "population") that weights its BSR average
    directed: bool = True                # False: neither better nor worse when higher (composition shares, counts)
    direction_note: str | None = None    # why an indicator is not directed, in words (required when directed = false)


def entry_model(kind: type) -> type[Entry]:
    """The pydantic model of a catalogue table whose fields are those of a dataclass (one definition of them)."""
    hints = typing.get_type_hints(kind)
    required = {f.name for f in fields(kind) if f.default is MISSING and f.default_factory is MISSING}
    return create_model(f"{kind.__name__}Entry", __base__=Entry,
                        **{f.name: (hints[f.name], ... if f.name in required else None) for f in fields(kind)})


IndicatorEntry = entry_model(Indicator)


@dataclass(frozen=True)
class Groups:
    """Country groups: the Baltic Sea Region, the EU members, the reference aggregate and the best-practice peers."""

    bsr: tuple[str, ...]
    eu27: tuple[str, ...]
    reference: str
    best_practice: tuple[str, ...]

    def members(self) -> dict[str, tuple[str, ...]]:
        """Group id -> its codes in order; the reference is the one-code group 'reference'."""
        return {"bsr": self.bsr, "eu27": self.eu27, "reference": (self.reference,),
                "best_practice": self.best_practice}

    def rows(self) -> list[dict]:
        """One (group_id, geo, position) dict per member, positions from 1, as table `country_groups` stores it."""
        return [{"group_id": group_id, "geo": geo, "position": position}
                for group_id, codes in self.members().items() for position, geo in enumerate(codes, start=1)]


@dataclass(frozen=True)
class Catalogue:
    """The whole validated catalogue."""

    datasets: dict[str, Dataset]
    indicators: tuple[Indicator, ...]
    groups: Groups
    path: Path

    def indicator(self, indicator_id: str) -> Indicator:
        """One indicator by id."""
        for item in self.indicators:
            if item.id == indicator_id:
                return item
        raise KeyError(f"no indicator {indicator_id!r} in {self.path.name}")

    def indicators_of(self, dataset: str) -> list[Indicator]:
        """The indicators a dataset feeds, in catalogue order."""
        return [item for item in self.indicators if item.dataset == dataset]

    def rows(self) -> list[dict]:
        """One plain dict per indicator, as the `catalogue` table stores it (selection as JSON)."""
        out = []
        for item in self.indicators:
            row = {name: getattr(item, name) for name in Indicator.__dataclass_fields__}
            row["selection"] = json.dumps(item.selection, sort_keys=True)
            row["dataset_title"] = self.datasets[item.dataset].title
            out.append(row)
        return out


# ---------------------------------------------------------------- loading and validation

def check_fields(entry: dict, where: str, model: type[Entry]) -> None:
    """Refuse missing, unknown or wrongly typed fields (pydantic), naming the entry and the field."""
    try:
        model.model_validate(entry)
    except ValidationError as err:
        first = err.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        if first["type"] == "missing":
            raise CatalogueError(f"{where}: missing field {name!r}") from None
        if first["type"] == "extra_forbidden":
            raise CatalogueError(f"{where}: unknown field {name!r}") from None
        raise CatalogueError(f"{where}: field {name!r}: {first['msg']}, got {first['input']!r}") from None


def parse_dataset(code: str, entry: dict, where: str) -> Dataset:
    """Validate one [datasets.<code>] table."""
    if not DATASET_CODE.match(code):
        raise CatalogueError(f"{where}: dataset code {code!r} must be lower-case letters, digits and _")
    check_fields(entry, where, DatasetEntry)
    live_format = entry.get("live_format")
    if live_format is not None and live_format not in LIVE_FORMATS:
        raise CatalogueError(f"{where}: field 'live_format' must be one of {LIVE_FORMATS}, got {live_format!r}")
    filters = entry.get("live_filters", {})
    for dim, codes in filters.items():
        if not (isinstance(codes, list) and codes and all(isinstance(c, str) and c for c in codes)):
            raise CatalogueError(f"{where}: field 'live_filters.{dim}' must be a non-empty list of codes")
    if live_format == SCOREBOARD_LIVE:
        groups = codelists.codelist("chart_group")
        asked = filters.get("chart_group") or []
        unknown = [g for g in asked if g not in groups]
        if not asked or unknown or set(filters) != {"chart_group"}:
            raise CatalogueError(f"{where}: a live_format {SCOREBOARD_LIVE!r} dataset takes live_filters = "
                                 f"{{ chart_group = [...] }} with groups of etl/codelists/chart_group.csv "
                                 f"({sorted(groups)}), got {filters!r}")
    return Dataset(code, entry["title"], entry["licence"], entry["source_url"], live_format, dict(filters))


def parse_indicator(entry: dict, where: str, datasets: dict[str, Dataset]) -> Indicator:
    """Validate one [[indicators]] entry against the datasets."""
    check_fields(entry, where, IndicatorEntry)
    if not SNAKE_CASE.match(entry["id"]):
        raise CatalogueError(f"{where}: field 'id' must be snake_case, got {entry['id']!r}")
    if entry["dataset"] not in datasets:
        raise CatalogueError(f"{where}: field 'dataset' names {entry['dataset']!r}, which has no [datasets.{entry['dataset']}]")
    if entry["theme"] not in THEMES:
        raise CatalogueError(f"{where}: field 'theme' must be one of {THEMES}, got {entry['theme']!r}")
    if entry["source_format"] not in SOURCE_FORMATS:
        raise CatalogueError(f"{where}: field 'source_format' must be one of {SOURCE_FORMATS}, got {entry['source_format']!r}")
    check_selection(entry["selection"], where)
    check_target(entry, where)
    check_aggregate(entry, where)
    check_live_filters(entry, where, datasets[entry["dataset"]])
    values = {name: entry[name] for name in entry}
    for name in ("target_2030", "scale"):
        if name in values:
            values[name] = float(values[name])
    return Indicator(**values)


def check_selection(selection: dict, where: str) -> None:
    """A selection names dimensions with one code each, never geo or time."""
    if not selection:
        raise CatalogueError(f"{where}: field 'selection' is empty; it must name at least one dimension")
    for key, code in selection.items():
        if key in FORBIDDEN_KEYS:
            raise CatalogueError(f"{where}: field 'selection.{key}': geo and time are never selected")
        if not isinstance(code, str) or not code:
            raise CatalogueError(f"{where}: field 'selection.{key}' must be one code (a string), got {code!r}")


def check_target(entry: dict, where: str) -> None:
    """A 2030 target comes with its label, and vice versa."""
    if ("target_2030" in entry) != ("target_label" in entry):
        raise CatalogueError(f"{where}: fields 'target_2030' and 'target_label' go together")


def check_aggregate(entry: dict, where: str) -> None:
    """An aggregate names how many parts it sums."""
    aggregate = entry.get("aggregate")
    if aggregate is None:
        if "parts" in entry:
            raise CatalogueError(f"{where}: field 'parts' needs 'aggregate'")
        return
    if aggregate not in AGGREGATES:
        raise CatalogueError(f"{where}: field 'aggregate' must be one of {AGGREGATES}, got {aggregate!r}")
    if entry.get("parts", 0) < 2:
        raise CatalogueError(f"{where}: field 'parts' must be an integer >= 2 for an aggregate")


def check_live_filters(entry: dict, where: str, dataset: Dataset) -> None:
    """Live filters must not filter away the series an indicator selects."""
    for key, code in entry["selection"].items():
        allowed = dataset.live_filters.get(key)
        if allowed is not None and code not in allowed:
            raise CatalogueError(
                f"{where}: field 'selection.{key}' = {code!r} is filtered out by [datasets.{dataset.code}] live_filters {allowed}")


def parse_groups(entry: dict, where: str) -> Groups:
    """Validate the [groups] table against etl/codelists/geo.csv."""
    check_fields(entry, where, GroupsEntry)
    geo = codelists.geo_table()
    aggregates = set(geo.loc[geo["is_aggregate"], "code"])
    for name in GROUP_LISTS:
        check_group_list(entry[name], f"{where}: field {name!r}", set(geo["code"]))
    if entry["reference"] not in aggregates:
        raise CatalogueError(f"{where}: field 'reference' must be an aggregate of geo.csv (is_aggregate = 1), "
                             f"got {entry['reference']!r}")
    if entry["reference"] != codelists.EU27:
        raise CatalogueError(f"{where}: field 'reference' must be {codelists.EU27!r}, the aggregate the DESI and Scoreboard "
                             f"decoders give for 'EU' and the dashboard compares with, got {entry['reference']!r}")
    return Groups(tuple(entry["bsr"]), tuple(entry["eu27"]), entry["reference"], tuple(entry["best_practice"]))


def check_group_list(codes: list, where: str, known: set[str]) -> None:
    """A group is a non-empty list of distinct geo codes that geo.csv holds."""
    if not codes or not all(isinstance(code, str) and code for code in codes):
        raise CatalogueError(f"{where} must be a non-empty list of geo codes")
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise CatalogueError(f"{where}: codes {unknown} are not in etl/codelists/geo.csv")
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise CatalogueError(f"{where}: codes {repeated} are listed more than once")


def parse_catalogue(document: dict, path: Path) -> Catalogue:
    """Validate a parsed catalogue document."""
    name = path.name
    datasets = {code: parse_dataset(code, entry, f"{name}: [datasets.{code}]")
                for code, entry in document.get("datasets", {}).items()}
    indicators = []
    seen: set[str] = set()
    for number, entry in enumerate(document.get("indicators", [])):
        where = f"{name}: [[indicators]] #{number + 1} (id={entry.get('id')!r})"
        indicator = parse_indicator(entry, where, datasets)
        if indicator.id in seen:
            raise CatalogueError(f"{where}: field 'id' repeats an earlier indicator")
        seen.add(indicator.id)
        indicators.append(indicator)
    if not indicators:
        raise CatalogueError(f"{name}: no [[indicators]]")
    check_twins(indicators, name)
    check_populations(indicators, name)
    check_overlaps(indicators, name)
    groups = parse_groups(document.get("groups", {}), f"{name}: [groups]")
    return Catalogue(datasets, tuple(indicators), groups, path)


def check_twins(indicators: list[Indicator], name: str) -> None:
    """`same_measure_as` names another indicator of the catalogue, from another dataset."""
    by_id = {item.id: item for item in indicators}
    for item in indicators:
        twin = by_id.get(item.same_measure_as) if item.same_measure_as else None
        if item.same_measure_as and (twin is None or twin.dataset == item.dataset):
            raise CatalogueError(f"{name}: indicator {item.id!r}: field 'same_measure_as' must name an indicator of "
                                 f"another dataset, got {item.same_measure_as!r}")
        if item.twin_break and not item.same_measure_as:
            raise CatalogueError(f"{name}: indicator {item.id!r}: field 'twin_break' needs 'same_measure_as'")


def check_populations(indicators: list[Indicator], name: str) -> None:
    """`population` names an indicator of theme "population"; an undirected indicator says why (direction_note)."""
    themes = {item.id: item.theme for item in indicators}
    for item in indicators:
        if item.population is not None and themes.get(item.population) != "population":
            raise CatalogueError(f"{name}: indicator {item.id!r}: field 'population' must name an indicator of theme "
                                 f"'population', got {item.population!r}")
        if not item.directed and not item.direction_note:
            raise CatalogueError(f"{name}: indicator {item.id!r}: field 'direction_note' must say why it is not "
                                 f"directed (directed = false)")


def check_overlaps(indicators: list[Indicator], name: str) -> None:
    """Two indicators of one dataset must not be able to claim the same observation."""
    for i, first in enumerate(indicators):
        for second in indicators[i + 1:]:
            if first.dataset != second.dataset:
                continue
            shared = first.selection.keys() & second.selection.keys()
            if all(first.selection[k] == second.selection[k] for k in shared):
                raise CatalogueError(
                    f"{name}: indicators {first.id!r} and {second.id!r} select overlapping series of "
                    f"{first.dataset} (field 'selection' must differ on a shared dimension)")


def load_catalogue_file(path: Path) -> Catalogue:
    """Read and validate a catalogue file (uncached; tests use it on their own files)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise CatalogueError(f"{path.name}: not valid TOML: {err}") from err
    return parse_catalogue(document, path)


@functools.cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    """The validated catalogue, read once per process."""
    return load_catalogue_file(Path(path) if path else CATALOGUE_PATH)


# ---------------------------------------------------------------- assigning indicator ids

class DimsIndex:
    """The `dims` map column flattened once, so each (key, code) test is a vectorised scan of the entries."""

    def __init__(self, table: pa.Table):
        dims = table.column("dims").combine_chunks() if table.num_rows else pa.array([], table.schema.field("dims").type)
        self.rows = table.num_rows
        offsets = dims.offsets.to_numpy()
        self.keys, self.items = dims.keys, dims.items
        assert len(self.keys) == offsets[-1] - offsets[0], "dims keys do not line up with the map offsets"
        # row number of every flattened (key, item) entry
        self.parents = np.repeat(np.arange(self.rows), np.diff(offsets))
        self.columns = {name: table.column(name) for name in COLUMN_KEYS}

    def matches(self, key: str, code: str) -> np.ndarray:
        """Boolean per row: the row's `key` (a column or a dims key) equals code."""
        if key in COLUMN_KEYS:
            return pc.fill_null(pc.equal(self.columns[key], pa.scalar(code, pa.string())), False).to_numpy()
        hit = pc.and_(pc.equal(self.keys, key), pc.equal(self.items, code))
        mask = np.zeros(self.rows, dtype=bool)
        mask[self.parents[pc.fill_null(hit, False).to_numpy(zero_copy_only=False)]] = True
        return mask


def selection_mask(index: DimsIndex, selection: dict[str, str]) -> np.ndarray:
    """Rows of an observation table that match every key of a selection (vectorised)."""
    mask = np.ones(index.rows, dtype=bool)
    for key, code in selection.items():
        mask &= index.matches(key, code)
    return mask


def assign_indicators(table: pa.Table, catalogue: Catalogue, dataset: str) -> pa.Table:
    """The observation table with its `indicator` column set from the catalogue's selections."""
    index = DimsIndex(table)
    ids = np.full(table.num_rows, None, dtype=object)
    for item in catalogue.indicators_of(dataset):
        mask = selection_mask(index, item.selection)
        overlap = int((mask & (ids != None)).sum())  # noqa: E711 (element-wise test on an object array)
        assert overlap == 0, f"{dataset}: {overlap} rows match {item.id!r} and an earlier indicator"
        ids[mask] = item.id
    position = table.schema.get_field_index("indicator")
    column = pa.array(ids, type=pa.string(), from_pandas=True)
    return table.set_column(position, table.schema.field("indicator"), column)
