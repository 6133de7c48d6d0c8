"""kam chart: one self-contained HTML file; opened in headless Chromium when it is installed."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore import Account, Org, Person
from kamcore.chart import chart_data, render_chart
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def big_org(globals_: int = 20) -> Org:
    """20 globals x 5 nationals x 10 keys x 10 regulars: 11,120 accounts."""
    countries = ["DE", "FR", "GB", "US", "JP"]
    accounts, people = [], [Person(id="VP", name="Vera VP", role="vp")]
    for g in range(globals_):
        gid = f"G{g}"
        people.append(Person(id=f"GAM{g}", name=f"Gam {g}", role="gam", reports_to="VP"))
        accounts.append(Account(id=gid, name=f"Global {g}", tier="global", manager=f"GAM{g}"))
        for n, country in enumerate(countries):
            nid = f"{gid}-{country}"
            accounts.append(Account(id=nid, name=f"Global {g} {country}", tier="national",
                                    parent=gid, manager=f"GAM{g}", country=country))
            for k in range(10):
                kid = f"{nid}-K{k}"
                accounts.append(Account(id=kid, name=f"Key {g}.{n}.{k}", tier="key", parent=nid,
                                        manager=f"GAM{g}", country=country))
                accounts.extend(
                    Account(id=f"{kid}-R{r}", name=f"Shop {g}.{n}.{k}.{r}", tier="regular",
                            parent=kid, manager=f"GAM{g}", country=country,
                            metrics={"revenue": 1000.0 * (r + 1)})
                    for r in range(10))
    return Org.build(accounts=accounts, people=people)


def test_chart_is_self_contained(acme_path: Path, tmp_path: Path):
    out = tmp_path / "chart.html"
    result = run("chart", str(acme_path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "94 accounts, 54 people" in result.output
    # without the industry plugins the facts name metrics nobody declares: those rows are
    # left out (kam validate warns, KAM153) and the totals still come from the rollup
    assert "warning" not in result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "fetch(" not in page
    assert "default-src 'none'" in page  # CSP: the page cannot reach the network
    data = json.loads(re.search(r'<script type="application/json" id="kam-data">(.*?)</script>',
                                page, re.S).group(1))
    assert len(data["accounts"]["id"]) == 94 and len(data["people"]["id"]) == 54
    assert [m["name"] for m in data["metrics"]] == ["revenue", "orders", "receivables"]
    acme = data["accounts"]["id"].index("ACME")
    assert data["accounts"]["totals"][0][acme] > 0  # rolled up from the subtree


def test_data_cannot_break_out_of_the_script():
    org = Org.build(accounts=[Account(id="X", name="</script><script>alert(1)</script>",
                                      tier="key")])
    page = render_chart(org, title="__DATA__ & <b>")
    assert "<title>__DATA__ &amp; &lt;b&gt;</title>" in page
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == 2  # the data blob and the code


def test_chart_values_are_the_rollups():
    org = Org.build(accounts=[
        Account(id="G", name="G", tier="global", metrics={"revenue": 1.0}),
        Account(id="N", name="N", tier="national", parent="G", metrics={"revenue": 10.0}),
        Account(id="K", name="K", tier="key", parent="N", metrics={"revenue": 100.0},
                currency="EUR"),
        Account(id="L", name="L", tier="key", parent="G")])
    # the org reports in USD and has no FX rate for EUR: the rollup refuses, and the chart
    # shows no totals rather than sums that mix currencies
    data = chart_data(org)
    assert data["totalsFrom"] == "none" and "no FX rate for EUR" in data["totalsProblem"]
    assert data["accounts"]["totals"] == [[None, None, None, None]]
    org = org.replace(accounts={**org.accounts, "K": org.accounts["K"].model_copy(
        update={"currency": None})})
    data = chart_data(org)
    assert data["totalsFrom"] == "rollup"
    assert data["accounts"]["totals"] == [[111.0, 110.0, 100.0, None]]
    assert data["accounts"]["own"] == [[1.0, 10.0, 100.0, None]]
    assert data["accounts"]["parent"] == [-1, 0, 1, 0]


def test_unknown_metric(acme_path: Path, tmp_path: Path):
    result = run("chart", str(acme_path), "--metric", "margin", "-o", str(tmp_path / "c.html"))
    assert result.exit_code == 2 and "no metric 'margin'" in result.output
    assert "hint: known metrics: " in result.output and "did you mean" not in result.output
    result = run("chart", str(acme_path), "--metric", "revnue", "-o", str(tmp_path / "c.html"))
    assert result.exit_code == 2 and result.output.startswith(
        "Error: [KAM-N001] no metric 'revnue' in this org\n"
        "  hint: did you mean 'revenue'? known metrics: ")
    assert not (tmp_path / "c.html").exists()


def test_the_command_builds_no_org(acme_path: Path, tmp_path: Path, monkeypatch):
    """kam chart works from the reader's tables: no pydantic record per account."""
    import kamcore.workspace.objects as objects

    def refuse(*args, **kwargs):
        raise AssertionError("kam chart built an Org")

    monkeypatch.setattr(objects, "org_from_tables", refuse)
    monkeypatch.setattr(objects, "records_of", refuse)
    out = tmp_path / "chart.html"
    result = run("chart", str(acme_path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "94 accounts, 54 people" in result.output


def test_tables_and_org_give_the_same_page(acme_path: Path, tmp_path: Path):
    """One implementation: the Org is turned into the reader's tables; the page embeds
    byte for byte what json.dumps makes of chart_data."""
    import kamcore
    from kamcore.chart import chart_columns
    from kamcore.workspace.tables import read_workspace

    out = tmp_path / "chart.html"
    assert run("chart", str(acme_path), "-o", str(out)).exit_code == 0
    embedded = re.search(r'id="kam-data">(.*?)</script>', out.read_text(), re.S).group(1)
    pm = get_plugin_manager(load_entrypoints=False)
    from_org = chart_data(kamcore.load(acme_path, pm=pm))
    from_tables = chart_data(read_workspace(acme_path, pm=pm))
    assert from_org == from_tables == json.loads(embedded)
    assert embedded == json.dumps(from_tables, ensure_ascii=False,
                                  separators=(",", ":")).replace("<", "\\u003c")
    # cells json.dumps escapes, "<", non-ASCII, floats repr writes in several ways, loops
    org = Org.build(accounts=[
        Account(id="X", name='</script>"q\\ \u00e9 \u2028 \u65e5', tier="key",
                metrics={"revenue": -0.0}),
        Account(id="Y", name="tab\there", tier="global", metrics={"revenue": 1e17}),
        Account(id="Z", name="z<", tier="global", parent="Z", metrics={"revenue": 0.1 + 0.2}),
        Account(id="W", name="w", tier="national", parent="Z", manager="Q",
                metrics={"revenue": 1e-7}),
        Account(id="V", name="v", tier="national", parent="W", metrics={"revenue": 12.0})],
        people=[Person(id="P", name="P", role="kam", reports_to="Q"),
                Person(id="Q", name="Q<", role="vp", reports_to="P", active=False)])
    columns = chart_columns(org)
    fast = b"".join(columns.json_pieces()).decode()
    from kamcore.chart import _parents_acyclic

    slow = json.dumps(_parents_acyclic(columns.to_data()), ensure_ascii=False,
                      separators=(",", ":")).replace("<", "\\u003c")
    assert fast == slow
    assert json.loads(fast)["people"]["reportsTo"] in ([1, -1], [-1, 0])  # the loop is cut


def test_duplicates_keep_the_first_and_say_why_there_are_no_totals(tmp_path: Path):
    """Like the Org, the page keeps the first record of an id; the rollup refuses the
    duplicate (as kam rollup does) and the page and the warning name the first problem."""
    ws = tmp_path / "ws"
    assert run("init", str(ws)).exit_code == 0
    (ws / "accounts.csv").write_text(
        "id,name,tier,parent,manager,revenue\n"
        "G,Group,global,,,\nN,Nation,national,G,,10\nN,Nation again,national,G,,99\n"
        "K,Key,key,N,,5\n")
    (ws / "people.csv").write_text("id,name,role\n")
    out = tmp_path / "chart.html"
    result = run("chart", str(ws), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "duplicate account id 'N' [KAM101]" in result.output
    data = json.loads(re.search(r'id="kam-data">(.*?)</script>', out.read_text(),
                                re.S).group(1))
    assert data["accounts"]["id"] == ["G", "N", "K"]
    assert data["accounts"]["name"][1] == "Nation"
    assert data["accounts"]["parent"] == [-1, 0, 1]
    assert "KAM101" in data["totalsProblem"] and data["totalsFrom"] == "none"


# -- in a real browser ----------------------------------------------------------------------

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless browser test skipped: no chromium on PATH (Debian: apt-get install "
                "chromium; .ci/run installs it)")


def _browse(page: Path, query: str, tmp_path: Path, screenshot: Path | None = None, *,
            fragment: str | None = None, keep_dom: dict[str, str] | None = None) -> dict:
    """Open the page (``#selftest=QUERY``, or ``#FRAGMENT``) and return its self-test report
    (``keep_dom["text"]``: the page's DOM as Chromium dumped it)."""
    browser = _chromium()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=5000", "--window-size=1400,1000"]
    url = f"{page.as_uri()}#{fragment or f'selftest={query}'}"
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120)
    if keep_dom is not None:
        keep_dom["text"] = dom.stdout
    found = re.search(r'<pre id="selftest">(.*?)</pre>', dom.stdout, re.S)
    assert found and found.group(1), f"no self-test result; stderr: {dom.stderr[-2000:]}"
    if screenshot is not None:
        screenshot.parent.mkdir(exist_ok=True)
        subprocess.run([*flags, f"--screenshot={screenshot}", url], capture_output=True,
                       timeout=120)
    return json.loads(html.unescape(found.group(1)))


def test_chart_in_headless_chromium(acme_path: Path, tmp_path: Path):
    page = tmp_path / "acme.html"
    assert run("chart", str(acme_path), "-o", str(page)).exit_code == 0
    shot = ARTIFACTS / "chart-acme.png"
    seen = _browse(page, "Berlin", tmp_path, shot)
    assert seen["accounts"] == 94 and seen["people"] == 54
    assert seen["rootsRendered"] == 6  # four globals, a national and a key account
    assert seen["firstResult"] == "Acme Berlin" and seen["revealed"] is True
    assert seen["highlightedName"] == "Acme Berlin"
    assert seen["peopleNodesRendered"] >= 1
    assert shot.exists() and shot.stat().st_size > 10_000
    people = ARTIFACTS / "chart-acme-managers.png"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'p2'}",
                    "--virtual-time-budget=5000", "--window-size=1400,1000",
                    f"--screenshot={people}", f"{page.as_uri()}#view=people"],
                   capture_output=True, timeout=120)
    assert people.exists() and people.stat().st_size > 10_000


