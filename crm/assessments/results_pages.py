"""HTTP for a round's validation by the officer, its results and its action plan."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

HANDLERS: list[ControllerRouterHandler] = []
