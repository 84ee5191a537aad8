"""The audit record of one HTTP attempt, and the redaction that keeps secrets out of it.

Invariant 3 of the architecture: every exchange with QBO leaves exactly one audit row, secrets redacted.
The client builds an Exchange per attempt and hands it to `on_exchange`; the engine persists it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import constants as C
from .jsonutil import dumps, loads


@dataclass
class Exchange:
	realm_id: str | None
	method: str
	url: str
	entity: str | None
	operation: str
	entity_id: str | None
	request_id: str | None
	request_body: str | None
	response_status: int | None
	response_body: str | None
	intuit_tid: str | None
	sync_token_sent: str | None
	sync_token_received: str | None
	outcome: str
	error_code: str | None
	attempt: int
	started_at: datetime
	duration_ms: float


ExchangeHook = Callable[[Exchange], None]


def path_and_query(url: str) -> str:
	"""Audit rows keep path+query only (no host, never a token; our URLs carry none)."""
	parts = urlsplit(url)
	query = redact_form(parts.query) if parts.query else ""
	return parts.path + (f"?{query}" if query else "")


def redact_value(value: Any) -> Any:
	"""Recursively replace values of secret keys (tokens, client secret, auth code)."""
	if isinstance(value, dict):
		return {
			k: (C.REDACTED if str(k).lower() in C.SECRET_KEYS else redact_value(v)) for k, v in value.items()
		}
	if isinstance(value, list):
		return [redact_value(v) for v in value]
	return value


def redact_form(text: str) -> str:
	"""application/x-www-form-urlencoded bodies (token requests): redact secret fields."""
	pairs = parse_qsl(text, keep_blank_values=True)
	return urlencode([(k, C.REDACTED if k.lower() in C.SECRET_KEYS else v) for k, v in pairs], safe="[]*(),")


_FORM = re.compile(r"[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*")
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact_text(text: str | bytes | None) -> str | None:
	"""Redact a JSON or form body (or anything else, best effort) for an audit row."""
	if text is None:
		return None
	if isinstance(text, (bytes, bytearray)):
		text = bytes(text).decode("utf-8", errors="replace")
	stripped = text.strip()
	if stripped[:1] in ("{", "["):
		try:
			return dumps(redact_value(loads(stripped)))
		except ValueError:
			pass
	elif _FORM.fullmatch(stripped):
		return redact_form(stripped)
	return _BEARER.sub(lambda m: f"{m.group(1)} {C.REDACTED}", text)


def redact_headers(headers: dict[str, Any] | None) -> dict[str, Any]:
	"""Headers for logs: Authorization never survives."""
	return {
		k: (C.REDACTED if k.lower() in ("authorization", "cookie", "set-cookie") else v)
		for k, v in (headers or {}).items()
	}
