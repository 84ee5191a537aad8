"""OAuth over real HTTP on 127.0.0.1: authorize URL, state check, code exchange, rotating refresh, revoke,
and the single-flight TokenManager (8 threads, one refresh, rotated token persisted before use)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from qbo_testkit import Reply

from nexora_qbo.qbo import (
	ACCOUNTING_SCOPE,
	AUTHORIZE_URL,
	PRODUCTION_BASE_URL,
	SANDBOX_BASE_URL,
	TOKEN_URL,
	ConnectionFailed,
	InvalidGrantError,
	MemoryTokenStore,
	OAuthApp,
	OAuthError,
	OAuthTokens,
	TokenManager,
	resolve_endpoints,
	thread_lock_factory,
)

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)


class TokenServer:
	"""A rotating token endpoint: each refresh token works once; reusing one gives invalid_grant."""

	def __init__(self, delay: float = 0.0):
		self.delay = delay
		self.valid_refresh = {"rt-0"}
		self.codes = {"code-1"}
		self.counter = 0
		self.refresh_calls: list[str] = []
		self.revoked: list[str] = []
		self.lock = threading.Lock()

	def __call__(self, seen):
		form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
		if seen.path.endswith("/revoke"):
			self.revoked.append(json.loads(seen.body)["token"])
			return Reply(200, "", {})
		auth = seen.headers.get("authorization", "")
		if auth != "Basic " + base64.b64encode(b"cid:csecret").decode():
			return Reply(401, json.dumps({"error": "invalid_client"}), {"Content-Type": "application/json"})
		if self.delay:
			time.sleep(self.delay)
		with self.lock:
			if form.get("grant_type") == "authorization_code":
				if form.get("code") not in self.codes:
					return self._error()
				self.codes.discard(form["code"])
			elif form.get("grant_type") == "refresh_token":
				self.refresh_calls.append(form.get("refresh_token"))
				if form.get("refresh_token") not in self.valid_refresh:
					return self._error()
				self.valid_refresh.discard(form["refresh_token"])
			else:
				return self._error("unsupported_grant_type")
			self.counter += 1
			refresh = f"rt-{self.counter}"
			self.valid_refresh.add(refresh)
			body = {
				"access_token": f"at-{self.counter}",
				"refresh_token": refresh,
				"token_type": "bearer",
				"expires_in": 3600,
				"x_refresh_token_expires_in": 8726400,
			}
			if seen.headers.get("x-include-refresh-token-hard-expires-in") == "true":
				body["x_refresh_token_hard_expires_in"] = 156032154
		return Reply(
			200, json.dumps(body), {"Content-Type": "application/json", "intuit_tid": f"tid-{self.counter}"}
		)

	@staticmethod
	def _error(code: str = "invalid_grant") -> Reply:
		return Reply(
			400,
			json.dumps({"error_description": "Token invalid", "error": code}),
			{"Content-Type": "application/json"},
		)


def app_for(server, **kwargs) -> OAuthApp:
	return OAuthApp(
		"cid",
		"csecret",
		"http://127.0.0.1:9/callback",
		resolve_endpoints("custom", server.base_url),
		clock=kwargs.pop("clock", lambda: NOW),
		**kwargs,
	)


def test_resolve_endpoints():
	prod = resolve_endpoints("production")
	assert (
		prod.api_base_url == PRODUCTION_BASE_URL
		and prod.token_url == TOKEN_URL
		and prod.authorize_url == AUTHORIZE_URL
	)
	assert resolve_endpoints("sandbox").api_base_url == SANDBOX_BASE_URL
	custom = resolve_endpoints("custom", "http://127.0.0.1:8123/")
	assert custom.api_base_url == "http://127.0.0.1:8123"
	assert custom.authorize_url == "http://127.0.0.1:8123/oauth2/authorize"
	assert custom.token_url == "http://127.0.0.1:8123/oauth2/v1/tokens/bearer"
	assert custom.revoke_url == "http://127.0.0.1:8123/oauth2/v1/tokens/revoke"
	with pytest.raises(ValueError):
		resolve_endpoints("custom", "http://qbo.example.com")  # plain http only for loopback
	with pytest.raises(ValueError):
		resolve_endpoints("custom")
	with pytest.raises(ValueError):
		resolve_endpoints("staging")
	assert resolve_endpoints("custom", "https://qbo.example.com").token_url.startswith("https://")


def test_authorization_url_carries_state_and_stays_http_for_loopback(serve):
	server = serve(TokenServer())
	app = app_for(server)
	state = app.new_state()
	assert len(state) >= 32 and state != app.new_state()
	url = app.authorization_url(state)
	parts = urlsplit(url)
	assert url.startswith(server.base_url + "/oauth2/authorize?")
	query = {k: v[0] for k, v in parse_qs(parts.query).items()}
	assert query == {
		"response_type": "code",
		"client_id": "cid",
		"redirect_uri": "http://127.0.0.1:9/callback",
		"scope": ACCOUNTING_SCOPE,
		"state": state,
	}
	assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_state_mismatch_is_refused_before_any_http(serve):
	server = serve(TokenServer())
	with pytest.raises(OAuthError) as info:
		app_for(server).exchange_code("code-1", "r1", state="attacker", expected_state="mine")
	assert info.value.code == "state_mismatch" and server.seen == []


def test_exchange_code_then_refresh_rotates(serve):
	tokens_server = TokenServer()
	server = serve(tokens_server)
	exchanges: list = []
	app = app_for(server, on_exchange=exchanges.append)
	first = app.exchange_code("code-1", "r1", state="s1", expected_state="s1")
	assert (first.access_token, first.refresh_token, first.realm_id) == ("at-1", "rt-1", "r1")
	assert first.expires_at == NOW + timedelta(seconds=3600)
	assert first.refresh_hard_expires_at == NOW + timedelta(seconds=156032154)
	exchange_form = parse_qs(server.seen[0].body.decode())
	assert exchange_form["grant_type"] == ["authorization_code"] and exchange_form["code"] == ["code-1"]
	assert exchange_form["redirect_uri"] == ["http://127.0.0.1:9/callback"]
	second = app.refresh(first.refresh_token)
	assert (second.access_token, second.refresh_token) == ("at-2", "rt-2")
	for seen in server.seen:
		assert seen.headers["x-include-refresh-token-hard-expires-in"] == "true"
		assert seen.path == "/oauth2/v1/tokens/bearer"
	with pytest.raises(InvalidGrantError):
		app.refresh(first.refresh_token)  # the rotated-out token is dead
	assert [e.outcome for e in exchanges] == ["ok", "ok", "InvalidGrantError"]
	assert [e.intuit_tid for e in exchanges[:2]] == ["tid-1", "tid-2"]
	text = json.dumps([e.__dict__ for e in exchanges], default=str)
	for secret in ("at-1", "rt-1", "at-2", "rt-2", "code-1", "csecret"):
		assert f'{secret}"' not in text and f"{secret}&" not in text and f"={secret}" not in text


def test_invalid_client_is_an_oauth_error_and_revoke_posts_the_token(serve):
	server = serve(TokenServer())
	bad = OAuthApp("cid", "wrong", "http://127.0.0.1:9/cb", resolve_endpoints("custom", server.base_url))
	with pytest.raises(OAuthError) as info:
		bad.refresh("rt-0")
	assert not isinstance(info.value, InvalidGrantError) and info.value.code == "invalid_client"
	app_for(server).revoke("rt-0")
	assert server.seen[-1].path == "/oauth2/v1/tokens/revoke"
	assert json.loads(server.seen[-1].body) == {"token": "rt-0"}


def test_token_endpoint_down_is_connection_failed():
	import socket

	with socket.socket() as sock:
		sock.bind(("127.0.0.1", 0))
		port = sock.getsockname()[1]
	app = OAuthApp(
		"cid", "csecret", "http://127.0.0.1:9/cb", resolve_endpoints("custom", f"http://127.0.0.1:{port}")
	)
	with pytest.raises(ConnectionFailed) as info:
		app.refresh("rt-0")
	assert info.value.request_sent is False


def expired_tokens(refresh: str = "rt-0") -> OAuthTokens:
	return OAuthTokens("at-0", refresh, expires_at=NOW - timedelta(minutes=1), realm_id="r1")


class RecordingStore(MemoryTokenStore):
	def __init__(self, log: list, tokens: OAuthTokens):
		super().__init__({"r1": tokens})
		self.log = log

	def save(self, realm_id, tokens):
		self.log.append(("save", tokens.access_token, tokens.refresh_token))
		super().save(realm_id, tokens)


def test_eight_threads_share_one_refresh_and_the_store_sees_it_first(serve):
	token_server = TokenServer(delay=0.2)
	server = serve(token_server)
	log: list = []
	log_lock = threading.Lock()
	store = RecordingStore(log, expired_tokens())
	locks = thread_lock_factory()
	barrier = threading.Barrier(8)
	results: list[str] = []

	def worker():
		manager = TokenManager(
			app_for(server), "r1", store, locks, clock=lambda: NOW
		)  # one per worker, like RQ
		barrier.wait()
		token = manager.access_token()
		with log_lock:
			log.append(("use", token))
			results.append(token)

	threads = [threading.Thread(target=worker) for _ in range(8)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	assert token_server.refresh_calls == ["rt-0"]  # exactly one refresh
	assert results == ["at-1"] * 8
	assert log[0] == ("save", "at-1", "rt-1")
	assert [entry[0] for entry in log[1:]] == ["use"] * 8
	assert store.load("r1").refresh_token == "rt-1"


def test_refresh_after_401_is_a_noop_when_someone_already_refreshed(serve):
	token_server = TokenServer()
	server = serve(token_server)
	store = MemoryTokenStore({"r1": OAuthTokens("at-new", "rt-0", NOW + timedelta(hours=1))})
	manager = TokenManager(app_for(server), "r1", store, thread_lock_factory(), clock=lambda: NOW)
	assert manager.refresh("at-stale").access_token == "at-new"
	assert token_server.refresh_calls == []
	assert manager.refresh("at-new").access_token == "at-1"  # the stored token itself was rejected: refresh
	assert token_server.refresh_calls == ["rt-0"]


def test_a_failed_save_means_the_new_token_is_never_handed_out(serve):
	server = serve(TokenServer())

	class BrokenStore(MemoryTokenStore):
		def save(self, realm_id, tokens):
			raise RuntimeError("db down")

	manager = TokenManager(
		app_for(server), "r1", BrokenStore({"r1": expired_tokens()}), thread_lock_factory(), clock=lambda: NOW
	)
	with pytest.raises(RuntimeError):
		manager.access_token()


def test_rotation_chain_survives_many_refreshes_across_workers(serve):
	"""Workers each holding their own manager keep the chain alive: never an invalid_grant."""
	token_server = TokenServer(delay=0.01)
	server = serve(token_server)
	store = MemoryTokenStore({"r1": expired_tokens()})
	locks = thread_lock_factory()
	clock = {"now": NOW}
	errors: list[BaseException] = []

	def worker():
		manager = TokenManager(
			app_for(server, clock=lambda: clock["now"]), "r1", store, locks, clock=lambda: clock["now"]
		)
		for _ in range(5):
			try:
				manager.refresh(manager.access_token())
			except BaseException as exc:  # noqa: BLE001
				errors.append(exc)

	threads = [threading.Thread(target=worker) for _ in range(8)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	assert errors == []
	assert len(token_server.refresh_calls) == len(set(token_server.refresh_calls))  # no refresh token reused
	assert store.load("r1").refresh_token == f"rt-{token_server.counter}"


def test_tokens_round_trip_through_dict():
	tokens = OAuthTokens("a", "r", NOW, NOW + timedelta(days=100), NOW + timedelta(days=1800), "r1")
	assert OAuthTokens.from_dict(json.loads(json.dumps(tokens.to_dict()))) == tokens


def test_loopback_tunnel_is_mounted_only_for_loopback_http_origins():
	import requests

	from nexora_qbo.qbo.transport import LoopbackHTTPAdapter, mount_loopback, tunnel_url

	session = requests.Session()
	mount_loopback(
		session,
		"http://10.0.0.8:80/oauth2/v1/tokens/bearer",
		"https://127.0.0.1:99/x",
		"http://127.0.0.1:8123/oauth2/v1/tokens/bearer",
		"http://[::1]:8124/t",
	)
	tunnels = {
		prefix for prefix, adapter in session.adapters.items() if isinstance(adapter, LoopbackHTTPAdapter)
	}
	assert tunnels == {"https://127.0.0.1:8123/", "https://[::1]:8124/"}
	assert tunnel_url("http://10.0.0.8/x") == "http://10.0.0.8/x"  # oauthlib will refuse it, as it should
	assert isinstance(
		session.get_adapter("https://quickbooks.api.intuit.com/v3"), requests.adapters.HTTPAdapter
	)
	assert not isinstance(session.get_adapter("https://quickbooks.api.intuit.com/v3"), LoopbackHTTPAdapter)
