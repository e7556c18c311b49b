"""The Jinja environment: templates/, gettext, time-zone filters and the page-or-fragment helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from litestar import Request
from litestar.response import Template

from crm.settings import PROJECT_ROOT
from crm.web import i18n
from crm.web.pagination import page_url

TEMPLATES_DIR = PROJECT_ROOT / "templates"


def create_environment(directory: Path = TEMPLATES_DIR, auto_reload: bool = True) -> Environment:
    """`auto_reload=False` (outside debug mode) skips checking each template file's date on every render."""
    env = Environment(
        auto_reload=auto_reload,
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["localtime"] = i18n.local_time
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.globals["current_language"] = i18n.current_language.get
    env.globals["page_url"] = page_url
    env.globals["current_user"] = current_user
    return env


@pass_context
def current_user(context: Any) -> Any:
    """The signed-in user, or None (also on pages rendered before authentication ran, such as a 404)."""
    request = context.get("request")
    return request.scope.get("user") if request is not None else None


def is_partial(request: Request[Any, Any, Any]) -> bool:
    """An HTMX request that is not a boosted navigation wants only the fragment."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"


def page_or_fragment(
    request: Request[Any, Any, Any], page: str, fragment: str, context: dict[str, Any], **kwargs: Any
) -> Template:
    return Template(template_name=fragment if is_partial(request) else page, context=context, **kwargs)
