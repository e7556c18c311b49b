"""One-shot messages shown on the next page, carried in a cookie so any app process can show them."""

from __future__ import annotations

import base64
import json
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "crm_flash"
LEVELS = ("success", "info", "warning", "error")


def flash(request: Request[Any, Any, Any], message: str, level: str = "success") -> None:
    request.state.setdefault("flash_out", []).append({"message": message, "level": level})


def _decode(raw: str) -> list[dict[str, str]]:
    try:
        items = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(items, list):
        return []
    return [
        {"message": str(item.get("message", ""))[:500], "level": str(item.get("level"))}
        for item in items[:5]
        if isinstance(item, dict) and item.get("level") in LEVELS
    ]


def get_flashes(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    """Messages queued by this request plus those carried in from the previous one (read once)."""
    request.state["flash_read"] = True
    carried = _decode(request.cookies.get(COOKIE, "")) if COOKIE in request.cookies else []
    mine = request.state.pop("flash_out", [])
    return carried + mine


class FlashMiddleware:
    """Writes queued messages to the cookie, or clears the cookie once a page has shown them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_flash(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {})
                pending = state.get("flash_out")
                had_cookie = any(k == b"cookie" and COOKIE.encode() in v for k, v in scope["headers"])
                cookie = None
                if pending:
                    raw = base64.urlsafe_b64encode(json.dumps(pending).encode()).decode()
                    cookie = Cookie(
                        key=COOKIE, value=raw, path="/", httponly=True, samesite="lax", max_age=120
                    )
                elif state.get("flash_read") and had_cookie:
                    cookie = Cookie(key=COOKIE, value="", path="/", httponly=True, samesite="lax", max_age=0)
                if cookie is not None:
                    MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_with_flash)
