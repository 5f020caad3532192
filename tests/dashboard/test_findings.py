"""The findings registry: shipped files validate against the catalogue; broken files are reported, not fatal."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from dash import html

from dashboard import findings
from etl.catalogue import load_catalogue
from tests.dashboard import text_of

SEED_NOTE = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "diginno-meeting-tallinn-2018-06-06.pl.txt"

GOOD = """\
id: good-one
work_package: WP4
title: A good finding
text: Something the project set out to do.
countries: [EE, NO]
indicators: [desi_overall]
chart: {page: /trends, indicator: desi_overall, geo: [EE, NO]}
source: {document: A project note, date: 2018-06-06}
date: 2018-06-06
"""


def write(folder: Path, name: str, text: str) -> Path:
    """Write one YAML file into the test's registry folder."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_finding_validates():
    registry = findings.load_findings()
    assert registry.errors == (), [str(e) for e in registry.errors]
    assert {f.work_package for f in registry.findings} == {"WP2", "WP3", "WP4"}
    assert len({f.id for f in registry.findings}) == len(registry.findings)


def test_every_linked_indicator_is_in_the_catalogue():
    catalogue = load_catalogue()
    known = {i.id for i in catalogue.indicators}
    registry = findings.load_findings()
    assert findings.check_indicators(registry, known) == []
    for finding in registry.findings:
        query = parse_qs(urlsplit(finding.chart_href).query)
        assert query["indicator"][0] in known, f"{finding.id}: evidence chart shows an unknown indicator"
        assert query["indicator"][0] in finding.indicators, f"{finding.id}: chart shows an indicator it does not link"


def test_shipped_findings_cover_the_work_packages_bearing_indicators():
    # WP2: digital intensity, SMEs selling online, cloud, AI (the scoreboard's: Eurostat's are live-only); WP3:
    # public services for business, national and cross-border availability, e-government;
    # WP4: cross-border e-commerce, DESI composite, best-practice references NL and DK.
    by_wp = {wp: set() for wp in findings.WORK_PACKAGES}
    countries = {wp: set() for wp in findings.WORK_PACKAGES}
    for f in findings.load_findings().findings:
        by_wp[f.work_package] |= set(f.indicators)
        countries[f.work_package] |= set(f.countries)
    assert {"sme_basic_digital_intensity", "desi_sme_selling_online", "dd_enterprises_cloud", "dd_enterprises_ai"} <= by_wp["WP2"]
    assert {"desi_public_services_business", "dd_egov_users", "egov_o_av_bus", "egov_cb_o_av_bus"} <= by_wp["WP3"]
    assert {"desi_sme_selling_cross_border", "desi_overall"} <= by_wp["WP4"]
    assert {"NL", "DK"} <= countries["WP4"]
    assert countries["WP2"] >= {"NO"}, "Norway must survive YAML (NO is not a boolean here)"


def test_shipped_findings_cite_the_tallinn_note_and_its_date():
    note = SEED_NOTE.read_text(encoding="utf-8")
    assert "6 czerwca 2018" in note  # the independent reading of the document's date
    for f in findings.load_findings().findings:
        assert f.source.date == dt.date(2018, 6, 6) and f.date == dt.date(2018, 6, 6), f.id
        assert f.source.file == SEED_NOTE.name, f.id


def test_malformed_files_name_file_and_field_while_others_load(tmp_path):
    write(tmp_path, "a_good.yaml", GOOD)
    write(tmp_path, "b_bad_wp.yaml", GOOD.replace("good-one", "bad-wp").replace("WP4", "WP9"))
    write(tmp_path, "c_missing_title.yaml", GOOD.replace("good-one", "no-title").replace("title: A good finding\n", ""))
    write(tmp_path, "d_broken.yaml", "id: [unclosed\n")
    write(tmp_path, "e_duplicate.yaml", GOOD)
    write(tmp_path, "f_bad_date.yaml", GOOD.replace("good-one", "bad-date").replace("date: 2018-06-06\n", "date: soon\n"))
    write(tmp_path, "g_typo.yaml", GOOD.replace("good-one", "typo").replace("indicators:", "indicator:"))
    write(tmp_path, "h_many.yaml", "findings:\n  - " + GOOD.replace("good-one", "many-1").replace("\n", "\n    ")
          + "\n  - " + GOOD.replace("good-one", "many-2").replace("countries: [EE, NO]", "countries: [Estonia]")
          .replace("\n", "\n    "))
    registry = findings.load_findings(tmp_path)
    assert sorted(f.id for f in registry.findings) == ["good-one", "many-1"]
    errors = {e.file: e for e in registry.errors}
    assert errors["b_bad_wp.yaml"].field == "work_package" and "WP9" in errors["b_bad_wp.yaml"].reason
    assert errors["c_missing_title.yaml"].field == "title" and errors["c_missing_title.yaml"].reason == "missing"
    assert "not valid YAML" in errors["d_broken.yaml"].reason and errors["d_broken.yaml"].field.startswith("line ")
    assert errors["e_duplicate.yaml"].field == "id" and "a_good.yaml" in errors["e_duplicate.yaml"].reason
    assert errors["f_bad_date.yaml"].field == "date"
    assert errors["g_typo.yaml"].field in ("indicators", "indicator")
    assert errors["h_many.yaml"].field.startswith("findings[1].countries[0]")
    assert all(str(e).startswith(f"{e.file}: {e.field}: ") for e in registry.errors)
    assert errors["b_bad_wp.yaml"].finding == "bad-wp" and "(finding bad-wp)" in str(errors["b_bad_wp.yaml"])


