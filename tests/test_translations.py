"""The UI speaks English and French throughout: every message in the code and the templates has a French
translation that keeps its placeholders, the English catalog lists every message, and pages follow the
language chosen by cookie or by the browser."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "crm" / "locale"
# The keywords `make messages` passes to pybabel extract (-k _ -k N_ -k gettext -k ngettext:1,2).
KEYWORDS = {**DEFAULT_KEYWORDS, "_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
# Named extraction methods resolved to their functions, so no entry-point lookup is needed.
METHODS = {"jinja2": "jinja2.ext:babel_extract"}
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%%|\{[^{}]*\}")
HOW_TO_FIX = (
    "Run `make messages`, then translate the new entries in crm/locale/fr/LC_MESSAGES/messages.po "
    "(and keep crm/locale/en/LC_MESSAGES/messages.po in step)."
)


@cache
def extracted_messages() -> dict[str, str | tuple[str, ...]]:
    """Every message marked for translation in crm/ and templates/, found as babel.cfg says, by singular msgid."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(ROOT / "babel.cfg"))
    method_map = [(pattern, METHODS.get(method, method)) for pattern, method in method_map]
    messages: dict[str, str | tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            messages[msgid] = message
    return messages


def catalog(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=language)


def is_translated(message: Message | None) -> bool:
    """What the app will actually use: present, not fuzzy, and every plural form filled in."""
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(strings)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def listing(msgids: Iterable[str]) -> str:
    return "\n".join(f"  - {msgid!r}" for msgid in sorted(msgids))


def test_every_message_in_the_code_and_templates_has_a_french_translation() -> None:
    french = catalog("fr")
    messages = extracted_messages()
    assert messages, "No message was extracted: check babel.cfg"
    missing = [msgid for msgid in messages if not is_translated(french.get(msgid))]
    assert not missing, (
        f"{len(missing)} message(s) have no French translation (missing, empty or fuzzy):\n"
        f"{listing(missing)}\n{HOW_TO_FIX}"
    )


def test_the_english_catalog_lists_every_message_in_the_code_and_templates() -> None:
    english = catalog("en")
    missing = [msgid for msgid in extracted_messages() if english.get(msgid) is None]
    assert not missing, (
        f"{len(missing)} message(s) are not in the English catalog:\n{listing(missing)}\n{HOW_TO_FIX}"
    )


def test_french_translations_keep_the_placeholders_of_their_message() -> None:
    broken = []
    for message in catalog("fr"):
        if not message.id or not is_translated(message):
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id[0], message.id[1]
            pairs = [(singular if index == 0 else plural, text) for index, text in enumerate(message.string)]
        else:
            pairs = [(message.id, message.string)]
        for source, translation in pairs:
            if placeholders(source) != placeholders(translation):
                broken.append(f"{source!r} -> {translation!r}")
    assert not broken, "French translations whose placeholders differ from the message:\n" + "\n".join(
        f"  - {pair}" for pair in broken
    )


def test_the_login_page_is_in_french_with_the_language_cookie(client: Any) -> None:
    client.cookies.set("crm_lang", "fr")
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Se connecter" in response.text


def test_the_login_page_is_in_french_when_the_browser_prefers_french(client: Any) -> None:
    response = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Se connecter" in response.text


def test_the_login_page_is_in_english_by_default(client: Any) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Sign in" in response.text
    assert "Se connecter" not in response.text
