"""Fixtures of the JSON API tests: token clients per persona, reference data, organisations to act on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from tests.conftest import Client


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The API's error body: {"error": {"status", "title", "detail", ["fields"]}}, never an HTML page."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status
    assert error["title"]
    assert error["detail"]
    return error


def field_keys(error: dict[str, Any]) -> set[str]:
    return {str(field.get("key")) for field in error["fields"]}


class ApiClient:
    """One persona's API calls, each sending its token as `Authorization: Bearer`.

    Every persona of a test speaks through the test's one TestClient: a second TestClient on the same app
    runs the app's lifespan again, and closing them leaks anyio streams (or hangs, closed first-in-first-out).
    """

    def __init__(self, client: Client, secret: str) -> None:
        self.client = client
        self.secret = secret

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.secret}", **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def api_client(db: Session, client: Client) -> Any:
    """Makes the API client of a user, with a fresh token named "t"."""

    def make(user: User) -> ApiClient:
        token = accounts.create_api_token(db, user, "t")
        db.commit()
        return ApiClient(client, token.secret)

    return make
