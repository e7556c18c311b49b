"""The API documentation at /schema describes the JSON API alone, and its pages load nothing from other hosts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

OWN_HOST = "testserver.local"
# Namespaces name XML vocabularies; they are never fetched.
NAMESPACES = ("http://www.w3.org/",)
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)\\]+""")


def test_every_path_in_the_openapi_schema_is_an_api_route(client: Any) -> None:
    schema = client.get("/schema/openapi.json").json()

    assert schema["paths"]
    assert [path for path in schema["paths"] if not path.startswith("/api/")] == []


def test_pages_forms_and_admin_routes_are_not_documented_as_api_operations(client: Any) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]

    for page in ("/login", "/organisations", "/organisations/{organisation_id}/edit", "/admin/users", "/"):
        assert page not in paths


@pytest.mark.parametrize("page", ["/schema", "/schema/redoc"])
def test_the_documentation_page_refers_to_no_other_host(page: str, client: Any) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")

    foreign = [
        url
        for url in URL.findall(response.text)
        if not url.startswith(NAMESPACES) and urlsplit(url).hostname not in (None, OWN_HOST)
    ]

    assert foreign == []


def test_the_documentation_script_fetches_no_image_from_another_host(client: Any) -> None:
    """The vendored Redoc bundle carried a footer logo from its vendor's CDN; it shows our own icon instead."""
    script = client.get("/static/vendor/redoc-2.5.2.standalone.js").text
    images = re.findall(r"https?://[^\"'\s)]+\.(?:svg|png|jpe?g|gif|webp)", script)
    assert images == []
