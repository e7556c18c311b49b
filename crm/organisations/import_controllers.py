"""HTTP for the organisation import page."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

IMPORT_HANDLERS: list[ControllerRouterHandler] = []