def test_unknown_indicator_is_reported_with_file_and_position(tmp_path):
    write(tmp_path, "one.yaml", GOOD.replace("indicators: [desi_overall]", "indicators: [desi_overall, no_such_thing]"))
    [error] = findings.check_indicators(findings.load_findings(tmp_path), {"desi_overall"})
    assert error.file == "one.yaml" and error.field == "indicators[1]" and "no_such_thing" in error.reason


def test_registry_is_lazy_and_rereads_edited_files(tmp_path):
    path = write(tmp_path, "one.yaml", GOOD)
    assert findings.registry(tmp_path).findings[0].title == "A good finding"
    path.write_text(GOOD.replace("A good finding", "An edited finding, longer"), encoding="utf-8")
    assert findings.registry(tmp_path).findings[0].title == "An edited finding, longer"


def test_select_and_chart_href():
    f = findings.parse_finding(yaml.safe_load(GOOD.replace("[EE, NO]", "[EE, LV]")), "x.yaml")
    assert f.chart_href == "/trends?indicator=desi_overall&geo=EE,LV"
    assert findings.select([f], work_packages=["WP4"], geos=["LV"]) == [f]
    assert findings.select([f], work_packages=["WP2"]) == []
    assert findings.select([f], indicators=["internet_use"]) == []




def test_side_panel_lists_findings_for_what_is_on_screen(monkeypatch, tmp_path):
    from dashboard import side_panel
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path))  # no database here: insights say so, findings still show
    panel = side_panel.side_panel(["desi_public_services_business"], ["EE"])
    text = text_of(panel)
    assert isinstance(panel, html.Div)
    assert "Which digital services do public administrations offer businesses today?" in text
    assert "Promoting a transnational model" not in text  # a WP4 finding about other indicators
    assert "Insights are unavailable" in text


def test_findings_page_filters_by_theme_from_the_catalogue(dsm_env, is_standin):
    if is_standin:
        pytest.skip("themes come from the real catalogue; the stand-in database has only synthetic ones")
    import dashboard.app  # noqa: F401  (pages register only once an app exists)
    from dashboard.pages import findings as page
    # digital_public_services is the theme of desi_public_services_business / egov users: the WP3 findings
    chosen = page.filtered([], [], ["digital_public_services"])
    assert {f.work_package for f in chosen} == {"WP3"} and len(chosen) == 2
    # cross_border: WP4's cooperation finding (desi_sme_selling_cross_border) and WP3's two (the eGovernment
    # Benchmark's cross-border availability)
    assert [f.id for f in page.filtered([], [], ["cross_border"])] == ["wp3-g2b-services-today",
                                                                      "wp3-cross-border-standard-and-criteria",
                                                                      "wp4-transnational-cooperation"]
    assert [f.id for f in page.filtered(["WP2"], ["FI"], [])] == ["wp2-ict-use-needs-assessment",
                                                                   "wp2-case-studies-and-study-visits"]
    assert page.filtered(["WP3"], ["NL"], []) == []


def test_findings_page_shows_analysts_the_broken_files(dsm_env, tmp_path, monkeypatch):
    import dashboard.app  # noqa: F401  (pages register only once an app exists)
    from dashboard.pages import findings as page
    write(tmp_path, "good.yaml", GOOD)
    write(tmp_path, "bad.yaml", GOOD.replace("good-one", "bad-one").replace("WP4", "WP7"))
    monkeypatch.setattr(findings, "FINDINGS_DIR", tmp_path)
    layout = page.layout(wp="WP4")
    text = text_of(layout)
    assert "bad.yaml: work_package: must be one of WP2, WP3, WP4, got 'WP7' (finding bad-one)" in text
    assert "A good finding" in text and "1 finding" in text


def test_side_panel_callback_takes_what_the_view_state_holds(monkeypatch, tmp_path):
    from dashboard import side_panel
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path))
    shown = text_of(side_panel.fill_side_panel({"indicator": "desi_overall", "geos": ["NL"]}))
    assert "Best practice in digitalisation policy" in shown  # WP4 names NL as a reference
    everything = text_of(side_panel.fill_side_panel(None))  # nothing on screen narrows the list: all findings
    assert all(f.title in everything for f in findings.load_findings().findings)
    for odd in ([], {"geos": 5}, {"indicator": {"x": 1}, "geos": [None, 3]}, {"indicators": "desi_overall"}):
        assert text_of(side_panel.fill_side_panel(odd)) == everything, odd  # malformed parts are ignored


@pytest.mark.parametrize("change, field, reason", [
    (("countries: [EE, NO]", "countries: []"), "countries", "must be a non-empty list"),
    (("document: A project note, ", "documnt: A project note, "), "source.document", "missing"),
    (("geo: [EE, NO]}", "geo: [EE, {a: 1}]}"), "chart.geo", "must be text"),
    (("{page: /trends", "{page: trends"), "chart.page", "not a valid code or path"),
    (("title: A good finding", "title: '  '"), "title", "must be non-empty text"),
    (("id: good-one", "id: Good One"), "id", "not a valid code or path"),
])
def test_each_bad_field_is_named_the_way_the_yaml_reads(change, field, reason):
    """pydantic's error locations and types become the YAML's path and an analyst's words."""
    with pytest.raises(findings._FieldError) as caught:
        findings.parse_finding(yaml.load(GOOD.replace(*change), Loader=findings._Loader), "x.yaml")
    assert caught.value.field_path == field and caught.value.reason.startswith(reason)
