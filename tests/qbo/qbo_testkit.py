"""Test kit for the QBO client tests (imported by name: tests/ is not a package).

A scripted HTTP server on 127.0.0.1 and fake token/clock helpers.

The client is always exercised over real HTTP (no mocking library): the server below answers with
whatever status/headers/body a test scripts (or with a recorded fixture), records every request it saw,
and can reset the connection or drop the response to simulate network failures.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

RESET = "RESET"  # read the request, then RST the connection: the request WAS sent
DROP = "DROP"  # read the request, then close without answering: a lost response


@dataclass
class Seen:
	method: str
	path: str
	query: dict[str, list[str]]
	headers: dict[str, str]
	body: bytes

	def param(self, name: str) -> str | None:
		values = self.query.get(name)
		return values[0] if values else None


@dataclass
class Reply:
	status: int = 200
	body: bytes | str = b"{}"
	headers: dict[str, Any] = field(default_factory=lambda: {"Content-Type": "application/json"})


Handler = Callable[[Seen], Any]


class ScriptedServer:
	"""A tiny threaded HTTP/1.1 server; `handler(seen)` returns Reply, RESET or DROP."""

	def __init__(self, handler: Handler):
		self.handler = handler
		self.seen: list[Seen] = []
		self.errors: list[BaseException] = []
		self._lock = threading.Lock()
		server = self

		class _Handler(BaseHTTPRequestHandler):
			protocol_version = "HTTP/1.1"

			def log_message(self, *args: Any) -> None:  # keep pytest output quiet
				pass

			def _handle(self) -> None:
				length = int(self.headers.get("Content-Length") or 0)
				body = self.rfile.read(length) if length else b""
				parts = urlsplit(self.path)
				seen = Seen(
					self.command,
					parts.path,
					parse_qs(parts.query, keep_blank_values=True),
					{k.lower(): v for k, v in self.headers.items()},
					body,
				)
				with server._lock:
					server.seen.append(seen)
				try:
					reply = server.handler(seen)
				except Exception as exc:  # surface handler assertions in the test, not as a dead socket
					server.errors.append(exc)
					reply = Reply(599, f"scripted handler failed: {exc!r}", {"Content-Type": "text/plain"})
				if reply == RESET:
					self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
					self.close_connection = True
					self.connection.close()
					return
				if reply == DROP:
					self.close_connection = True
					try:
						self.connection.shutdown(socket.SHUT_RDWR)
					except OSError:
						pass
					return
				payload = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
				self.send_response(reply.status)
				for key, value in reply.headers.items():
					for item in value if isinstance(value, list) else [value]:
						if key.lower() not in ("content-length", "transfer-encoding", "connection"):
							self.send_header(key, str(item))
				self.send_header("Content-Length", str(len(payload)))
				self.end_headers()
				self.wfile.write(payload)

			do_GET = do_POST = do_PUT = do_DELETE = _handle

		self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
		self.httpd.daemon_threads = True
		self.thread = threading.Thread(
			target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
		)
		self.thread.start()
		self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

	def stop(self) -> None:
		self.httpd.shutdown()
		self.httpd.server_close()


def sequence(*replies: Any) -> Handler:
	"""A handler answering with each reply in turn (the last one repeats)."""
	items = list(replies)
	state = {"i": 0}
	lock = threading.Lock()

	def handler(seen: Seen) -> Any:
		with lock:
			reply = items[min(state["i"], len(items) - 1)]
			state["i"] += 1
		return reply(seen) if callable(reply) else reply

	return handler


class FakeTokens:
	"""The QBOClient's `tokens` dependency: a fixed access token, refresh swaps in the next one."""

	def __init__(self, tokens: tuple[str, ...] = ("tok-1", "tok-2", "tok-3")):
		self._tokens = list(tokens)
		self.current = self._tokens.pop(0)
		self.refresh_calls: list[str | None] = []

	def access_token(self) -> str:
		return self.current

	def refresh(self, stale: str | None = None) -> Any:
		self.refresh_calls.append(stale)
		if stale == self.current:
			self.current = self._tokens.pop(0)
		return self.current


class FakeClock:
	"""Monotonic seconds that only move when the code under test 'sleeps'."""

	def __init__(self, start: float = 1000.0):
		self.now = start
		self.sleeps: list[float] = []
		self._lock = threading.Lock()

	def __call__(self) -> float:
		with self._lock:
			return self.now

	def sleep(self, seconds: float) -> None:
		with self._lock:
			self.sleeps.append(seconds)
			self.now += seconds


def load_cassette(path) -> list[dict[str, Any]]:
	"""VCR cassette -> its http_interactions."""
	with open(path, encoding="utf-8") as handle:
		return yaml.safe_load(handle)["http_interactions"]


def recorded_reply(interaction: dict[str, Any]) -> Reply:
	response = interaction["response"]
	return Reply(response["status"]["code"], response["body"]["string"], dict(response["headers"]))
