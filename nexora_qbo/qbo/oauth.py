"""OAuth 2.0 for QBO (requests-oauthlib): authorize, code exchange, rotating refresh, revoke.

The failure integrators hit most is a lost refresh-token chain: Intuit rotates the refresh token, and a
worker that refreshes without persisting the new one first, or two workers refreshing at once, ends in
`invalid_grant` and a dead connection. So: every refresh runs single-flight under a per-realm lock,
re-reads the store inside the lock (another worker may already have refreshed), and saves the new tokens
to the store BEFORE returning the access token to anyone.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from oauthlib.oauth2 import OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from . import constants as C
from .endpoints import Endpoints
from .errors import OAuthError, QBOError, body_text, intuit_tid_of, oauth_error
from .exchange import Exchange, ExchangeHook, path_and_query, redact_text
from .jsonutil import dumps, loads
from .timeutil import parse_qbo_datetime, utcnow
from .transport import connection_failed, elapsed_ms, mount_loopback, tunnel_url, untunnel_url


def _masked(secret: str | None) -> str:
	"""How a secret shows in a repr: whether it is set, never any of its characters."""
	return C.REDACTED if secret else repr(secret)


@dataclass(repr=False)
class OAuthTokens:
	"""A realm's tokens. The repr is redacted: tracebacks with locals (Frappe's Error Log) print it."""

	access_token: str
	refresh_token: str
	expires_at: datetime
	refresh_expires_at: datetime | None = None
	refresh_hard_expires_at: datetime | None = None
	realm_id: str | None = None
	token_type: str = "bearer"

	def __repr__(self) -> str:
		return (
			f"OAuthTokens(access_token={_masked(self.access_token)}, refresh_token={_masked(self.refresh_token)}, "
			f"expires_at={self.expires_at!r}, refresh_expires_at={self.refresh_expires_at!r}, "
			f"refresh_hard_expires_at={self.refresh_hard_expires_at!r}, realm_id={self.realm_id!r})"
		)

	def to_dict(self) -> dict[str, Any]:
		"""Plain JSON-able dict (ISO datetimes) for a password field / DocType."""
		data = asdict(self)
		for key in ("expires_at", "refresh_expires_at", "refresh_hard_expires_at"):
			if data[key] is not None:
				data[key] = data[key].isoformat()
		return data

	@classmethod
	def from_dict(cls, data: dict[str, Any]) -> OAuthTokens:
		def when(value: Any) -> datetime | None:
			if value in (None, ""):
				return None
			if isinstance(value, datetime):
				return value
			return parse_qbo_datetime(str(value))

		return cls(
			access_token=data["access_token"],
			refresh_token=data["refresh_token"],
			expires_at=when(data["expires_at"]),
			refresh_expires_at=when(data.get("refresh_expires_at")),
			refresh_hard_expires_at=when(data.get("refresh_hard_expires_at")),
			realm_id=data.get("realm_id"),
			token_type=data.get("token_type") or "bearer",
		)


class TokenStore(Protocol):
	def load(self, realm_id: str) -> OAuthTokens | None: ...

	def save(self, realm_id: str, tokens: OAuthTokens) -> None: ...


LockFactory = Callable[[str], AbstractContextManager]


def thread_lock_factory() -> LockFactory:
	"""An in-process LockFactory (one threading.Lock per name); Frappe passes a Redis lock instead."""
	locks: dict[str, threading.Lock] = {}
	guard = threading.Lock()

	def factory(name: str) -> AbstractContextManager:
		with guard:
			return locks.setdefault(name, threading.Lock())

	return factory


class MemoryTokenStore:
	"""A dict-backed TokenStore for tests, the CLI and the demo."""

	def __init__(self, initial: dict[str, OAuthTokens] | None = None):
		self._tokens: dict[str, OAuthTokens] = dict(initial or {})
		self._lock = threading.Lock()

	def load(self, realm_id: str) -> OAuthTokens | None:
		with self._lock:
			return self._tokens.get(realm_id)

	def save(self, realm_id: str, tokens: OAuthTokens) -> None:
		with self._lock:
			self._tokens[realm_id] = tokens


def parse_token_response(
	status: int,
	headers: dict[str, Any] | None,
	body: bytes | str | None,
	*,
	now: datetime,
	realm_id: str | None = None,
	previous_refresh_token: str | None = None,
) -> OAuthTokens:
	"""A token endpoint response -> OAuthTokens, or OAuthError/InvalidGrantError (never KeyError)."""
	text = body_text(body)
	tid = intuit_tid_of(headers)
	try:
		data = loads(text) if text.strip() else None
	except ValueError:
		data = None
	if status is None or not 200 <= status < 300:
		if isinstance(data, dict):
			raise oauth_error(status, data, tid=tid, body=redact_text(text))
		raise OAuthError(
			f"token endpoint HTTP {status}", http_status=status, intuit_tid=tid, body=redact_text(text)
		)
	if not isinstance(data, dict):
		raise OAuthError(
			"token endpoint returned a non-JSON body",
			http_status=status,
			intuit_tid=tid,
			body=redact_text(text),
		)
	if data.get("error"):
		raise oauth_error(status, data, tid=tid, body=redact_text(text))
	access = data.get("access_token")
	refresh = data.get("refresh_token") or previous_refresh_token
	if not access or not refresh:
		raise OAuthError(
			"token response lacks access_token/refresh_token",
			http_status=status,
			intuit_tid=tid,
			body=redact_text(text),
		)
	return OAuthTokens(
		access_token=str(access),
		refresh_token=str(refresh),
		expires_at=now + timedelta(seconds=_seconds(data.get("expires_in"), 3600)),
		refresh_expires_at=_after(now, data.get("x_refresh_token_expires_in")),
		refresh_hard_expires_at=_after(now, data.get("x_refresh_token_hard_expires_in")),
		realm_id=realm_id,
		token_type=str(data.get("token_type") or "bearer"),
	)


def _seconds(value: Any, default: float) -> float:
	try:
		return float(value)
	except (TypeError, ValueError):
		return default


def _after(now: datetime, seconds: Any) -> datetime | None:
	if seconds in (None, ""):
		return None
	try:
		return now + timedelta(seconds=float(seconds))
	except (TypeError, ValueError, OverflowError):
		return None


class OAuthApp:
	"""One Intuit app (client id/secret, redirect URI) against one set of endpoints."""

	def __init__(
		self,
		client_id: str,
		client_secret: str,
		redirect_uri: str,
		endpoints: Endpoints,
		scopes: tuple[str, ...] | list[str] = (C.ACCOUNTING_SCOPE,),
		timeout: Any = C.DEFAULT_TIMEOUT,
		session: requests.Session | None = None,
		on_exchange: ExchangeHook | None = None,
		clock: Callable[[], datetime] = utcnow,
	):
		self.client_id = client_id
		self.client_secret = client_secret
		self.redirect_uri = redirect_uri
		self.endpoints = endpoints
		self.scopes = list(scopes)
		self.timeout = timeout
		self._session = session
		self.on_exchange = on_exchange
		self.clock = clock

	def __repr__(self) -> str:
		return (
			f"OAuthApp(client_id={self.client_id!r}, client_secret={_masked(self.client_secret)}, "
			f"token_url={self.endpoints.token_url!r})"
		)

	# -- authorize ---------------------------------------------------------------------------------
	@staticmethod
	def new_state() -> str:
		"""An unguessable CSRF state; the callback must present it back (compare_digest)."""
		return secrets.token_urlsafe(32)

	def authorization_url(self, state: str) -> str:
		if not state:
			raise OAuthError("authorization_url needs a state")
		oauth = OAuth2Session(self.client_id, scope=self.scopes, redirect_uri=self.redirect_uri, state=state)
		url, _ = oauth.authorization_url(tunnel_url(self.endpoints.authorize_url), state=state)
		return untunnel_url(url, self.endpoints.authorize_url)

	# -- token calls -------------------------------------------------------------------------------
	def exchange_code(self, code: str, realm_id: str, *, state: str, expected_state: str) -> OAuthTokens:
		"""Trade the callback's code for tokens; refuses before any HTTP when the state does not match."""
		if not state or not expected_state or not hmac.compare_digest(str(state), str(expected_state)):
			raise OAuthError(
				"OAuth state mismatch: possible CSRF or a stale authorization attempt", code="state_mismatch"
			)
		if not code:
			raise OAuthError("authorization callback carried no code", code="missing_code")
		oauth = self._oauth_session(scope=self.scopes)
		return self._token_call(
			oauth,
			"access_token_response",
			realm_id,
			previous_refresh_token=None,
			call=lambda headers: oauth.fetch_token(
				tunnel_url(self.endpoints.token_url),
				code=code,
				auth=self._auth(),
				timeout=self.timeout,
				headers=headers,
				include_client_id=False,
			),
		)

	def refresh(self, refresh_token: str, *, realm_id: str | None = None) -> OAuthTokens:
		"""Exchange a refresh token; the answer may carry a NEW refresh token that replaces the old one."""
		oauth = self._oauth_session(scope=None)
		return self._token_call(
			oauth,
			"refresh_token_response",
			realm_id,
			previous_refresh_token=refresh_token,
			call=lambda headers: oauth.refresh_token(
				tunnel_url(self.endpoints.token_url),
				refresh_token=refresh_token,
				auth=self._auth(),
				timeout=self.timeout,
				headers=headers,
			),
		)

	def revoke(self, token: str, *, realm_id: str | None = None) -> None:
		"""Revoke a refresh (or access) token: disconnect."""
		oauth = self._oauth_session(scope=None)
		body = dumps({"token": token})
		started_at, start = self.clock(), time.perf_counter()
		try:
			response = oauth.post(
				tunnel_url(self.endpoints.revoke_url),
				data=body,
				auth=self._auth(),
				timeout=self.timeout,
				headers={"Accept": "application/json", "Content-Type": "application/json"},
				withhold_token=True,
			)
		except requests.exceptions.RequestException as exc:
			error = connection_failed(exc)
			self._report(
				"revoke",
				self.endpoints.revoke_url,
				realm_id,
				body,
				None,
				None,
				None,
				error,
				started_at,
				start,
			)
			raise error from exc
		finally:
			self._close(oauth)
		headers = dict(response.headers)
		error = None
		if not 200 <= response.status_code < 300:
			try:
				data = loads(response.text) if response.text.strip() else None
			except ValueError:
				data = None
			error = oauth_error(
				response.status_code,
				data if isinstance(data, dict) else {},
				tid=intuit_tid_of(headers),
				body=redact_text(response.text),
			)
		self._report(
			"revoke",
			self.endpoints.revoke_url,
			realm_id,
			body,
			response.status_code,
			headers,
			response.text,
			error,
			started_at,
			start,
		)
		if error:
			raise error

	# -- internals ---------------------------------------------------------------------------------
	def _close(self, oauth: OAuth2Session) -> None:
		"""Release a per-call session's sockets, unless its adapters are the caller's (theirs to close)."""
		if self._session is None:
			oauth.close()

	def _auth(self) -> HTTPBasicAuth:
		return HTTPBasicAuth(self.client_id, self.client_secret)

	def _oauth_session(self, scope: list[str] | None) -> OAuth2Session:
		oauth = OAuth2Session(self.client_id, scope=scope, redirect_uri=self.redirect_uri)
		if self._session is not None:  # reuse the caller's transport (pools, proxies) without mutating it
			oauth.adapters = type(self._session.adapters)(self._session.adapters)
		mount_loopback(oauth, self.endpoints.token_url, self.endpoints.revoke_url)
		return oauth

	def _token_call(
		self,
		oauth: OAuth2Session,
		hook_type: str,
		realm_id: str | None,
		*,
		previous_refresh_token: str | None,
		call: Callable[[dict[str, str]], Any],
	) -> OAuthTokens:
		"""Run a token request; our hook sees the raw response first, audits it and parses it ourselves."""
		headers = {
			"Accept": "application/json",
			"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
			C.HARD_EXPIRY_HEADER: "true",
		}
		started_at, start = self.clock(), time.perf_counter()
		parsed: dict[str, OAuthTokens] = {}

		def hook(response: requests.Response) -> requests.Response:
			resp_headers = dict(response.headers)
			request_body = response.request.body if response.request is not None else None
			try:
				parsed["tokens"] = parse_token_response(
					response.status_code,
					resp_headers,
					response.content,
					now=started_at,
					realm_id=realm_id,
					previous_refresh_token=previous_refresh_token,
				)
			except QBOError as error:
				self._report(
					"token",
					self.endpoints.token_url,
					realm_id,
					request_body,
					response.status_code,
					resp_headers,
					response.text,
					error,
					started_at,
					start,
				)
				raise
			self._report(
				"token",
				self.endpoints.token_url,
				realm_id,
				request_body,
				response.status_code,
				resp_headers,
				response.text,
				None,
				started_at,
				start,
			)
			return response

		oauth.register_compliance_hook(hook_type, hook)
		try:
			call(headers)
		except QBOError:
			raise
		except requests.exceptions.RequestException as exc:
			error = connection_failed(exc)
			self._report(
				"token", self.endpoints.token_url, realm_id, None, None, None, None, error, started_at, start
			)
			raise error from exc
		except (OAuth2Error, Warning, ValueError) as exc:
			if "tokens" not in parsed:
				raise OAuthError(f"token response rejected: {exc}") from exc
		finally:
			self._close(oauth)
		if "tokens" not in parsed:
			raise OAuthError("token endpoint gave no parsable answer")
		return parsed["tokens"]

	def _report(
		self,
		operation: str,
		url: str,
		realm_id: str | None,
		request_body: Any,
		status: int | None,
		headers: dict[str, Any] | None,
		response_text: str | None,
		error: QBOError | None,
		started_at: datetime,
		start: float,
	) -> None:
		if self.on_exchange is None:
			return
		if isinstance(request_body, bytes):
			request_body = request_body.decode("utf-8", errors="replace")
		self.on_exchange(
			Exchange(
				realm_id=realm_id,
				method="POST",
				url=path_and_query(url),
				entity=None,
				operation=operation,
				entity_id=None,
				request_id=None,
				request_body=redact_text(request_body),
				response_status=status,
				response_body=redact_text(response_text),
				intuit_tid=intuit_tid_of(headers),
				sync_token_sent=None,
				sync_token_received=None,
				outcome="ok" if error is None else type(error).__name__,
				error_code=None if error is None else error.code,
				attempt=1,
				started_at=started_at,
				duration_ms=elapsed_ms(start),
			)
		)


