"""Page numbers and the links between pages, keeping the other query parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

MAX_PER_PAGE = 100


def clamp_page(page: int | None, per_page: int | None, default_per_page: int = 25) -> tuple[int, int]:
    size = default_per_page if not per_page or per_page < 1 else min(per_page, MAX_PER_PAGE)
    return max(page or 1, 1), size


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    per_page: int
    total: int
    more: bool = False
    """True when `total` is a lower bound (counting stopped there)."""

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.number * self.per_page, self.total)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, None standing for a gap: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.pages, *range(self.number - size, self.number + size + 1)}
        numbers = sorted(n for n in shown if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in numbers:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def page_url(path: str, params: Mapping[str, Any], number: int) -> str:
    query = [(k, v) for k, v in _items(params) if k != "page" and v not in ("", None)]
    query.append(("page", number))
    return f"{path}?{urlencode(query)}"


def _items(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    multi = getattr(params, "multi_items", None)
    source = multi() if callable(multi) else params.items()
    for key, value in source:
        if isinstance(value, list | tuple):
            items.extend((key, v) for v in value)
        else:
            items.append((key, value))
    return items
