"""Reading a framework file: the checks that turn a JSON document into a framework, each failure one line
naming the element at fault (`domains[3].indicators[1].levels: 3 levels, 4 expected`). Pure: no database."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from crm.assessments.models import MappingKind

LANGUAGES = ("en", "fr")
LEVEL_COUNT = 4
MAX_TEXT = 2000
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
KEY = re.compile(r"^[a-z][a-z0-9-]{0,59}$")


class FrameworkError(ValueError):
    """The file is not a valid framework; str() is the one line to show."""


@dataclass
class IndicatorSpec:
    code: str
    question: dict[str, str]
    guidance: dict[str, str]
    levels: list[dict[str, str]]
    mapping_kind: str | None = None
    maps_from: list[str] = field(default_factory=list)


@dataclass
class DomainSpec:
    code: str
    name: dict[str, str]
    description: dict[str, str]
    indicators: list[IndicatorSpec]


@dataclass
class FrameworkSpec:
    key: str
    version: int
    title: dict[str, str]
    description: dict[str, str]
    previous_version: int | None
    domains: list[DomainSpec]
    content_hash: str

    def indicator_codes(self) -> list[str]:
        return [i.code for d in self.domains for i in d.indicators]


def _fail(path: str, reason: str) -> FrameworkError:
    return FrameworkError(f"{path}: {reason}")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, f"an object expected, found {_kind(value)}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, f"a list expected, found {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "nothing"}.get(
        type(value), "a number"
    )


def _text(parent: dict[str, Any], name: str, path: str, required: bool = True) -> dict[str, str]:
    where = f"{path}.{name}" if path else name
    if name not in parent:
        if required:
            raise _fail(where, "missing")
        return {}
    return _translations(parent[name], where)


def _translations(value: Any, where: str) -> dict[str, str]:
    """A text in every language: {"en": "...", "fr": "..."}."""
    value = _object(value, where)
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise _fail(f"{where}.{language}", "a non-empty text expected")
        if len(text) > MAX_TEXT:
            raise _fail(f"{where}.{language}", f"{len(text)} characters, at most {MAX_TEXT}")
        texts[language] = text.strip()
    return texts


def _code(parent: dict[str, Any], path: str, seen: set[str]) -> str:
    code = parent.get("code")
    if not isinstance(code, str) or not CODE.match(code) or len(code) > 80:
        raise _fail(
            f"{path}.code", "lower-case letters, digits and _ expected, as `finance` or `finance.budget`"
        )
    if code in seen:
        raise _fail(f"{path}.code", f"“{code}” is used twice")
    seen.add(code)
    return code


def _mapping(item: dict[str, Any], path: str, has_previous: bool) -> tuple[str | None, list[str]]:
    if "maps_to" not in item:
        # With no mapping, an indicator of a new version is new: nothing earlier compares with it.
        return (MappingKind.NEW.value, []) if has_previous else (None, [])
    where = f"{path}.maps_to"
    if not has_previous:
        raise _fail(where, "given, but the framework names no previous_version")
    mapping = _object(item["maps_to"], where)
    kind = mapping.get("kind")
    if kind not in {k.value for k in MappingKind}:
        raise _fail(f"{where}.kind", f"one of {', '.join(k.value for k in MappingKind)} expected")
    sources = _list(mapping.get("from", []), f"{where}.from")
    if not all(isinstance(s, str) for s in sources):
        raise _fail(f"{where}.from", "indicator codes expected")
    expected = {"same": (1, 1), "split": (1, 1), "merged": (2, 50), "new": (0, 0)}[kind]
    if not expected[0] <= len(sources) <= expected[1]:
        counts = {"same": "one code", "split": "one code", "merged": "two codes or more", "new": "no code"}
        raise _fail(f"{where}.from", f"{len(sources)} given, {counts[kind]} expected for “{kind}”")
    return kind, list(sources)


def parse_framework(raw: bytes) -> FrameworkSpec:
    """The framework a file holds, or FrameworkError naming the first element at fault."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise FrameworkError("the file is not UTF-8 text") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "file"
        raise FrameworkError(f"{where}: not valid JSON") from None
    top = _object(document, "(file)")
    key = top.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise _fail("key", "lower-case letters, digits and - expected, as `diaspora-capacity`")
    version = top.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 10_000:
        raise _fail("version", "a whole number from 1 expected")
    previous = top.get("previous_version")
    if previous is not None and (
        not isinstance(previous, int) or isinstance(previous, bool) or not 1 <= previous < version
    ):
        raise _fail("previous_version", f"a version below {version} expected")
    domains_raw = _list(top.get("domains"), "domains")
    if not domains_raw:
        raise _fail("domains", "no domain")
    domain_codes: set[str] = set()
    indicator_codes: set[str] = set()
    domains = []
    for d, domain_raw in enumerate(domains_raw):
        path = f"domains[{d}]"
        domain = _object(domain_raw, path)
        code = _code(domain, path, domain_codes)
        indicators_raw = _list(domain.get("indicators"), f"{path}.indicators")
        if not indicators_raw:
            raise _fail(f"{path}.indicators", "no indicator")
        indicators = []
        for i, indicator_raw in enumerate(indicators_raw):
            ipath = f"{path}.indicators[{i}]"
            indicator = _object(indicator_raw, ipath)
            icode = _code(indicator, ipath, indicator_codes)
            levels_raw = _list(indicator.get("levels"), f"{ipath}.levels")
            if len(levels_raw) != LEVEL_COUNT:
                raise _fail(f"{ipath}.levels", f"{len(levels_raw)} levels, {LEVEL_COUNT} expected")
            levels = [_translations(lv, f"{ipath}.levels[{n}]") for n, lv in enumerate(levels_raw)]
            kind, sources = _mapping(indicator, ipath, previous is not None)
            indicators.append(
                IndicatorSpec(
                    code=icode,
                    question=_text(indicator, "question", ipath),
                    guidance=_text(indicator, "guidance", ipath, required=False),
                    levels=levels,
                    mapping_kind=kind,
                    maps_from=sources,
                )
            )
        domains.append(
            DomainSpec(
                code=code,
                name=_text(domain, "name", path),
                description=_text(domain, "description", path, required=False),
                indicators=indicators,
            )
        )
    return FrameworkSpec(
        key=key,
        version=version,
        title=_text(top, "title", ""),
        description=_text(top, "description", "", required=False),
        previous_version=previous,
        domains=domains,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )
