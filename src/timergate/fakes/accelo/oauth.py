"""``/oauth2/v0``: the token and revoke endpoints (OAuth's own JSON, no envelope).

``POST /oauth2/v0/token`` takes a form body and ``Authorization: Basic
base64(client_id:client_secret)``. Grants: ``refresh_token`` (web applications; answers a new
access token and a new refresh token) and ``client_credentials`` (service applications). There
is no ``/authorize`` page in the fake: the description line hands out a user's tokens instead,
so an ``authorization_code`` is always unknown.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from timergate.fakes.accelo.account import Account
from timergate.fakes.accelo.auth import Authority, Client, Scope
from timergate.fakes.accelo.wire import AcceloError, Answer, envelope_response
from timergate.fakes.base import Now

__all__ = ["OAuthEndpoints"]

STATUS = {
    "invalid_request": 400,
    "invalid_grant": 400,
    "invalid_scope": 400,
    "unsupported_grant_type": 400,
    "invalid_client": 401,
    "unauthorized_client": 401,
    "too_many_failed_logins": 401,
}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, headers: Mapping[str, str] | None = None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.headers = dict(headers or {})


class OAuthEndpoints:
    """Answers ``/oauth2/v0/…``; these calls do not count against the rate limit."""

    def __init__(self, authority: Authority, account: Account, now: Now) -> None:
        self._authority = authority
        self._account = account
        self._now = now

    async def answer(self, request: Request) -> Response:
        path = request.url.path.removeprefix("/oauth2/v0").rstrip("/")
        try:
            if request.method != "POST" or path not in ("/token", "/revoke"):
                raise OAuthError(
                    "invalid_request",
                    "This fake serves POST /oauth2/v0/token and POST /oauth2/v0/revoke; "
                    "its description line carries a user's tokens in place of /authorize.",
                )
            form = await _read_form(request)
            address = request.client.host if request.client else "unknown"
            try:
                self._authority.lockout.check(address, self._now())
            except AcceloError as exc:
                raise OAuthError(exc.status, exc.message, exc.headers) from None
            client = self._client(request, form, address, body_allowed=path == "/revoke")
            if path == "/revoke":
                return self._revoke(client, form)
            return JSONResponse(self._token(client, form), headers={"Cache-Control": "no-store"})
        except OAuthError as exc:
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description},
                status_code=STATUS[exc.error],
                headers=exc.headers,
            )

    def _client(
        self, request: Request, form: dict[str, str], address: str, *, body_allowed: bool
    ) -> Client:
        client_id, secret = _basic_credentials(request.headers.get("authorization"))
        if client_id is None and body_allowed:
            # Revoke also takes the credentials in the body; the token endpoint needs Basic.
            client_id, secret = form.get("client_id"), form.get("client_secret")
        client = None
        if client_id is not None and secret is not None:
            client = self._authority.client_from_basic(client_id, secret)
        if client is None:
            try:
                self._authority.lockout.fail(address, self._now())
            except AcceloError as exc:
                raise OAuthError(exc.status, exc.message, exc.headers) from None
            raise OAuthError(
                "invalid_client",
                "Client authentication failed: send Authorization: Basic "
                "base64(client_id:client_secret) of a registered application.",
            )
        return client

    def _token(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        # The docs' refresh example says token_type=refresh_token; their table says grant_type.
        grant_type = form.get("grant_type") or form.get("token_type")
        lifetime = _lifetime(form.get("expires_in"))
        now = self._now()
        if grant_type == "refresh_token":
            if client.kind != "web":
                raise OAuthError(
                    "unauthorized_client", "Service applications have no refresh tokens."
                )
            old = self._authority.refresh_grants.get(form.get("refresh_token", ""))
            if old is None or old.client_id != client.client_id:
                raise OAuthError("invalid_grant", "Grant was not found (possibly expired).")
            del self._authority.refresh_grants[old.token]
            grant, refresh = self._authority.issue(client, old.staff_id, old.scope, now, lifetime)
        elif grant_type == "client_credentials":
            if client.kind != "service":
                raise OAuthError(
                    "unauthorized_client",
                    "client_credentials is for service applications; this is a web application.",
                )
            try:
                scope = Scope.parse(form.get("scope"))
            except ValueError as exc:
                raise OAuthError("invalid_scope", f"The scope is malformed: {exc}.") from None
            grant, refresh = self._authority.issue(client, None, scope, now, lifetime)
        elif grant_type == "authorization_code":
            raise OAuthError("invalid_grant", "Grant was not found (possibly expired).")
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "grant_type must be authorization_code, refresh_token or client_credentials.",
            )
        expires_in = int((grant.expires_at - now).total_seconds())
        deployment = self._account.deployment
        body: dict[str, Any] = {
            "access_token": grant.token,
            "token_type": "Bearer",
            # The docs' samples: a number for user tokens, a string for service applications.
            "expires_in": expires_in if refresh is not None else str(expires_in),
            "scope": grant.scope.text(),
            "deployment": deployment,
            "deployment_name": deployment.replace("-", " ").title(),
            "deployment_uri": f"https://{deployment}.accelo.com",
            "account_id": "1",
        }
        if refresh is not None:
            body["refresh_token"] = refresh.token
        return body

    def _revoke(self, client: Client, form: dict[str, str]) -> Response:
        grant = self._authority.grants.get(form.get("token", ""))
        if grant is None or grant.client_id != client.client_id:
            answer = Answer(status="invalid_request", message="The token was not issued to you.")
        else:
            grant.revoked = True
            answer = Answer()
        return envelope_response(answer, None, {})


async def _read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    pairs: list[tuple[str, Any]] = list(request.query_params.multi_items())
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            raise OAuthError("invalid_request", "The JSON body could not be parsed.") from None
        if not isinstance(document, dict):
            raise OAuthError("invalid_request", "A JSON body must be an object.")
        pairs.extend(document.items())
    else:
        pairs.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {name: str(value) for name, value in pairs}


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if header is None:
        return None, None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon else (None, None)


def _lifetime(expires_in: str | None) -> timedelta | None:
    if expires_in is None or expires_in == "":
        return None
    if not expires_in.isdigit() or int(expires_in) == 0:
        raise OAuthError("invalid_request", "expires_in must be a positive number of seconds.")
    return timedelta(seconds=int(expires_in))
