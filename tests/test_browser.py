"""The pages in a real browser: Debian's chromium driven by playwright, against a real
uvicorn server on loopback over the demo corpus, embedded with the real MiniLM model
(the default onnxruntime int8 path).

Without chromium (``apt-get install -y chromium``) or playwright these tests skip,
except where the CI environment variable is set: there they fail, so CI cannot pass
without running them. They save screenshots of what they see to a temporary folder,
or to the folder named by WHOKNOWS_SCREENSHOTS: `make screenshots` refreshes the ones
in docs/screenshots/ on purpose (a test run never changes a tracked file).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from conftest import demo_copy

from api.app import create_app
from api.state import ServerState
from indexer.keys import KeyRing

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
HIDDEN = {"p-yusuf-demir", "p-rui-carvalho", "p-anna-kovacs", "p-hannah-schulz"}
# No GPU, no sandbox (tests may run as root in a container), and nothing that phones home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def unavailable(reason: str) -> None:
    """Skip here; fail in CI, where the browser tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests may not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        unavailable("chromium is not installed: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed: pip install -e '.[dev]'")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_ingest, tmp_path_factory, chromium) -> Iterator[tuple[str, ServerState]]:
    """``(base url, server state)``: a copy of the demo corpus ingested once per run, served
    by uvicorn in a thread of this process."""
    runtime, report = demo_copy(demo_ingest, tmp_path_factory, "browser")
    assert report.failed == []
    app = create_app(runtime=runtime, warm=False)
    app.state.whoknows.warm_up()
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app.state.whoknows
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    # Reduced motion: no smooth scrolling to #hit, so screenshots come out the same each run.
    context = browser.new_context(viewport=DESKTOP, base_url=server[0], reduced_motion="reduce")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: $WHOKNOWS_SCREENSHOTS (docs/screenshots for `make
    screenshots`), else a temporary folder."""
    chosen = os.environ.get("WHOKNOWS_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


def shoot(page, name: str, shots: Path) -> None:
    """<name>-desktop.png (up to 1600 px of the page) and <name>-phone.png (the first
    screen on a phone) of the page as it is, in ``shots``."""
    shots.mkdir(parents=True, exist_ok=True)
    height = min(1600, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(path=str(shots / f"{name}-desktop.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": height})
    page.set_viewport_size(PHONE)
    # Laid out for a phone on load (filters folded); a fresh visit, as a reload would
    # restore the scroll position the desktop shot left, which varies from run to run.
    page.goto(page.url)
    page.screenshot(path=str(shots / f"{name}-phone.png"))
    page.set_viewport_size(DESKTOP)


def people_ids(page) -> list[str]:
    links = page.locator("#people .expert h3 a")
    return [href.rsplit("/", 1)[1] for href in
            (links.nth(i).get_attribute("href") for i in range(links.count()))]


def test_type_a_query_and_see_articles_and_experts(shots, page):
    page.goto("/")
    page.get_by_label("What do you want to know").fill("kafka consumer lag")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=kafka+consumer+lag*")
    hits = page.locator("ol.hits li.hit")
    assert hits.count() == 10
    assert "consumer lag" in hits.first.locator("h3").inner_text().lower()
    assert page.locator("ol.hits mark").count() > 0  # the query's terms, highlighted
    experts = people_ids(page)
    assert "p-amara-okafor" in experts[:3] and not set(experts) & HIDDEN
    assert page.locator("#people .badge.mentor").count() > 0
    shoot(page, "search", shots)
    # The URL is the search: opened directly, it shows the same results.
    url = page.url
    page.goto("/")
    page.goto(url)
    assert people_ids(page) == experts


def test_filters_and_paging(page):
    page.goto("/?q=kafka")
    page.get_by_label("Kind").select_option("lesson")
    page.get_by_label("Location").select_option("Singapore")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**kind=lesson*")
    assert "location=Singapore" in page.url
    badges = page.locator("ol.hits .meta .badge").all_inner_texts()
    assert badges and set(badges) == {"Lesson learned"}
    roles = page.locator("#people .expert .role").all_inner_texts()
    assert roles and all("Singapore" in r for r in roles)
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**page=2*")
    assert page.locator("ol.hits").get_attribute("start") == "11"


def test_open_a_person_page(shots, page):
    page.goto("/?q=kafka+consumer+lag")
    page.locator("#people").get_by_role("link", name="Amara Okafor").click()
    page.wait_for_url("**/people/p-amara-okafor")
    assert page.locator("h1").inner_text() == "Amara Okafor"
    kafka = page.locator("ul.skills li").filter(has_text="Kafka")
    assert "level 5 of 5" in kafka.inner_text()
    assert page.locator("ul.doclist li").count() >= 3
    similar = page.locator("section[aria-labelledby=similar-h] h3 a")
    hrefs = [similar.nth(i).get_attribute("href") for i in range(similar.count())]
    assert hrefs and "/people/p-amara-okafor" not in hrefs
    assert not {h.rsplit("/", 1)[1] for h in hrefs} & HIDDEN
    shoot(page, "person", shots)
    assert page.goto("/people/p-yusuf-demir").status == 404  # opted out


def test_open_a_document_and_its_pdf(shots, page):
    page.goto("/?q=solver+benchmark+instances")
    pdf_hit = page.locator("ol.hits li.hit").filter(has=page.locator("a[href$='.pdf']")).first
    title = pdf_hit.locator("h3").inner_text()
    pdf_hit.locator("h3 a").click()
    page.wait_for_url("**/documents/**")
    assert page.locator("h1").inner_text() == title
    assert page.locator("article.document .body p").count() > 0
    source = page.get_by_role("link", name="Open the source file")
    answer = page.request.get(source.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")
    page.goto("/documents/kb-kafka-consumer-lag-runbook?q=replication+lag")
    assert page.locator("article.document mark").count() > 0
    assert page.locator("article.document mark").first.get_attribute("id") == "hit"
    shoot(page, "document", shots)


def test_find_me_a_mentor(shots, page):
    page.goto("/")
    page.get_by_role("link", name="Find a mentor").click()
    page.get_by_label("Employee").fill("Grace Mwangi")
    page.get_by_label("Employee").press("Enter")
    page.wait_for_url("**/mentors?employee=Grace+Mwangi")
    assert "Mentors for Grace Mwangi" in page.locator("h2").first.inner_text()
    cards = page.locator("ol.experts li.expert")
    assert cards.count() >= 1
    assert cards.first.locator("ul.reasons li").count() >= 1
    mentors = {a.rsplit("/", 1)[1] for a in
               (cards.nth(i).locator("h3 a").get_attribute("href") for i in range(cards.count()))}
    # Not herself, not her manager (Ahmed Hassan), no one who opted out.
    assert not mentors & ({"p-grace-mwangi", "p-ahmed-hassan"} | HIDDEN)
    shoot(page, "mentors", shots)


def test_keyboard_and_labels(page):
    page.goto("/?q=kafka")  # the home page focuses the search box itself
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")  # skip to content
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    for path in ("/?q=kafka", "/mentors", "/people/p-amara-okafor"):
        page.goto(path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(e => !e.labels.length)
            .map(e => e.outerHTML)""")
        assert unlabelled == []
        assert page.locator("main#main").count() == 1 and page.locator("h1").count() == 1


