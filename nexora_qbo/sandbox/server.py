"""`SandboxServer`: the sandbox on 127.0.0.1:<free port> in a background thread (werkzeug threaded server).

	with SandboxServer(seed=7) as sb:
		realm = sb.create_realm(multicurrency=True)
		client_id, secret = sb.register_app(redirect_uri="http://localhost/cb")
		tokens = sb.issue_tokens(realm, client_id)
		requests.get(f"{sb.base_url}/v3/company/{realm}/customer/1",
			headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"})

The helpers (create_realm, register_app, issue_tokens, advance_clock, set_faults, configure_webhook,
set_options, stats) act on the same in-process model as the `/_sandbox/...` admin endpoints.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import DropConnection, SandboxApp
from .state import SandboxState


class Handler(WSGIRequestHandler):
	"""Quiet request log; turns DropConnection into an abortive close (RST) with no HTTP response."""

	def log_request(self, *args, **kwargs):
		pass

	def connection_dropped(self, error, environ=None):
		if isinstance(error, DropConnection):
			self.close_connection = True
			try:
				self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
				self.connection.close()
			except OSError:
				pass


class SandboxServer:
	def __init__(
		self,
		host: str = "127.0.0.1",
		port: int = 0,
		*,
		seed: int = 0,
		speed: float = 1.0,
		start: bool = True,
		quiet: bool = True,
	):
		self.state = SandboxState(speed=speed, seed=seed)
		self.app = SandboxApp(self.state)
		if quiet:
			logging.getLogger("werkzeug").setLevel(logging.ERROR)
		self._server = make_server(host, port, self.app, threaded=True, request_handler=Handler)
		self.host = host
		self.port = self._server.server_port
		self._thread: threading.Thread | None = None
		self._serving = False
		if start:
			self.start()

	@property
	def base_url(self) -> str:
		return f"http://{self.host}:{self.port}"

	@property
	def clock(self):
		return self.state.clock

	def start(self) -> "SandboxServer":
		if self._thread is None:
			self._serving = True
			self._thread = threading.Thread(
				target=self._server.serve_forever, name="qbo-sandbox", daemon=True
			)
			self._thread.start()
		return self

	def serve_forever(self) -> None:
		self._serving = True
		self._server.serve_forever()

	def stop(self) -> None:
		if self._serving:
			self._server.shutdown()
			self._serving = False
		self._server.server_close()
		self.state.webhooks.stop()
		if self._thread is not None:
			self._thread.join(timeout=5)
			self._thread = None

	def __enter__(self) -> "SandboxServer":
		return self

	def __exit__(self, *exc) -> None:
		self.stop()

	# ---- Python API ---------------------------------------------------------------------------------------
	def create_realm(self, seed: bool = True, realm_id: str | None = None, **options) -> str:
		return self.state.create_realm(options, seed=seed, realm_id=realm_id)

	def realm(self, realm_id: str):
		return self.state.realm(realm_id)

	def seed_info(self, realm_id: str) -> dict:
		return self.state.seeds.get(realm_id, {})

	def register_app(
		self,
		redirect_uri: str | None = None,
		redirect_uris=(),
		default_realm: str | None = None,
		client_id: str | None = None,
		client_secret: str | None = None,
	) -> tuple[str, str]:
		uris = list(redirect_uris) + ([redirect_uri] if redirect_uri else [])
		app = self.state.auth.register_app(uris, default_realm, client_id, client_secret)
		return app.client_id, app.client_secret

	def issue_tokens(self, realm_id: str, client_id: str) -> dict:
		return self.state.auth.issue_direct(realm_id, client_id, self.state.clock.now())

	def advance_clock(self, seconds: float = 0, *, days: float = 0, hours: float = 0, minutes: float = 0):
		return self.state.clock.advance(seconds + 60 * minutes + 3600 * hours + 86400 * days)

	def set_speed(self, speed: float) -> None:
		self.state.clock.set_speed(speed)

	def set_faults(self, realm_id: str, **config) -> dict:
		return self.state.realm(realm_id).faults.configure(config)

	def set_oauth_faults(self, **config) -> dict:
		"""Faults for the token endpoint (reset, lost_response, error500/503, throttle, latency, script)."""
		return self.state.oauth_faults.configure(config)

	def set_options(self, realm_id: str, **options) -> dict:
		return self.state.set_options(realm_id, options)

	def configure_webhook(
		self, realm_id: str, url: str | None, verifier_token: str = "", fmt: str = "legacy"
	):
		self.state.configure_webhook(realm_id, url, verifier_token, fmt)

	def flush_webhooks(self, timeout: float = 5.0) -> bool:
		return self.state.webhooks.flush(timeout)

	def stats(self, realm_id: str) -> dict:
		from .admin import realm_stats

		return realm_stats(self.state.realm(realm_id))
