"""HTTP for frameworks and the officers' portfolio of capacity across organisations."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

HANDLERS: list[ControllerRouterHandler] = []
