"""The layout STYLE.md asks for, checked: HTTP handlers hold no query (they parse, call the service, render),
imports run one way (web/ and db/ know no domain), and nothing imports a library's private modules."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

CRM = Path(__file__).resolve().parent.parent / "crm"
DOMAINS = ("accounts", "organisations")
# Modules that answer HTTP: each domain's controllers and API, and the controller modules beside them.
HTTP_MODULES = sorted(
    path
    for path in CRM.rglob("*.py")
    if path.name in ("controllers.py", "api.py", "representatives.py")
    or path.name.endswith(("_controllers.py", "_pages.py"))
)
QUERY_METHODS = {"execute", "scalar", "scalars", "get", "query", "add", "delete", "flush", "merge"}
SESSION_NAMES = {"db", "session", "db_session"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", HTTP_MODULES, ids=lambda path: str(path.relative_to(CRM)))
def test_http_handlers_build_and_run_no_statement(path: Path) -> None:
    tree = _tree(path)
    # The session's type may be named in a signature; building statements may not.
    problems = [
        f"imports {alias.name} from {node.module}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy"
        for alias in node.names
        if alias.name != "Session"
    ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in SESSION_NAMES
        ):
            problems.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}(...)")
    assert problems == [], f"{path.name} queries the database itself; move it into the service: {problems}"


def test_web_and_db_import_no_domain() -> None:
    problems = []
    for folder in ("web", "db"):
        for path in (CRM / folder).rglob("*.py"):
            for module in _imported_modules(_tree(path)):
                if any(
                    module == f"crm.{domain}" or module.startswith(f"crm.{domain}.") for domain in DOMAINS
                ):
                    problems.append(f"{path.relative_to(CRM)} imports {module}")
    assert problems == []


def test_no_module_imports_a_librarys_private_module() -> None:
    problems = []
    for path in CRM.rglob("*.py"):
        for module in _imported_modules(_tree(path)):
            if module.startswith(("crm", "__future__")):
                continue
            if any(part.startswith("_") for part in module.split(".")):
                problems.append(f"{path.relative_to(CRM)} imports {module}")
    assert problems == []


# Coroutine handlers that take the session and hand its work to a thread themselves, and why.
THREADED_BY_HAND = {
    "healthz": "checks the database on threads of its own, to answer while all others are busy"
}


def test_every_handler_that_takes_the_database_runs_in_a_worker_thread() -> None:
    """What runs in a thread is decided by one rule: a handler given the database session (`db`) is a plain
    function run in a worker thread (sync_to_thread=True); every other handler runs on the event loop, and no
    coroutine handler may take the session (its queries would block the loop)."""
    from crm.app import create_app
    from crm.settings import load_settings

    app = create_app(load_settings(database_url="sqlite://", secret_key="x" * 40))
    problems = []
    with_database = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            function = getattr(handler.fn, "func", handler.fn)  # Litestar wraps some handlers
            name = getattr(function, "__qualname__", repr(function))
            takes_db = bool({"db", "db_session"} & set(inspect.signature(function).parameters))
            with_database += takes_db
            if inspect.iscoroutinefunction(function):
                if takes_db and name not in THREADED_BY_HAND:
                    problems.append(f"{route.path}: coroutine {name} takes the database")
            elif takes_db and not handler.sync_to_thread:
                problems.append(f"{route.path}: {name} takes the database on the event loop")
            elif not takes_db and handler.sync_to_thread:
                problems.append(f"{route.path}: {name} hops to a thread without the database")
    assert problems == []
    assert with_database > 20, "the handlers' signatures were not read"