def test_chart_stays_lazy_at_ten_thousand_accounts(tmp_path: Path):
    org = big_org()
    page = tmp_path / "big.html"
    page.write_text(render_chart(org, title="Ten thousand accounts"))
    seen = _browse(page, "Shop 17.3.8.9", tmp_path, ARTIFACTS / "chart-10k.png")
    assert seen["accounts"] == 11_120
    assert seen["revealed"] is True and seen["highlightedName"] == "Shop 17.3.8.9"
    # only the roots and the revealed branch exist in the DOM, not 11,120 nodes
    assert seen["nodesRendered"] < 100


def test_search_reveals_accounts_beyond_the_first_page(tmp_path: Path):
    accounts = []
    for n in range(300):  # 300 roots: the page shows 200, then "show 100 more"
        accounts.append(Account(id=f"R{n}", name=f"Root {n}", tier="national", country="DE"))
        accounts.append(Account(id=f"R{n}-A", name=f"Branch {n}", tier="key", parent=f"R{n}",
                                country="DE"))
    page = tmp_path / "wide.html"
    page.write_text(render_chart(Org.build(accounts=accounts)))
    seen = _browse(page, "Branch 287", tmp_path)
    assert seen["rootsRendered"] == 200
    assert seen["revealed"] is True and seen["highlightedName"] == "Branch 287"
