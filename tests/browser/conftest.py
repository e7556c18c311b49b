"""Browser tests: a seeded demo server and headless Chromium per pytest worker, and signed-in pages per role.

`make test` installs what these need (Debian's chromium, Playwright, axe-core from npm). A missing piece
fails these tests with the command that fixes it: they never skip. Alone: `.venv/bin/python -m pytest -q
tests/browser`; without them: `-m "not browser"`. Screenshots land in tests/artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

try:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
except ModuleNotFoundError as exc:  # pragma: no cover - only on a machine set up by hand
    raise ModuleNotFoundError(
        "the browser tests need Playwright for Python: run `make install` (it is in the dev extras)"
    ) from exc

CHROMIUM = Path(os.environ.get("CRM_TEST_CHROMIUM", "/usr/bin/chromium"))
# The flags keep a headless Chromium quiet and offline: no sandbox (root in CI), no update or sync traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_SCRIPT = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
OVERFLOW_SCRIPT = Path(__file__).parent / "overflow.js"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "demo-password"
STARTUP_SECONDS = 30
# A missing element fails in seconds instead of holding a worker for half a minute (expect() waits 5 s).
ACTION_TIMEOUT_MS = 10_000
# Served from the page's own origin through a route, so the app's strict CSP stays on while axe runs.
AXE_URL = "/__browser-tests__/axe.min.js"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the app in headless Chromium (tests/browser)")


@dataclass(frozen=True)
class Persona:
    email: str
    full_name: str


# The demo accounts that `crm seed demo` creates (seeds/demo/users.json).
ADMIN = Persona("admin@demo.example.org", "Siobhán Kearney")
OFFICER = Persona("officer@demo.example.org", "Claire Dubois-Ndiaye")
REPRESENTATIVE = Persona("rep@demo.example.org", "Fatou Sarr")
PERSONAS = {"admin": ADMIN, "officer": OFFICER, "representative": REPRESENTATIVE}


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    database: Path

    def organisation_id(self, name: str) -> int:
        return self._one("SELECT id FROM organisations WHERE name = ?", name)

    def user_id(self, email: str) -> int:
        return self._one("SELECT id FROM users WHERE email = ?", email)

    def round_id(self, organisation: str, opened_on: str) -> int:
        """The assessment round an organisation opened that day (YYYY-MM-DD): the demo opens one a year."""
        return self._one(
            "SELECT r.id FROM assessment_rounds r JOIN organisations o ON o.id = r.organisation_id "
            "WHERE o.name = ? AND r.opened_on = ? ORDER BY r.id",
            organisation,
            opened_on,
        )

    def waiting_round_id(self) -> int:
        """The demo's round waiting for validation: the first submitted one (journeys submit theirs later)."""
        return self._one("SELECT id FROM assessment_rounds WHERE status = ? ORDER BY id", "submitted")

    def framework_id(self, key: str, version: int) -> int:
        return self._one("SELECT id FROM frameworks WHERE key = ? AND version = ?", key, version)

    def draft_response_id(self, email: str) -> int | None:
        """The response someone is still answering in a round still open, if any."""
        return self._first(
            "SELECT p.id FROM assessment_responses p JOIN assessment_rounds r ON r.id = p.round_id "
            "JOIN users u ON u.id = p.respondent_id WHERE u.email = ? AND p.status = ? AND r.status = ? "
            "ORDER BY p.id DESC",
            email,
            "draft",
            "open",
        )

    def _one(self, sql: str, *values: object) -> int:
        found = self._first(sql, *values)
        assert found is not None, f"the demo data has {', '.join(map(repr, values))}"
        return found

    def _first(self, sql: str, *values: object) -> int | None:
        with sqlite3.connect(self.database) as conn:
            row = conn.execute(sql, values).fetchone()
        return None if row is None else int(row[0])


