"""HTTP for answering assessments: an organisation's rounds, a round, the questionnaire and its autosave."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

HANDLERS: list[ControllerRouterHandler] = []
