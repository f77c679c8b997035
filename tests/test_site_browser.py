"""The website of `gpbench site` in a real browser: headless Chromium through Selenium and the
system's chromedriver (Debian: ``apt-get install chromium chromium-driver``).

Pages load without console errors, a click on a column header reorders the rows, a filter
hides rows, every image has loaded (naturalWidth > 0), and screenshots of the board across
datasets and of a dataset page are written to ``tmp_path`` (and copied to $GPBENCH_ARTEFACTS
when set). Skipped, with the reason, when selenium, chromium or chromedriver is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gpbench.site import build_site
from tests.site_helpers import simulated_runs

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install selenium)")

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium browser on PATH "
                       "(apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(DRIVER is None, reason="no chromedriver on PATH "
                       "(apt-get install chromium-driver)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("site-browser")
    return build_site(simulated_runs(base), base / "site")


@pytest.fixture(scope="module")
def driver():
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--allow-file-access-from-files"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> list[Path]:
    """Directories the screenshots go to: a temporary one, and $GPBENCH_ARTEFACTS when set."""
    dirs = [tmp_path_factory.mktemp("site-screenshots")]
    if os.environ.get("GPBENCH_ARTEFACTS"):
        extra = Path(os.environ["GPBENCH_ARTEFACTS"])
        extra.mkdir(parents=True, exist_ok=True)
        dirs.append(extra)
    return dirs


def _open(driver, path: Path) -> list[dict]:
    """Load ``path`` and return the browser console entries it logged."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.title, path
    return driver.get_log("browser")


def _no_errors(logs: list[dict], path: Path) -> None:
    errors = [e for e in logs if e.get("level") in ("SEVERE", "ERROR")]
    assert not errors, f"console errors on {path.name}: {errors}"


def _images_loaded(driver) -> int:
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
        "i.naturalWidth]);")
    for src, complete, width in images:
        assert complete and width > 0, f"image {src} did not load"
    return len(images)


def _screenshot(driver, name: str, dirs: list[Path]) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(int(height), 800), 6000))
    driver.execute_script("window.scrollTo(0, 0);")
    first = dirs[0] / name
    assert driver.save_screenshot(str(first))
    for d in dirs[1:]:
        shutil.copy(first, d / name)
    driver.set_window_size(1400, 1000)
    assert first.stat().st_size > 10_000
    return first


def _column(driver, table_id: str, col: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.getElementById(arguments[0]).tBodies[0].rows)"
        ".map(r => r.cells[arguments[1]].getAttribute('data-sort'));", table_id, col)


def test_every_page_loads_without_console_errors(site, driver):
    pages = [site.index, site.out_dir / "protocol.html", *site.datasets.values(),
             *site.models.values()]
    for path in pages:
        _no_errors(_open(driver, path), path)
        _images_loaded(driver)
        # the script ran: it fills the row counts next to the filters
        counts = driver.execute_script(
            "return Array.from(document.querySelectorAll('[data-count-for]'))"
            ".map(e => e.textContent);")
        assert all(c.endswith(" rows") for c in counts), (path, counts)


