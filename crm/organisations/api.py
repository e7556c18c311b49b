"""JSON API under /api/v1 for organisations, partner actors and contacts: same permissions as the web UI."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

API_HANDLERS: list[ControllerRouterHandler] = []