def test_a_server_with_keys_asks_for_one(shots, page, server):
    _, state = server
    ring = KeyRing(state.runtime.store)
    with state.lock:  # the server's threads share the store's connection
        key, secret = ring.add("reader", name="browser test")
    try:
        assert page.goto("/?q=kafka").status == 401
        assert page.locator("h1").inner_text() == "An API key is needed"
        shoot(page, "key", shots)
        page.get_by_label("API key").fill("wk_wrong_key")
        page.get_by_role("button", name="Use this key").click()
        assert "unknown or revoked" in page.get_by_role("alert").inner_text()
        page.get_by_label("API key").fill(secret)
        page.get_by_role("button", name="Use this key").click()
        page.wait_for_url("**/?q=kafka")
        assert page.locator("ol.hits li.hit").count() > 0
        cookie = next(c for c in page.context.cookies() if c["name"] == "whoknows_key")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""  # scripts cannot read the key
        page.get_by_role("button", name="Forget key").click()
        page.wait_for_url("**/key")
        assert page.goto("/?q=kafka").status == 401
    finally:
        with state.lock:
            ring.revoke(key.id)  # back to open mode for the other tests


def test_thumbs_and_why_on_results_and_experts(shots, page, server):
    from indexer.feedback import FeedbackLog
    _, state = server
    try:
        page.goto("/?q=kafka+consumer+lag")
        second = page.locator("ol.hits li.hit").nth(1)
        second.get_by_role("button", name="This helped").click()
        page.wait_for_url("**/?q=kafka+consumer+lag*")
        assert "1 colleague said this helped" in page.locator("ol.hits").inner_text()
        expert = page.locator("#people .expert").first
        expert.get_by_role("button", name="Not an expert on this").click()
        page.wait_for_url("**/?q=kafka+consumer+lag*")
        assert "1 colleague said they are not an expert on this" in \
            page.locator("#people").inner_text()
        shoot(page, "feedback", shots)
        page.locator("ol.hits li.hit h3 a").first.click()  # opened: a click, for analytics
        page.wait_for_url("**/documents/**")
        deadline = time.monotonic() + 10
        log = FeedbackLog(state.runtime.store)
        while not any(v.sign == 0 for v in log.votes()):
            assert time.monotonic() < deadline, "the click was not recorded"
            time.sleep(0.1)
        page.goto("/analytics")
        assert page.get_by_role("heading", name="Topics with one or no active expert")\
            .is_visible()
    finally:
        with state.lock:  # the other tests see the demo as it was
            FeedbackLog(state.runtime.store).forget_before("9999")


def test_a_person_hides_and_restores_a_skill(page):
    page.goto("/profile?person=p-amara-okafor")
    row = page.locator("table.skills tbody tr").first
    name = row.locator("th").inner_text().split(" level")[0].strip()
    row.get_by_role("button", name="Hide").click()
    assert f"Saved: hide {name}" in page.get_by_role("status").inner_text()
    hidden = page.locator("table.skills tr.state-hidden", has_text=name)
    assert hidden.count() == 1
    hidden.get_by_role("button", name="Show again").click()
    assert page.locator("table.skills tr.state-hidden", has_text=name).count() == 0