def test_cross_board(site, driver, artefacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _no_errors(_open(driver, site.index), site.index)
    assert _images_loaded(driver) >= 1  # the CD diagram
    # sort the summary by mean R²: ascending, then descending
    header = driver.find_element(By.CSS_SELECTOR, "#cross-summary th[data-col='4'] button")
    header.click()
    values = [float(v) for v in _column(driver, "cross-summary", 4)]
    assert values == sorted(values)
    header.click()
    values = [float(v) for v in _column(driver, "cross-summary", 4)]
    assert values == sorted(values, reverse=True)
    # the dataset filter of R² per task hides the other dataset's tasks
    rows = driver.find_elements(By.CSS_SELECTOR, "#cross-r2 tbody tr")
    assert len(rows) == 4 and all(r.is_displayed() for r in rows)
    Select(driver.find_element(By.CSS_SELECTOR, "select[data-filter-for='cross-r2']")
           ).select_by_value("sim (sim-large)")
    shown = [r for r in rows if r.is_displayed()]
    assert len(shown) == 2 and all(r.get_attribute("data-dataset") == "sim (sim-large)"
                                   for r in shown)
    count = driver.find_element(By.CSS_SELECTOR, "[data-count-for='cross-r2']").text
    assert count == "2 of 4 rows"
    Select(driver.find_element(By.CSS_SELECTOR, "select[data-filter-for='cross-r2']")
           ).select_by_value("")
    assert all(r.is_displayed() for r in rows)
    _no_errors(driver.get_log("browser"), site.index)
    _screenshot(driver, "site-cross-board.png", artefacts)


def test_dataset_page(site, driver, artefacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    path = site.datasets["sim (sim-small)"]
    _no_errors(_open(driver, path), path)
    table = driver.find_element(By.CSS_SELECTOR, "table.board[id^='board-']")
    tid = table.get_attribute("id")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 8  # 2 traits x 4 models
    # sorting by R² mean (column 4) reorders the rows (they start grouped by trait)
    before = [r.get_attribute("data-trait") + r.get_attribute("data-model") for r in
              table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    table.find_element(By.CSS_SELECTOR, "th[data-col='4'] button").click()
    after_rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    after = [r.get_attribute("data-trait") + r.get_attribute("data-model") for r in after_rows]
    values = [float(v) for v in _column(driver, tid, 4)]
    assert values == sorted(values) and after != before
    th = table.find_element(By.CSS_SELECTOR, "th[data-col='4']")
    assert th.get_attribute("aria-sort") == "ascending"
    # the trait filter hides the other trait's rows and figures
    Select(driver.find_element(By.CSS_SELECTOR, f"select[data-filter-for='{tid}']"
                                                "[data-filter-key='trait']")
           ).select_by_value("trait1")
    shown = [r for r in after_rows if r.is_displayed()]
    assert len(shown) == 4 and {r.get_attribute("data-trait") for r in shown} == {"trait1"}
    figures = driver.find_elements(By.CSS_SELECTOR, f"figure[data-filter-scope='{tid}']")
    assert [f.is_displayed() for f in figures] == [f.get_attribute("data-trait") == "trait1"
                                                   for f in figures]
    # the family filter: "linear" keeps all four (ridge, gblup, lasso, mean)
    family = Select(driver.find_element(
        By.CSS_SELECTOR, f"select[data-filter-for='{tid}'][data-filter-key='family']"))
    family.select_by_value("linear")
    assert len([r for r in after_rows if r.is_displayed()]) == 4
    # the metric filter hides the other metrics' columns
    Select(driver.find_element(By.CSS_SELECTOR, f"select[data-metric-for='{tid}']")
           ).select_by_value("pcc")
    assert not table.find_element(By.CSS_SELECTOR, "th[data-metric='r2']").is_displayed()
    assert table.find_element(By.CSS_SELECTOR, "th[data-metric='pcc']").is_displayed()
    for sel in driver.find_elements(By.CSS_SELECTOR, "select"):
        Select(sel).select_by_value("")
    assert all(r.is_displayed() for r in after_rows)
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    _no_errors(driver.get_log("browser"), path)
    _screenshot(driver, "site-dataset-page.png", artefacts)


def test_escaped_names_stay_text_in_the_browser(site, driver, tmp_path):
    """A trait named ``<script>alert(1)</script>`` shows as text and runs nothing."""
    from gpbench.boards.exports import run_tables
    from gpbench.site import build_site_from, load_runs

    evil = "<script>alert(1)</script>"
    pages = load_runs([Path(site.datasets["sim (sim-small)"]).parents[2] / "sim-small"])
    p = pages[0]
    for rec in p.records:
        for key in ("metrics", "predictions"):
            if "trait1" in (rec.get(key) or {}):
                rec[key][evil] = rec[key].pop("trait1")
        rec["traits"] = [evil if t == "trait1" else t for t in rec["traits"]]
    p.tables = run_tables(p.run, p.records)
    out = build_site_from(pages, tmp_path / "evil")
    path = next(iter(out.datasets.values()))
    logs = _open(driver, path)
    _no_errors(logs, path)
    # an alert would leave an open dialog (and fail the next command); the name is shown
    from selenium.webdriver.common.by import By

    cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "table.board tbody td")]
    assert evil in cells
    assert driver.execute_script("return document.querySelectorAll('script').length") == 1