def crm_executable() -> str:
    beside = Path(sys.executable).parent / "crm"
    found = str(beside) if beside.exists() else shutil.which("crm")
    assert found, "the `crm` console script is installed (pip install -e .)"
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`crm serve` exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"`crm serve` not healthy within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """One seeded demo database and `crm serve` process per pytest worker, stopped at the end."""
    folder = tmp_path_factory.mktemp("browser")
    database = folder / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_DEMO="1", CRM_DATABASE_URL=f"sqlite:///{database}")
    for command in (["db", "upgrade"], ["seed", "demo"]):
        result = subprocess.run(
            [crm_executable(), *command],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"crm {' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [crm_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, base_url, log)
        yield DemoServer(base_url, database)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Run `make test` (as root), "
            "or `apt-get update && apt-get install -y chromium chromium-driver`."
        )
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `make test`, which installs axe-core from npm.")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def signed_in_states(playwright_driver: Playwright, demo_server: DemoServer) -> dict[str, dict[str, object]]:
    """Cookies of one session per persona, made once through the login form's POST and reused by each page.

    Sessions live in the database, so every new browser context can start from these cookies. The language
    cookie that signing in sets (each account's own language) is replaced by English.
    """
    states: dict[str, dict[str, object]] = {}
    for key, persona in PERSONAS.items():
        request = playwright_driver.request.new_context(base_url=demo_server.base_url)
        try:
            assert request.get("/login").ok
            csrf = next(c["value"] for c in request.storage_state()["cookies"] if c["name"] == "csrftoken")
            answer = request.post(
                "/login",
                form={"email": persona.email, "password": PASSWORD, "_csrf_token": csrf},
                max_redirects=0,
            )
            assert answer.status in (302, 303), f"{persona.email} signs in: {answer.status} {answer.text()}"
            state = dict(request.storage_state())
        finally:
            request.dispose()
        state["cookies"] = [
            {**cookie, "value": "en"} if cookie["name"] == "crm_lang" else cookie
            for cookie in state["cookies"]  # type: ignore[union-attr]
        ]
        states[key] = state
    return states


OpenPage = Callable[..., Page]
OpenContext = Callable[..., BrowserContext]


def new_context(
    browser: Browser, server: DemoServer, viewport: dict[str, int], **options: object
) -> BrowserContext:
    context = browser.new_context(
        base_url=server.base_url,
        viewport=viewport,
        locale="en-GB",
        timezone_id="Europe/Paris",
        **options,  # type: ignore[arg-type]
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@pytest.fixture
def open_context(browser: Browser, demo_server: DemoServer) -> Iterator[OpenContext]:
    """Makes a fresh browser context (no cookies: nobody signed in) at a viewport; closed after the test."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] = DESKTOP) -> BrowserContext:
        contexts.append(new_context(browser, demo_server, viewport))
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def persona_contexts(
    browser: Browser, demo_server: DemoServer, signed_in_states: dict[str, dict[str, object]]
) -> Iterator[Callable[[str | None, dict[str, int]], BrowserContext]]:
    """One signed-in context per persona and viewport, shared by a module's tests that only look at pages."""
    contexts: dict[tuple[str | None, int, int], BrowserContext] = {}

    def get(persona: str | None, viewport: dict[str, int]) -> BrowserContext:
        key = (persona, viewport["width"], viewport["height"])
        if key not in contexts:
            state = signed_in_states[persona] if persona else None
            contexts[key] = new_context(browser, demo_server, viewport, storage_state=state)
        return contexts[key]

    yield get
    for context in contexts.values():
        context.close()


@pytest.fixture
def signed_in_page(
    persona_contexts: Callable[[str | None, dict[str, int]], BrowserContext],
) -> Iterator[OpenPage]:
    """A new page for a persona ("admin", "officer", "representative") or None for nobody signed in."""
    pages: list[Page] = []

    def make(persona: str | None, viewport: dict[str, int] = DESKTOP) -> Page:
        pages.append(persona_contexts(persona, viewport).new_page())
        return pages[-1]

    yield make
    for page in pages:
        page.close()


def screenshot(page: Page, name: str) -> Path:
    """Saves the whole page as tests/artifacts/screenshots/<name>-<viewport width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path


def serious_accessibility_violations(page: Page, axe_source: str) -> list[dict[str, object]]:
    """Runs axe-core's default rules on the page; returns the violations of impact serious or critical."""
    page.route(
        f"**{AXE_URL}",
        lambda route: route.fulfill(body=axe_source, content_type="application/javascript; charset=utf-8"),
    )
    page.add_script_tag(url=AXE_URL)
    violations: list[dict[str, object]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def describe_violations(violations: list[dict[str, object]]) -> str:
    """axe-core's violations as lines a person can act on: rule, impact, help, and the elements at fault."""
    lines: list[str] = []
    for violation in violations:
        nodes: list[dict[str, object]] = violation["nodes"]  # type: ignore[assignment]
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{len(nodes)} element(s)] {violation['helpUrl']}"
        )
        for node in nodes[:5]:
            summary = str(node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)}: {summary}")
        if len(nodes) > 5:
            lines.append(f"    … and {len(nodes) - 5} more")
    return "\n".join(lines)


def page_width(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def overflowing_elements(page: Page) -> list[str]:
    return list(page.evaluate(OVERFLOW_SCRIPT.read_text(encoding="utf-8")))
