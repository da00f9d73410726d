"""/docs works offline: Swagger UI and everything it loads come from this server."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlparse

import pytest
import uvicorn
from fastapi.testclient import TestClient
from test_browser import CHROMIUM_ARGS, free_port, unavailable

from api.app import create_app
from api.routes import apidocs
from api.runtime import Runtime
from api.settings import Settings

LINKS = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture
def runtime(tmp_path) -> Runtime:
    return Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime=runtime, warm=False)) as c:
        yield c


def test_docs_page_references_no_external_url(client):
    answer = client.get("/docs")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    links = LINKS.findall(answer.text)
    assert len(links) == 3  # the stylesheet, the favicon, the script
    assert all(link.startswith("/static/swagger/") for link in links)
    # Not in an attribute either: the schema URL in the script, a validator, a CDN.
    assert "http://" not in answer.text and "https://" not in answer.text
    assert "'/openapi.json'" in answer.text


@pytest.mark.parametrize(("suffix", "kind", "at_least"), [
    (".js", "javascript", 500_000),  # the whole Swagger UI bundle, about 1 MB
    (".css", "text/css", 50_000),
    (".png", "image/png", 200),
])
def test_docs_assets_are_served_locally(client, suffix, kind, at_least):
    [link] = [link for link in LINKS.findall(client.get("/docs").text) if link.endswith(suffix)]
    answer = client.get(link)
    assert answer.status_code == 200
    assert kind in answer.headers["content-type"]
    assert len(answer.content) >= at_least


def test_web_pages_static_files_still_served_beside_swagger(client):
    # /static/swagger is mounted before /static; the pages' own files must still answer.
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/swagger/nothing-here.js").status_code == 404


def test_openapi_schema_still_served_without_the_docs_routes(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert "/api/search" in paths
    assert "/docs" not in paths
    # ReDoc loads from a CDN and has no offline bundle: it is gone rather than blank.
    assert client.get("/redoc").status_code == 404


def test_bundled_swagger_ui_reads_the_schemas_openapi_version(client):
    # Swagger UI 4 answers an OpenAPI 3.1 schema with "Unable to render this definition".
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    major = re.search(r"swagger-ui-(\d+)\.", apidocs.ASSETS_DIR.name)
    assert major and int(major[1]) >= 5


@pytest.fixture
def server(runtime):
    """A real uvicorn server on loopback, in a thread of this process."""
    app = create_app(runtime=runtime, warm=False)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def chromium() -> str:
    import shutil

    path = shutil.which("chromium")
    if path is None:
        unavailable("chromium is not installed: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed: pip install -e '.[dev]'")
    return path


@pytest.mark.browser
def test_docs_render_in_a_browser_with_no_internet(chromium, server):
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def offline(route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # what a machine without internet would do, and a note of the attempt
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=server)
            page.set_default_timeout(15_000)
            page.route("**/*", offline)
            assert page.goto("/docs").status == 200
            operations = page.locator(".swagger-ui .opblock-summary-path")
            operations.filter(has_text="/api/search").first.wait_for()
            assert operations.count() > 10  # the whole operation list, not one stray path
        finally:
            browser.close()
    assert blocked == []
