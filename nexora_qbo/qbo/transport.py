"""HTTP plumbing shared by the API client and the OAuth app.

Loopback tunnel: oauthlib refuses http:// token/authorize URLs unless the process-wide
OAUTHLIB_INSECURE_TRANSPORT env var is set, which would silently allow http for EVERY host in the
process (including real Intuit URLs typed wrong). Instead, for a loopback http endpoint (the local
sandbox) we hand oauthlib the https:// spelling and mount a requests adapter, only for that exact
scheme://host:port prefix, that sends the request over http. Nothing global changes, and no other host
can ever be reached over plain http.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .endpoints import is_loopback_http
from .errors import ConnectionFailed


class LoopbackHTTPAdapter(HTTPAdapter):
	"""Sends https://<loopback> requests as http://<loopback> (see module docstring)."""

	def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
		if request.url and request.url.startswith("https://"):
			request.url = "http://" + request.url[len("https://") :]
		kwargs.pop("verify", None)
		kwargs.pop("cert", None)
		return super().send(request, **kwargs)


def tunnel_url(url: str) -> str:
	"""The https:// spelling oauthlib accepts for a loopback http URL; other URLs unchanged."""
	if is_loopback_http(url):
		return "https://" + url[len("http://") :]
	return url


def untunnel_url(url: str, original: str) -> str:
	"""Undo tunnel_url for a URL built from `original` (e.g. the authorize URL shown to the user)."""
	if is_loopback_http(original) and url.startswith("https://"):
		return "http://" + url[len("https://") :]
	return url


def mount_loopback(session: requests.Session, *urls: str) -> None:
	"""Mount the tunnel adapter for each loopback http URL's origin, and nothing else."""
	for url in urls:
		if is_loopback_http(url):
			parts = urlsplit(url)
			session.mount(f"https://{parts.netloc}/", LoopbackHTTPAdapter())


def connection_failed(exc: BaseException, *, intuit_tid: str | None = None) -> ConnectionFailed:
	"""Classify a requests exception: did QBO possibly receive (and commit) the request?

	Connect failures (refused, DNS, connect timeout) never reached QBO. Read timeouts and resets after
	the request was written may have been committed, so `request_sent=True` tells the engine to rely on
	the requestid replay (or to reconcile) rather than assume nothing happened.
	"""
	sent = True
	if isinstance(exc, requests.exceptions.ConnectTimeout):
		sent = False
	elif isinstance(exc, (requests.exceptions.ProxyError, requests.exceptions.SSLError)):
		sent = False
	elif isinstance(exc, requests.exceptions.ConnectionError):
		reason = _root_reason(exc)
		name = type(reason).__name__
		if name in (
			"NewConnectionError",
			"ConnectTimeoutError",
			"NameResolutionError",
			"ConnectionRefusedError",
			"gaierror",
			"LocationParseError",
		):
			sent = False
	elif isinstance(
		exc,
		(
			requests.exceptions.InvalidURL,
			requests.exceptions.MissingSchema,
			requests.exceptions.InvalidSchema,
		),
	):
		sent = False
	return ConnectionFailed(f"{type(exc).__name__}: {exc}", request_sent=sent, intuit_tid=intuit_tid)


def _root_reason(exc: BaseException) -> BaseException:
	"""Walk urllib3's wrapping (MaxRetryError.reason, __cause__, args) down to the first cause."""
	seen = set()
	current: BaseException = exc
	while id(current) not in seen:
		seen.add(id(current))
		nxt = getattr(current, "reason", None)
		if not isinstance(nxt, BaseException):
			args = getattr(current, "args", ())
			nxt = next((a for a in args if isinstance(a, BaseException)), None)
		if nxt is None:
			nxt = current.__cause__ or current.__context__
		if not isinstance(nxt, BaseException):
			break
		if type(nxt).__name__ in (
			"NewConnectionError",
			"ConnectTimeoutError",
			"NameResolutionError",
			"ConnectionRefusedError",
			"gaierror",
		):
			return nxt
		current = nxt
	return current


def now_utc() -> datetime:
	return datetime.now(timezone.utc)


def elapsed_ms(start: float) -> float:
	return (time.perf_counter() - start) * 1000.0


def response_headers(response: requests.Response | None) -> Mapping[str, Any]:
	return dict(response.headers) if response is not None else {}
