"""Calling the fake Accelo the way Accelo's clients do: form bodies, string numbers, a token."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

BASE_URL = "http://timergate-demo.api.accelo.test"


def basic(client_id: str, secret: str) -> str:
    """``Authorization: Basic base64(client_id:client_secret)``, as Accelo's token endpoint wants."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class AcceloUser:
    """One user's session: GET and DELETE send parameters in the query, the rest a form body."""

    http: httpx.AsyncClient
    token: str | None

    async def request(self, method: str, path: str, **params: Any) -> httpx.Response:
        headers = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        url = "/api/v0" + path
        values = {name: str(value) for name, value in params.items()}
        if method in ("GET", "DELETE"):
            return await self.http.request(method, url, params=values, headers=headers)
        return await self.http.request(method, url, data=values, headers=headers)

    async def ok(self, method: str, path: str, **params: Any) -> Any:
        """The ``response`` of a call that must succeed."""
        answer = await self.request(method, path, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["meta"]["status"] == "ok", body
        return body["response"]

    async def refused(self, method: str, path: str, status: str, **params: Any) -> dict[str, Any]:
        """The envelope of a call that must fail with ``status``; ``response`` is null."""
        answer = await self.request(method, path, **params)
        body: dict[str, Any] = answer.json()
        assert body["meta"]["status"] == status, body
        assert body["response"] is None
        return body


async def token_request(
    http: httpx.AsyncClient, client_id: str, secret: str, **form: str
) -> httpx.Response:
    """``POST /oauth2/v0/token`` with a form body and HTTP Basic client authentication."""
    return await http.post(
        "/oauth2/v0/token", data=form, headers={"Authorization": basic(client_id, secret)}
    )
