"""Every code the catalogue asks Eurostat for exists: in the dataset's recorded files, or (live-only codes) in
Eurostat's code lists under etl/codelists. The real service answers 400 INVALID_QUERY_DIMENSION_VALUE otherwise."""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

from etl import codelists
from etl.catalogue import CATALOGUE_PATH, load_catalogue
from etl.formats import registry
from etl.sources.recorded import RecordedSource


@pytest.fixture(scope="module")
def recorded_codes(shared_data) -> dict[str, dict[str, set[str]]]:
    """dataset -> dimension -> codes present in its recorded files (decoded by the real decoders)."""
    catalogue = load_catalogue()
    source = RecordedSource(shared_data, set(catalogue.datasets))
    found: dict[str, dict[str, set[str]]] = {}
    for dataset in sorted(source.datasets()):
        codes: dict[str, set[str]] = defaultdict(set)
        for path in source.files_for(dataset):
            name = source.format_of(path) or registry.for_file_name(path.name).name
            obs = registry.decode(name, path.read_bytes(), path.name, dataset=dataset).observations
            codes["unit"] |= set(obs["unit"].dropna().astype(str))
            for dims in obs["dims"].drop_duplicates() if hasattr(obs["dims"], "drop_duplicates") else obs["dims"]:
                for dim, code in (dims or {}).items():
                    codes[dim].add(str(code))
        found[dataset] = dict(codes)
    return found


def asked_codes() -> list[tuple[str, str, str, str]]:
    """(dataset, dimension, code, where) for every live filter and every indicator selection."""
    catalogue = load_catalogue()
    asked = [(code, dim, value, f"[datasets.{code}] live_filters")
             for code, entry in catalogue.datasets.items() for dim, values in entry.live_filters.items()
             for value in values]
    asked += [(item.dataset, dim, value, f"indicator {item.id}") for item in catalogue.indicators
              if catalogue.datasets[item.dataset].live_format for dim, value in item.selection.items()]
    return asked


def unknown_codes(recorded_codes, asked=None) -> list[str]:
    """Asked codes neither a recording of the dataset nor Eurostat's code list of the dimension holds."""
    unknown = []
    for dataset, dim, code, where in asked_codes() if asked is None else asked:
        in_recording = code in recorded_codes.get(dataset, {}).get(dim, set())
        in_codelist = dim in codelists.available_dimensions() and code in codelists.codelist(dim)
        if not (in_recording or in_codelist):
            unknown.append(f"{where}: {dim}={code}")
    return unknown


def marked_unverified() -> set[str]:
    """Codes on catalogue lines marked '# code unverified' (live-only: no recording or code list here holds them)."""
    lines = CATALOGUE_PATH.read_text("utf-8").splitlines()
    return {code for line in lines if line.rstrip().endswith("# code unverified")
            for code in re.findall(r'"([^"]+)"', line.split("#")[0])}


def test_every_asked_code_exists_or_is_marked_unverified(recorded_codes):
    marked = marked_unverified()
    unknown = [item for item in unknown_codes(recorded_codes) if item.rsplit("=", 1)[1] not in marked]
    assert unknown == [], "codes no recording or code list holds, and not marked '# code unverified':\n" + \
        "\n".join(unknown)


def test_the_check_catches_a_code_that_is_not_a_code_of_its_dimension(recorded_codes):
    # The old isoc_ci_ifp_iu filter: I_ILT12 is part of the unit PC_IND_ILT12, not an indic_is code.
    old = [("isoc_ci_ifp_iu", "indic_is", "I_IU3", "old filter"), ("isoc_ci_ifp_iu", "indic_is", "I_ILT12", "old filter")]
    assert unknown_codes(recorded_codes, old) == ["old filter: indic_is=I_ILT12"]
    assert "I_ILT12" not in marked_unverified()
