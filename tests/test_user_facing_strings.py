"""Every string a user reads is marked for translation, and a French user reads it in French.

tests/test_translations.py checks the strings marked with _(), N_(), gettext() or ngettext(): each has its
French translation. That leaves the strings nobody marked, which no catalog knows about. This file finds
them where they reach people:

- Python (crm/**.py, read with `ast`): messages of the errors users are shown (HTTP exceptions, form and
  service refusals, import file errors, the command line's errors and validators' ValueErrors), flash
  messages, what the `crm` command prints, `detail=`/`message=` arguments, and values stored under names
  or keys that hold messages (errors, reasons, warnings, titles, labels, response bodies).
- Templates (templates/**.html, read with Jinja's own parser): text between tags, the attributes people
  read or hear (title, placeholder, alt, aria-label, confirm prompts, button values), strings printed by
  {{ ... }}, and the labels passed to form macros; anything inside _(), ngettext() or {% trans %} is marked.

A string is reported when it has a letter in it once its placeholders are taken out. Log lines, identifiers,
codes, CSS classes and URLs are not in these places, so they are not reported; what is reported and yet is
not for users goes in ALLOWED_FILES or ALLOWED_NAMES below, with the reason.

The last test renders the pages that show the import report's and the duplicate check's reasons to a
French user: marking a message is not enough if the page shows it before translating it.
"""

from __future__ import annotations

import ast
import html
import html.parser
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import nodes
from sqlalchemy.orm import Session

from crm.organisations import dedupe
from crm.organisations.imports import reader as importing
from crm.web.templating import create_environment
from tests.test_translations import catalog

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "crm"
TEMPLATES = ROOT / "templates"

MARKERS = frozenset({"_", "N_", "gettext", "ngettext"})
# Exceptions whose message is shown to someone: web errors, form and service refusals, import file errors,
# the command line's errors (click prints them), and setting errors (the command line prints them too);
# each with the position of its first argument that is shown (AccountError's first names the field).
USER_ERRORS = {
    "HTTPException": 0,
    "ClientException": 0,
    "NotFoundException": 0,
    "NotAuthorizedException": 0,
    "PermissionDeniedException": 0,
    "ValidationException": 0,
    "FormErrors": 0,
    "AccountError": 1,
    "OrganisationError": 0,
    "ImportFileError": 0,
    "SettingsError": 0,
    "ClickException": 0,
    "UsageError": 0,
    "BadParameter": 0,
    "UserMistake": 0,
}
# Calls that put their arguments in front of a user: (name, index of the first argument shown).
SHOWN_BY = {"flash": 1, "echo": 0, "secho": 0, "confirm": 0, "prompt": 0, "print": 0, "Response": 0}
SHOWN_KEYWORDS = frozenset({"detail", "message", "content"})
# Names and keys under which a value is a message for someone.
MESSAGE_NAME = re.compile(r"(^|_)(errors?|messages?|warnings?|reasons?|notices?|titles?|labels?|body)$", re.I)
MESSAGE_KEYS = frozenset({"__all__", "title", "message", "detail", "error", "reason", "warning", "label"})
VALIDATORS = frozenset({"field_validator", "model_validator", "validator"})

# Attributes a person reads or hears; `value` only on <input> buttons (a <button> shows its content).
VISIBLE_ATTRIBUTES = frozenset(
    {"title", "placeholder", "alt", "label", "aria-label", "aria-description", "aria-valuetext"}
    | {"aria-roledescription", "aria-placeholder", "data-confirm", "hx-confirm", "hx-prompt"}
)
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# Parameters of the form macros that are shown as text.
SHOWN_PARAMETERS = frozenset({"label", "help", "placeholder", "blank", "title", "legend", "text", "message"})
# Filters whose arguments can be printed instead of the value.
SHOWN_FILTER_ARGUMENTS = frozenset({"default", "d"})

