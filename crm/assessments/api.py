"""The assessments' JSON API: frameworks, rounds, answers, submission, results and validation."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

API_HANDLERS: list[ControllerRouterHandler] = []
