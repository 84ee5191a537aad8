"""OAuth 2.0 as Intuit runs it (qbo-api.md §7), on the sandbox clock.

- `/oauth2/authorize`: auto-consent; 302 to the registered redirect_uri with code, state, realmId. The realm
  comes from a `realmId` (or `realm_id`) query parameter, else the app's default realm.
- `/oauth2/v1/tokens/bearer`: HTTP Basic client auth, form body, grant_type authorization_code|refresh_token.
  Body exactly like fx:intuit-oauth-jsclient/authResponse.json; `x_refresh_token_hard_expires_in` only when
  the `x-include-refresh-token-hard-expires-in: true` header is sent.
- Rotation: every refresh returns a NEW refresh token. The token it replaces stays valid for the realm's grace
  period (default 24 h) counted from the moment it was superseded, then answers 400 invalid_grant
  "Token invalid". Using an older token inside its grace window is accepted and returns a NEW pair (never the
  current one); the then-current token becomes superseded at that moment.
- Access tokens live 3600 s and are bound to one realm.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import constants as C


@dataclass
class App:
	client_id: str
	client_secret: str
	redirect_uris: list[str]
	default_realm: str | None = None


@dataclass
class Chain:
	realm_id: str
	client_id: str
	hard_expires: datetime
	latest: str | None = None
	revoked: bool = False


@dataclass
class RefreshToken:
	chain: Chain
	issued: datetime
	superseded_at: datetime | None = None


@dataclass
class AccessToken:
	chain: Chain
	expires: datetime
	realm_id: str


@dataclass
class AuthCode:
	client_id: str
	realm_id: str
	redirect_uri: str
	expires: datetime
	used: bool = False


class OAuthError(Exception):
	def __init__(self, status: int, error: str, description: str | None = None):
		super().__init__(error)
		self.status = status
		self.body = {"error": error}
		if description:
			self.body = {"error_description": description, "error": error}


INVALID_GRANT = ("invalid_grant", "Token invalid")


@dataclass
class Authority:
	"""All apps and tokens of one sandbox; realms are looked up through `grace_for`."""

	grace_for: object  # callable(realm_id) -> seconds
	apps: dict[str, App] = field(default_factory=dict)
	codes: dict[str, AuthCode] = field(default_factory=dict)
	refresh: dict[str, RefreshToken] = field(default_factory=dict)
	access: dict[str, AccessToken] = field(default_factory=dict)
	lock: threading.Lock = field(default_factory=threading.Lock)

	# ---- apps ------------------------------------------------------------------------------------------
	def register_app(self, redirect_uris=(), default_realm=None, client_id=None, client_secret=None) -> App:
		with self.lock:
			app = App(
				client_id or "AB" + secrets.token_hex(20),
				client_secret or secrets.token_hex(20),
				[str(u) for u in (redirect_uris or [])],
				default_realm,
			)
			self.apps[app.client_id] = app
			return app

	def client(self, headers, form) -> App:
		"""HTTP Basic client authentication (form fields accepted as a fallback)."""
		client_id = secret = None
		auth = headers.get("Authorization", "")
		if auth.lower().startswith("basic "):
			try:
				client_id, _, secret = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
			except Exception:
				client_id = None
		if client_id is None:
			client_id, secret = form.get("client_id"), form.get("client_secret")
		app = self.apps.get(client_id or "")
		if app is None or not secrets.compare_digest(str(secret or ""), app.client_secret):
			raise OAuthError(401, "invalid_client")
		return app

	# ---- authorize ----------------------------------------------------------------------------------------
	def authorize(self, params, realm_exists, now: datetime) -> str:
		app = self.apps.get(params.get("client_id", ""))
		if app is None:
			raise OAuthError(400, "invalid_client", "Unknown client_id")
		redirect_uri = params.get("redirect_uri", "")
		if redirect_uri not in app.redirect_uris:
			raise OAuthError(400, "invalid_request", "redirect_uri is not registered for this app")
		if params.get("response_type", "code") != "code":
			raise OAuthError(400, "unsupported_response_type")
		realm_id = params.get("realmId") or params.get("realm_id") or app.default_realm
		if not realm_id or not realm_exists(realm_id):
			raise OAuthError(400, "invalid_request", "No company (realm) to connect")
		code = "AB11" + secrets.token_urlsafe(32)
		with self.lock:
			self.codes[code] = AuthCode(
				app.client_id, realm_id, redirect_uri, now + timedelta(seconds=C.AUTH_CODE_TTL)
			)
		query = [("code", code)]
		if params.get("state") is not None:
			query.append(("state", params["state"]))
		query.append(("realmId", realm_id))
		from urllib.parse import urlencode

		sep = "&" if "?" in redirect_uri else "?"
		return f"{redirect_uri}{sep}{urlencode(query)}"

	# ---- token endpoint -----------------------------------------------------------------------------------
	def token(self, headers, form, now: datetime) -> dict:
		app = self.client(headers, form)
		grant = form.get("grant_type")
		hard = str(headers.get(C.HARD_EXPIRES_HEADER, "")).lower() == "true"
		with self.lock:
			if grant == "authorization_code":
				code = self.codes.get(form.get("code", ""))
				if (
					code is None
					or code.used
					or code.client_id != app.client_id
					or now > code.expires
					or form.get("redirect_uri", code.redirect_uri) != code.redirect_uri
				):
					raise OAuthError(400, *INVALID_GRANT)
				code.used = True
				chain = Chain(code.realm_id, app.client_id, now + timedelta(seconds=C.REFRESH_TOKEN_HARD_TTL))
				return self._issue(chain, now, hard)
			if grant == "refresh_token":
				rt = self.refresh.get(form.get("refresh_token", ""))
				if rt is None or rt.chain.revoked or rt.chain.client_id != app.client_id:
					raise OAuthError(400, *INVALID_GRANT)
				if now > rt.issued + timedelta(seconds=C.REFRESH_TOKEN_TTL) or now > rt.chain.hard_expires:
					raise OAuthError(400, *INVALID_GRANT)
				grace = timedelta(seconds=float(self.grace_for(rt.chain.realm_id)))
				if rt.superseded_at is not None and now > rt.superseded_at + grace:
					raise OAuthError(400, *INVALID_GRANT)
				return self._issue(rt.chain, now, hard)
			raise OAuthError(400, "unsupported_grant_type")

	def issue_direct(self, realm_id: str, client_id: str, now: datetime, hard: bool = True) -> dict:
		"""A token pair without the redirect dance (Python/admin API for tests)."""
		if client_id not in self.apps:
			raise KeyError(f"unknown client_id {client_id}")
		with self.lock:
			chain = Chain(realm_id, client_id, now + timedelta(seconds=C.REFRESH_TOKEN_HARD_TTL))
			return self._issue(chain, now, hard)

	def _issue(self, chain: Chain, now: datetime, hard: bool) -> dict:
		if chain.latest and chain.latest in self.refresh:
			current = self.refresh[chain.latest]
			if current.superseded_at is None:
				current.superseded_at = now
		refresh = "AB11" + secrets.token_urlsafe(36)
		access = "eyJ" + secrets.token_urlsafe(64)
		self.refresh[refresh] = RefreshToken(chain, now)
		chain.latest = refresh
		self.access[access] = AccessToken(chain, now + timedelta(seconds=C.ACCESS_TOKEN_TTL), chain.realm_id)
		body = {
			"x_refresh_token_expires_in": C.REFRESH_TOKEN_TTL,
			"refresh_token": refresh,
			"access_token": access,
			"token_type": "bearer",
			"expires_in": C.ACCESS_TOKEN_TTL,
		}
		if hard:
			body["x_refresh_token_hard_expires_in"] = max(0, int((chain.hard_expires - now).total_seconds()))
		return body

	def revoke(self, headers, form_or_json) -> None:
		"""Revoking either token disconnects the app: the whole chain and its access tokens die."""
		self.client(headers, form_or_json)
		token = str(form_or_json.get("token", ""))
		with self.lock:
			chain = None
			if token in self.refresh:
				chain = self.refresh[token].chain
			elif token in self.access:
				chain = self.access[token].chain
			if chain is None:
				raise OAuthError(400, "invalid_request", "Token invalid")
			chain.revoked = True

	# ---- API access ---------------------------------------------------------------------------------------
	def check(self, authorization: str | None, realm_id: str, now: datetime) -> tuple[int, str]:
		"""(0, "") when allowed, (401, detail) or (403, detail) otherwise."""
		if not authorization or not authorization.lower().startswith("bearer "):
			return 401, "Token invalid: no bearer token in the Authorization header"
		token = authorization[7:].strip()
		with self.lock:
			at = self.access.get(token)
			if at is None or at.chain.revoked:
				return 401, f"Token invalid: {token[:50]}"
			if now >= at.expires:
				return 401, f"Token expired: {token[:50]}"
			if at.realm_id != str(realm_id):
				return 403, f"The access token was issued for company {at.realm_id}, not {realm_id}."
		return 0, ""
