"""The published pages in headless Chromium: home, a search for 重点项目, a metric compared across regions,
a paragraph with a marked span and the chart. Screenshots go to artifacts/."""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from test_serve import server  # noqa: F401  (the session's running `gongbao serve`)

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ERROR_WORDS = ["Traceback", "Internal Server Error", "Invalid SQL", "Error 500", "no such table", "no such column"]


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromedriver are not installed")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gongbao-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1000",
                 "--lang=zh-CN"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(browser, path: Path) -> None:
    """A PNG of the whole page (beyond the viewport) through the DevTools protocol."""
    import base64

    try:
        size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
    except Exception:  # an older driver without CDP: the viewport only
        browser.save_screenshot(str(path))


def open_page(browser, url: str, shot: Path) -> str:
    """Load URL, save a full-page screenshot to SHOT, return the visible text."""
    from selenium.webdriver.common.by import By

    browser.get(url)
    screenshot(browser, shot)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert not [w for w in ERROR_WORDS if w in text], text[:2000]
    return text


def test_home_page(browser, server, artifacts_dir):  # noqa: F811
    text = open_page(browser, server.url("/"), artifacts_dir / "browser_home.png")
    assert "公报数据库" in text and "全文检索" in text
    assert server.db in text


def test_search_for_zhongdian_xiangmu(browser, server, artifacts_dir):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(server.url("/"))
    box = browser.find_element(By.NAME, "q")
    box.send_keys("重点项目")
    box.submit()
    text = open_page(browser, browser.current_url, artifacts_dir / "browser_search.png")
    assert urllib.parse.unquote(browser.current_url).endswith("/search?q=重点项目")
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    n = conn.execute("select count(*) from paragraphs where text like '%重点项目%'").fetchone()[0]
    conn.close()
    marks = browser.find_elements(By.CSS_SELECTOR, "td.col-snippet mark")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert n > 0 and len(rows) == n
    assert marks and all(m.text == "重点项目" for m in marks)
    assert "重点项目" in text
    browser.find_element(By.CSS_SELECTOR, "td.col-id a").click()
    text = open_page(browser, browser.current_url, artifacts_dir / "browser_search_hit.png")
    marks = browser.find_elements(By.CSS_SELECTOR, "blockquote.gongbao-paragraph mark")
    assert marks and all(m.text == "重点项目" for m in marks)


def test_table_search_box(browser, server, artifacts_dir):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(server.url(f"/{server.db}/paragraphs"))
    box = browser.find_element(By.NAME, "_search")
    box.send_keys("187.43亿元")
    box.submit()
    text = open_page(browser, browser.current_url, artifacts_dir / "browser_table_search.png")
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    n = conn.execute("select count(*) from paragraphs where text like '%187.43亿元%'").fetchone()[0]
    conn.close()
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert n > 0 and len(rows) == n
    assert all("187.43亿元" in r.find_element(By.CSS_SELECTOR, "td.col-text").text for r in rows)
    assert f"{n} row" in text and 'text contains "187.43亿元"' in text


def test_compare_a_metric_across_regions(browser, server, artifacts_dir):  # noqa: F811
    from selenium.webdriver.common.by import By

    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    metric = conn.execute("select metric from claims where duplicate_of is null group by metric "
                          "order by count(distinct region_name) desc, count(*) desc limit 1").fetchone()[0]
    regions = {r[0] or r[1] or "（未知地区）" for r in conn.execute(
        "select distinct region_name, region_adcode from claims where metric = ? "
        "and duplicate_of is null and value is not null", (metric,))}
    conn.close()
    text = open_page(browser, server.url(f"/{server.db}/compare", metric=metric, period=""),
                     artifacts_dir / "browser_compare.png")
    assert metric in text and all(r in text for r in regions if r != "（未知地区）")
    link = browser.find_element(By.CSS_SELECTOR, "td.col-value a.gongbao-span")
    link.click()
    text = open_page(browser, browser.current_url, artifacts_dir / "browser_paragraph.png")
    marked = browser.find_element(By.CSS_SELECTOR, "blockquote.gongbao-paragraph mark").text
    assert marked and marked in text

    text = open_page(browser, server.url("/-/gongbao/chart", metric=metric), artifacts_dir / "browser_chart.png")
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.gongbao-chart rect")
    assert len(bars) == len(regions) and metric in text


def test_cjk_font_is_used(browser, server):  # noqa: F811
    browser.get(server.url("/"))
    family = browser.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in family
