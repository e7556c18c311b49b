"""One validation for the import, the edit form and the API: whatever row the import accepts, once saved, the
edit form and PUT /api/v1/organisations/{id} accept back unchanged. Rows are generated (hypothesis) from the
kinds of cells real lists hold: accents, stray spaces, "1 200", "oui", country names, bare domains, long text."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.organisations import service
from crm.organisations.imports import writer as importer
from crm.organisations.models import Organisation
from tests.api.conftest import ApiClient

COLUMNS = (
    "Name",
    "Acronym",
    "Country of residence",
    "Country of origin",
    "City",
    "Founded",
    "Website",
    "Email",
    "Phone",
    "Members",
    "Sectors",
    "Languages",
    "Consent to share",
    "Description",
)


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=st.sampled_from("abcdeéèàçôñßøłŁ ÉÈ-'’.&()0123456789 Ωπ日本\t"), max_size=max_size
    )


def mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """Cells as lists hold them: most acceptable, some not."""
    return st.sampled_from(good * 4 + bad)


CELLS = {
    "Name": text(205).filter(lambda value: value.strip()),
    "Acronym": st.text(alphabet=st.sampled_from("ABCDÉ-. 1"), max_size=31),
    "Country of residence": mostly(["France", "FR", "fr", "Belgique", "Royaume-Uni"], ["Atlantis", ""]),
    "Country of origin": mostly(["Sénégal", "SN", "Mali", "Côte d'Ivoire", "Haïti"], ["Nowhere"]),
    "City": text(104),
    "Founded": mostly(["", "1998", "1998-05-01", " 2005 "], ["1799", "2999", "mil neuf cent"]),
    "Website": mostly(
        ["", "asso.org", "https://asso.example.org/a", "www.asso.fr"], ["http://x", "ftp://a.org"]
    ),
    "Email": mostly(["", "info@asso.example.org", "INFO@Asso.Example.org "], ["info@asso.test", "info@"]),
    "Phone": mostly(["", "+221 77 123 45 67", "  01 23 45 67 89 "], ["12", "n/a"]),
    "Members": mostly(["", "0", "1 200", "1,200", "1\u202f200"], ["-3", "500000000", "about 40"]),
    "Sectors": mostly(["", "Education", "education; health", "Santé"], ["Space travel"]),
    "Languages": mostly(["", "fr", "fr, wo", "Français; Anglais"], ["klingon"]),
    "Consent to share": mostly(["", "oui", "non", "yes", "no"], ["peut-être"]),
    "Description": st.text(alphabet=st.sampled_from("ab é\n\r."), max_size=300),
}
ROWS = st.fixed_dictionaries(CELLS)
SNAPSHOT = (
    "name",
    "acronym",
    "residence_country",
    "origin_country",
    "residence_city",
    "founded_year",
    "website",
    "email",
    "phone",
    "members_count",
    "languages",
    "consent_to_share",
    "description",
    "sectors",
)


class EditForm(HTMLParser):
    """The values a browser would send from the organisation's edit form, as it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_default: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        name = attributes.get("name")
        if tag == "input" and name and name != "_csrf_token":
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_default, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if self._select_default is None:
                self._select_default = value
            if "selected" in attributes:
                self.fields.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_default is not None:
                self.fields.append((self._select, self._select_default))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the newline right after <textarea>.
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def snapshot(db: Session, organisation_id: int) -> dict[str, Any]:
    db.expire_all()
    organisation = service.get_organisation(db, organisation_id, True)
    assert organisation is not None
    return {name: getattr(organisation, name) for name in SNAPSHOT}


def csv_file(row: dict[str, str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow([row[column] for column in COLUMNS])
    return buffer.getvalue().encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=ROWS)
def test_a_row_the_import_accepts_is_accepted_unchanged_by_the_edit_form_and_the_api(
    row: dict[str, str], db: Session, officer: Any, login: Any, client: Any, reference: None
) -> None:
    report = importer.import_organisations(
        db, io.BytesIO(csv_file(row)), "generated.csv", dry_run=False, valid_only=False, source=None
    )
    db.commit()
    event("refused" if report.rejected else "imported" if report.created else "already imported")
    if report.created != 1:
        return
    organisation_id = db.scalar(select(Organisation.id).order_by(Organisation.id.desc()).limit(1))
    assert organisation_id is not None
    stored = snapshot(db, organisation_id)

    browser = login(officer)
    page = browser.get(f"/organisations/{organisation_id}/edit")
    assert page.status_code == 200
    form = EditForm()
    form.feed(page.text)
    data: dict[str, Any] = {}
    for name, value in form.fields:
        data.setdefault(name, []).append(value)
    flat = {
        name: values if len(values) > 1 or name in ("sectors",) else values[0]
        for name, values in data.items()
    }
    saved = browser.submit(f"/organisations/{organisation_id}/edit", flat, follow_redirects=False)
    assert saved.status_code in (200, 204, 302, 303) and "form-errors" not in saved.text, saved.text[:2000]
    assert snapshot(db, organisation_id) == stored

    api = ApiClient(client, accounts.create_api_token(db, officer, "property").secret)
    db.commit()
    current = api.get(f"/api/v1/organisations/{organisation_id}").json()
    editable = {key: value for key, value in current.items() if key not in ("id", "completeness")}
    response = api.put(f"/api/v1/organisations/{organisation_id}", json=editable)
    assert response.status_code == 200, response.text
    assert snapshot(db, organisation_id) == stored