class TokenManager:
	"""Hands out a valid access token for one realm; refreshes single-flight and persists first."""

	def __init__(
		self,
		app: OAuthApp,
		realm_id: str,
		store: TokenStore,
		lock_factory: LockFactory,
		clock: Callable[[], datetime] = utcnow,
		leeway: float = 300,
	):
		self.app = app
		self.realm_id = realm_id
		self.store = store
		self.lock_factory = lock_factory
		self.clock = clock
		self.leeway = timedelta(seconds=leeway)
		self._cached: OAuthTokens | None = None
		self._cache_lock = threading.Lock()

	def __repr__(self) -> str:
		return f"TokenManager(realm_id={self.realm_id!r}, app={self.app!r})"

	@property
	def lock_name(self) -> str:
		return f"qbo-token:{self.realm_id}"

	def _fresh(self, tokens: OAuthTokens | None) -> bool:
		return tokens is not None and tokens.expires_at - self.leeway > self.clock()

	def _load(self) -> OAuthTokens:
		tokens = self.store.load(self.realm_id)
		if tokens is None:
			raise OAuthError(
				f"realm {self.realm_id} is not connected (no tokens stored)", code="not_connected"
			)
		return tokens

	def access_token(self) -> str:
		"""A token valid for at least `leeway` seconds; refreshes at most once across threads/workers."""
		with self._cache_lock:
			cached = self._cached
		if self._fresh(cached):
			return cached.access_token
		tokens = self._load()
		if self._fresh(tokens):
			self._remember(tokens)
			return tokens.access_token
		with self.lock_factory(self.lock_name):
			tokens = self._load()  # another worker may have refreshed while we waited for the lock
			if self._fresh(tokens):
				self._remember(tokens)
				return tokens.access_token
			return self._refresh_locked(tokens).access_token

	def refresh(self, stale_access_token: str | None = None) -> OAuthTokens:
		"""Refresh after a 401; a no-op when the store already holds a different (newer) access token."""
		with self.lock_factory(self.lock_name):
			tokens = self._load()
			if stale_access_token is not None and tokens.access_token != stale_access_token:
				self._remember(tokens)
				return tokens
			return self._refresh_locked(tokens)

	def _refresh_locked(self, current: OAuthTokens) -> OAuthTokens:
		new = self.app.refresh(current.refresh_token, realm_id=self.realm_id)
		new.realm_id = self.realm_id
		self.store.save(self.realm_id, new)  # persist the rotated refresh token BEFORE anyone uses it
		self._remember(new)
		return new

	def _remember(self, tokens: OAuthTokens) -> None:
		with self._cache_lock:
			self._cached = tokens