# printf-style and str.format placeholders ("%(name)s", "%d", "{value}", "{percent:.0f}").
PLACEHOLDERS = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[sdr]|\{\w*(?:[.:!][^{}\"]*)?\}")
LETTER = re.compile(r"[^\W\d_]")
# Marks standing for {{ expressions }} in a rebuilt template: control characters and a number, no letter.
MARK_START, MARK_END = "\x01", "\x02"
MARK = re.compile(f"{MARK_START}(\\d+){MARK_END}")

# What these elements hold is not read as text: scripts, styles, and code to copy as it is.
HIDDEN_ELEMENTS = frozenset({"script", "style", "code", "kbd", "samp"})

# What is not for users, each with the reason: whole files, or constants by (file, name).
ALLOWED_FILES = {
    "crm/organisations/geo/build_world.py": "a maintainer's script that rebuilds the bundled map data",
    "crm/web/health.py": "the health check's JSON status, read by load balancers and monitoring",
}
ALLOWED_NAMES = {
    ("crm/organisations/imports/reader.py", "LEGAL_STATUS_LABELS"): (
        "spellings of each legal status that imported files may use, in both languages; read, never shown"
    ),
}


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def has_words(text: str) -> bool:
    return bool(LETTER.search(PLACEHOLDERS.sub("", text)))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# Python --------------------------------------------------------------------------------------------------


def callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def target_name(target: ast.expr) -> str:
    """The name a value is stored under: `errors`, `self.errors`, `errors["file"]` all say "errors"."""
    while isinstance(target, ast.Subscript):
        target = target.value
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return ""


def assignments(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """The values given to each plain name in a function or module (not in the functions it defines)."""
    values: dict[str, list[ast.expr]] = {}
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            values.setdefault(node.target.id, []).append(node.value)
        todo.extend(ast.iter_child_nodes(node))
    return values


class PythonSinks(ast.NodeVisitor):
    """Collects the unmarked literals that reach users in one module."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.found: dict[tuple[int, int], ast.Constant] = {}
        self.in_validator = False
        self.schemas = path.endswith("schemas.py")
        self.scopes: list[dict[str, list[ast.expr]]] = []

    def shown(self, node: ast.AST | None) -> None:
        for constant in self.unmarked(node, set()):
            self.found[constant.lineno, constant.col_offset] = constant

    def unmarked(self, node: ast.AST | None, followed: set[str]) -> Iterator[ast.Constant]:
        """The string literals an expression shows that no translation function wraps, following the
        names it shows to the values they were given in this function or module."""
        if node is None:
            return
        if isinstance(node, ast.Call) and callee(node) in MARKERS:
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value if isinstance(node.value, str) else node.value.decode("utf-8", "replace")
            if has_words(text):
                yield node
            return
        if isinstance(node, ast.Name):
            if node.id not in followed and (self.path, node.id) not in ALLOWED_NAMES:
                followed.add(node.id)
                for scope in reversed(self.scopes):
                    if node.id in scope:
                        for value in scope[node.id]:
                            yield from self.unmarked(value, followed)
                        break
            return
        if isinstance(node, ast.Dict):
            # The keys of a message dict name fields; its values are the messages.
            for value in node.values:
                yield from self.unmarked(value, followed)
            return
        # What is shown is the result: a function's arguments, an index, a condition are not (`"x".format()`
        # and `"x" % y` still are: the receiver of a call is its func, the left of % a BinOp operand).
        if isinstance(node, ast.Call):
            yield from self.unmarked(node.func, followed)
            return
        if isinstance(node, ast.Subscript | ast.Attribute):
            yield from self.unmarked(node.value, followed)
            return
        if isinstance(node, ast.IfExp):
            yield from self.unmarked(node.body, followed)
            yield from self.unmarked(node.orelse, followed)
            return
        if isinstance(node, ast.Compare):
            return
        for child in ast.iter_child_nodes(node):
            yield from self.unmarked(child, followed)

    def visit_Module(self, node: ast.Module) -> None:
        self.scopes.append(assignments(node))
        self.generic_visit(node)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        decorators = {callee(d) if isinstance(d, ast.Call) else "" for d in node.decorator_list}
        outer, self.in_validator = self.in_validator, bool(decorators & VALIDATORS) or self.in_validator
        self.scopes.append(assignments(node))
        self.generic_visit(node)
        self.scopes.pop()
        self.in_validator = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815  (the visitor's naming)

    def visit_Raise(self, node: ast.Raise) -> None:
        # A validator's ValueError becomes a field's message on a form or in an API error.
        if (
            isinstance(node.exc, ast.Call)
            and callee(node.exc) == "ValueError"
            and (self.in_validator or self.schemas)
        ):
            for argument in node.exc.args:
                self.shown(argument)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = callee(node)
        if name in USER_ERRORS:
            for argument in node.args[USER_ERRORS[name] :]:
                self.shown(argument)
            for keyword in node.keywords:
                if keyword.arg in (None, "detail", "message", "extra", "errors"):
                    self.shown(keyword.value)
        elif name in SHOWN_BY:
            for argument in node.args[SHOWN_BY[name] :]:
                self.shown(argument)
        elif (
            name in ("append", "extend", "insert")
            and isinstance(node.func, ast.Attribute)
            and MESSAGE_NAME.search(target_name(node.func.value))
        ):
            for argument in node.args:
                self.shown(argument)
        for keyword in node.keywords:
            if keyword.arg in SHOWN_KEYWORDS:
                self.shown(keyword.value)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        names = [target_name(target) for target in node.targets]
        if any((self.path, name) in ALLOWED_NAMES for name in names):
            return
        if any(MESSAGE_NAME.search(name) for name in names):
            self.shown(node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        name = target_name(node.target)
        if (self.path, name) in ALLOWED_NAMES:
            return
        if MESSAGE_NAME.search(name):
            self.shown(node.value)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in MESSAGE_KEYS:
                self.shown(value)
        self.generic_visit(node)


def python_strings(source: str, name: str) -> list[Finding]:
    sinks = PythonSinks(name)
    sinks.visit(ast.parse(source, name))
    return [
        Finding(
            name,
            constant.lineno,
            constant.value if isinstance(constant.value, str) else constant.value.decode(),
        )
        for constant in sinks.found.values()
    ]


def python_findings() -> list[Finding]:
    findings = []
    for path in sorted(CODE.rglob("*.py")):
        name = relative(path)
        if name not in ALLOWED_FILES:
            findings += python_strings(path.read_text(encoding="utf-8"), name)
    return findings


# Templates -----------------------------------------------------------------------------------------------


def form_macros(env: Any) -> dict[str, set[int | str]]:
    """Macro name -> the positions and names of its parameters that are shown as text."""
    shown: dict[str, set[int | str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for macro in tree.find_all(nodes.Macro):
            names = [argument.name for argument in macro.args]
            shown[macro.name] = {i for i, n in enumerate(names) if n in SHOWN_PARAMETERS} | (
                set(names) & SHOWN_PARAMETERS
            )
    return shown


def jinja_name(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return node.attr
    return ""


class TemplateReader:
    """Walks one template's tree in source order and rebuilds its HTML, each {{ }} (and each {% trans %},
    which Jinja turns into a gettext call) replaced by a numbered mark; `printed[n]` holds the unmarked
    literals that the expression behind mark n may print."""

    def __init__(self, path: str, macros: dict[str, set[int | str]]) -> None:
        self.path = path
        self.macros = macros
        self.html: list[str] = []
        self.line = 1
        self.printed: list[list[nodes.Const]] = []
        self.findings: list[Finding] = []

    def emit(self, text: str, lineno: int) -> None:
        # Keep the template's line numbers, so what the HTML parser reports points into the template.
        if lineno > self.line:
            self.html.append("\n" * (lineno - self.line))
            self.line = lineno
        self.html.append(text)
        self.line += text.count("\n")

    def walk(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    self.emit(child.data, child.lineno)
                else:
                    self.emit(f"{MARK_START}{len(self.printed)}{MARK_END}", child.lineno)
                    self.printed.append(list(self.strings(child)))
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock) and MESSAGE_NAME.search(
            jinja_name(node.target)
        ):
            for const in self.strings(node):
                self.findings.append(Finding(self.path, const.lineno, const.value))
        for child in node.iter_child_nodes():
            self.walk(child)

    def strings(self, node: nodes.Node) -> Iterator[nodes.Const]:
        """The literals of an expression that reach the page unmarked."""
        if isinstance(node, nodes.Call):
            name = jinja_name(node.node)
            if name in MARKERS:
                return
            shown = self.macros.get(name, set())
            for position, argument in enumerate(node.args):
                if position in shown:
                    yield from self.strings(argument)
            for keyword in node.kwargs:
                if keyword.key in shown:
                    yield from self.strings(keyword.value)
            return
        if isinstance(node, nodes.Const):
            if isinstance(node.value, str) and has_words(node.value):
                yield node
            return
        if isinstance(node, nodes.Filter):
            if node.node is not None:
                yield from self.strings(node.node)
            if node.name in SHOWN_FILTER_ARGUMENTS:
                for argument in node.args:
                    yield from self.strings(argument)
            return
        if isinstance(node, nodes.Getitem | nodes.Getattr):
            yield from self.strings(node.node)
            return
        if isinstance(node, nodes.CondExpr):
            # The test decides; only the two branches are printed.
            yield from self.strings(node.expr1)
            if node.expr2 is not None:
                yield from self.strings(node.expr2)
            return
        if isinstance(node, nodes.Compare | nodes.Test | nodes.Not):
            return
        for child in node.iter_child_nodes():
            yield from self.strings(child)


class VisibleText(html.parser.HTMLParser):
    """Text and readable attribute values of a rebuilt template, outside <script>, <style> and code."""

    def __init__(self, reader: TemplateReader) -> None:
        super().__init__(convert_charrefs=True)
        self.reader = reader
        self.findings: list[Finding] = list(reader.findings)
        self.hidden: list[str] = []

    def report(self, text: str) -> None:
        for mark in MARK.finditer(text):
            for const in self.reader.printed[int(mark.group(1))]:
                self.findings.append(Finding(self.reader.path, const.lineno, const.value))
        if has_words(MARK.sub("", text)):
            shown = " ".join(MARK.sub("{{…}}", text).split())
            self.findings.append(Finding(self.reader.path, self.getpos()[0], shown))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_ELEMENTS:
            self.hidden.append(tag)
        attributes = dict(attrs)
        for name, value in attrs:
            readable = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and attributes.get("type") in BUTTON_INPUTS
            )
            if readable and value:
                self.report(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden:
            del self.hidden[len(self.hidden) - 1 - self.hidden[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.report(data)


def template_strings(env: Any, source: str, name: str, macros: dict[str, set[int | str]]) -> list[Finding]:
    reader = TemplateReader(name, macros)
    reader.walk(env.parse(source))
    text = VisibleText(reader)
    text.feed("".join(reader.html))
    text.close()
    return text.findings


def template_findings() -> list[Finding]:
    env = create_environment(auto_reload=False)
    macros = form_macros(env)
    return [
        finding
        for path in sorted(TEMPLATES.rglob("*.html"))
        for finding in template_strings(env, path.read_text(encoding="utf-8"), relative(path), macros)
    ]


def test_every_string_users_read_is_marked_for_translation() -> None:
    found = sorted(python_findings() + template_findings())
    assert not found, (
        f"{len(found)} string(s) reach users without being marked for translation. Wrap each in _() "
        "(or N_() where it is translated later; {% trans %} or _() in templates), or, if it is not for "
        "users, add its file or constant to ALLOWED_FILES or ALLOWED_NAMES with the reason:\n"
        + "\n".join(f"  {finding}" for finding in found)
    )


# The checks above on samples: what they must find, and what they must leave alone. ----------------------

PYTHON_SAMPLE = """
from litestar.exceptions import HTTPException

def view(request, errors):
    flash(request, "Saved.")
    flash(request, _("Saved %(n)s.") % {"n": 1})
    errors["name"] = "Required"
    errors["email"] = N_("Enter an email.")
    label = "twice" if request.many else "once"
    click.echo(f"done {label}")
    logger.warning("not for users %s", request.path)
    raise HTTPException(status_code=400, detail="Bad things")
"""
TEMPLATE_SAMPLE = """{% from "macros/forms.html" import input %}
<h1>Welcome</h1>
<p>{{ _("Marked") }} {% trans %}Marked too{% endtrans %}</p>
<input type="search" placeholder="Search" class="big wide" name="{{ 'q' }}">
<input type="submit" value="Send">
<button name="action" value="import">{{ _("Import") }}</button>
<span role="{{ 'alert' if error else 'status' }}" title="{{ 'Hint' }}">—</span>
<code>Authorization: Bearer</code>
{{ input("name", "Name", form, errors) }}
{{ input("acronym", _("Acronym"), form, errors) }}
"""


def test_the_check_finds_unmarked_python_strings_and_leaves_the_others() -> None:
    found = {(f.line, f.text) for f in python_strings(PYTHON_SAMPLE, "sample.py")}

    assert found == {
        (5, "Saved."),
        (7, "Required"),
        (9, "twice"),
        (9, "once"),
        (10, "done "),
        (12, "Bad things"),
    }


def test_the_check_finds_unmarked_template_text_and_leaves_the_others() -> None:
    env = create_environment(auto_reload=False)
    found = {
        (f.line, f.text) for f in template_strings(env, TEMPLATE_SAMPLE, "sample.html", form_macros(env))
    }

    assert found == {(2, "Welcome"), (4, "Search"), (5, "Send"), (7, "Hint"), (9, "Name")}


# Marked is not enough: the page must translate the message before showing it. ---------------------------
# (Reported: the import report's "is required" and "unknown country", and the duplicate check's "same
# acronym", in English for a French user.)


# Where the reasons of a report come from: the file reader, the duplicate check, the field rules.
REASON_MODULES = (
    "organisations/imports/reader.py",
    "organisations/dedupe.py",
    "web/forms.py",
    "organisations/schemas.py",
)


def deferred_messages() -> set[str]:
    """The reasons marked with N_(): kept in English in the code and translated only where shown, so the
    ones a page can forget to translate."""
    return {
        node.args[0].value
        for module in REASON_MODULES
        for node in ast.walk(ast.parse((CODE / module).read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and callee(node) == "N_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def english_left_in(page: str) -> list[str]:
    """Deferred messages that a page meant for a French reader shows in English."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    french = catalog("fr")
    left = []
    for msgid in deferred_messages():
        message = french.get(msgid)
        if message is None or message.string == msgid:
            continue
        pattern = ".+?".join(re.escape(part) for part in PLACEHOLDERS.split(msgid))
        if re.search(pattern, text):
            left.append(msgid)
    return sorted(left)


def test_a_french_officer_reads_the_reasons_of_imports_and_duplicate_checks_in_french(
    make_user: Any, make_organisation: Any, login: Any, db: Session
) -> None:
    network = make_organisation("Diaspora Education Network", acronym="DEN")
    make_organisation("Diaspora Educational Network", acronym="DEN")
    browser = login(make_user("liaison_officer", language="fr"))
    rows = (
        "Name,Acronym,Country of residence,Country of origin\n"
        ",,FR,SN\n"
        "Atlantis Friends,,Atlantis,SN\n"
        "Diaspora Educationnal Network,DEN,FR,SN\n"
    )
    files = {"file": ("orgs.csv", rows.encode(), "text/csv")}
    form = {"action": "check", "_csrf_token": browser.csrf_token()}
    pages = {
        "import report": browser.post("/import/organisations", files=files, data=form).text,
        "merge page": browser.get(f"/organisations/{network.id}/merge").text,
    }

    english = {name: english_left_in(page) for name, page in pages.items()}

    assert english == {name: [] for name in pages}
    # ... and the reasons are there, in French: the pages above did show them.
    french = catalog("fr")
    for name, reason in [
        ("import report", importing.REQUIRED),
        ("import report", importing.UNKNOWN_COUNTRY),
        ("import report", dedupe.SAME_ACRONYM),
        ("merge page", dedupe.SAME_ACRONYM),
    ]:
        shown = french[reason].string.split("{")[0]
        assert shown in html.unescape(pages[name]), f"the {name} does not show {shown!r}"
