"""Issue 11, item 14: the chart in headless Chromium. A link opens an account, a person or a
search (``#account=ID``, ``#person=ID``, ``#q=TEXT``), hostile ids and links stay text; the
figures come in ``kam rollup``'s order and are written as the CLI writes them; the search box's
placeholder fits. Screenshots land in test-artifacts/."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from kamcore import Account, Org, Person
from kamcore.chart import chart_data, render_chart
from kamcore.rollup.render import format_number
from tests.test_chart import ARTIFACTS, _browse, run

HOSTILE_ID = '"><img src=x onerror="document.body.dataset.pwned=1">'
HOSTILE_NAME = "<b>Bold</b> & <script>document.body.dataset.pwned=1</script>"


@pytest.fixture
def acme_page(acme_path: Path, tmp_path: Path) -> Path:
    page = tmp_path / "acme.html"
    assert run("chart", str(acme_path), "-o", str(page)).exit_code == 0
    return page


def test_a_link_opens_an_account_with_the_cli_s_figures(acme_path, acme_page, tmp_path):
    shot = ARTIFACTS / "chart-link-account.png"
    seen = _browse(acme_page, "", tmp_path, shot, fragment="account=ACME-DE-BER")
    assert seen["found"] is True and seen["revealed"] is True
    assert seen["view"] == "accounts" and seen["highlighted"] == ["Acme Berlin"]
    # the figures: the metrics kam rollup shows, in its order, written as it writes them
    result = run("rollup", str(acme_path), "--format", "json")
    data = json.loads(result.stdout)
    row = next(r for r in data["rows"] if r["id"] == "ACME-DE-BER")
    columns = {c["key"]: c for c in data["columns"]}
    totals = [columns[f"{m}_total"] for m in data["metrics"][:3]]
    assert [label for label, _ in seen["figures"]] == [
        c["label"].removesuffix(f" ({data['currency']})") for c in totals]
    assert [value for _, value in seen["figures"]] == [
        format_number(row[c["key"]], c["kind"])
        + (f" {data['currency']}" if c["kind"] == "money" else "") for c in totals]
    assert shot.exists() and shot.stat().st_size > 10_000


def test_a_link_opens_a_search_or_a_person(acme_page, tmp_path):
    shot = ARTIFACTS / "chart-link-search.png"
    seen = _browse(acme_page, "", tmp_path, shot, fragment="q=Berlin")
    assert seen["search"] == "Berlin" and seen["results"] >= 3  # Acme Berlin and its shops
    assert shot.exists()
    seen = _browse(acme_page, "", tmp_path, fragment="q=" + quote("Acme Berlin 01"))
    assert seen["search"] == "Acme Berlin 01"  # a space in a link is %20
    seen = _browse(acme_page, "", tmp_path, fragment="person=KAM-ACME-DE")
    assert seen["found"] is True and seen["view"] == "people"
    assert seen["highlighted"] == ["Marco Iyer"]
    seen = _browse(acme_page, "", tmp_path, fragment="account=NO-SUCH-ID")
    assert seen["found"] is False and seen["search"] == "NO-SUCH-ID" and seen["results"] == 0


def test_hostile_ids_and_links_stay_text(tmp_path):
    """An id or name from a file, and a link someone sends, are never markup or code."""
    org = Org.build(accounts=[Account(id="SAFE", name="Safe Co", tier="key", manager="P1"),
                              Account(id=HOSTILE_ID, name=HOSTILE_NAME, tier="regular",
                                      parent="SAFE", manager="P1")],
                    people=[Person(id="P1", name="Pat <i>Owner</i>", role="kam")])
    page = tmp_path / "hostile.html"
    page.write_text(render_chart(org))
    dom: dict[str, str] = {}
    seen = _browse(page, "", tmp_path, ARTIFACTS / "chart-hostile-link.png",
                   fragment="account=" + quote(HOSTILE_ID, safe=""), keep_dom=dom)
    assert seen["found"] is True and seen["highlighted"] == [HOSTILE_NAME]
    for fragment in ("q=" + quote(HOSTILE_NAME, safe=""), "account=%E0%A4%A",
                     "q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "person=" + quote(HOSTILE_ID)):
        seen = _browse(page, "", tmp_path, fragment=fragment, keep_dom=dom)
        assert seen["fragment"] in ("q", "account", "person")
        assert "data-pwned" not in dom["text"] and "<img" not in dom["text"]
        assert "<b>Bold</b>" not in dom["text"] and "<i>Owner</i>" not in dom["text"]
    assert seen["search"] == HOSTILE_ID  # not found as a person: searched for, as text


def test_amounts_are_written_one_way_as_the_cli_writes_them(acme_page, tmp_path):
    """One formatter: 1,000,000 beside 1,766,488, never "1M" beside "1.8M"."""
    # ties (2.5, 0.125) go to the even digit and 12.345 (just above in binary) up, as in
    # Python; Intl.NumberFormat alone gets one or the other wrong
    probes = [1234567.8, 1_000_000.0, 1_766_488.0, 2.5, 3.5, -1234.5, 0.125, 0.0449, 12.345,
              999.995, 0.005, -0.4, 7.0, None]
    fragment = "formats=" + ";".join("null" if v is None else repr(v) for v in probes)
    seen = _browse(acme_page, "", tmp_path, fragment=fragment)
    for kind in ("money", "int", "ratio", "number"):
        assert seen["formats"][kind] == [format_number(v, kind) for v in probes], kind


def test_the_search_box_placeholder_fits_in_both_views(acme_page, tmp_path):
    for view in ("accounts", "people"):
        seen = _browse(acme_page, "", tmp_path, ARTIFACTS / f"chart-search-box-{view}.png",
                       fragment=f"view={view}")
        assert seen["view"] == view and seen["placeholderFits"] is True


def test_the_chart_shows_the_metrics_in_the_cli_s_order(acme_path):
    from kamcore.workspace.tables import read_workspace

    data = chart_data(read_workspace(acme_path))
    assert [m["name"] for m in data["metrics"]] == ["revenue", "orders", "receivables"]
    assert [m["kind"] for m in data["metrics"]] == ["money", "int", "money"]
