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
	"""One HTTP exchange, as reported to `on_exchange`. Its bodies are ALREADY REDACTED by the producer (the
	client and the OAuth client call redact_text / redact the parsed envelope), so a consumer such as the
	engine's audit recorder stores them as they are instead of parsing and redacting every body again."""

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
	query = redact_form(parts.query, C.URL_QUERY_ALLOWED_KEYS) if parts.query else ""
	return parts.path + (f"?{query}" if query else "")


def key_allowed(key: Any, value: Any = None) -> bool:
	"""May the value under this JSON key / XML name be stored? (allow-list: see qbo.constants)"""
	key = str(key)
	if key in C.JSON_ALLOWED_KEYS:
		return True
	if key == C.JSON_SHORT_CODE_KEY:
		return isinstance(value, (int, str)) and len(str(value)) <= C.JSON_SHORT_CODE_MAX
	if key in C.PASCAL_ALLOWED_TOKENISH:
		return True
	if not key[:1].isupper():  # camelCase / snake_case / anything else we did not list
		return False
	plain = re.sub(r"[^a-z0-9]", "", key.lower())
	return not any(marker in plain for marker in C.SECRET_NAME_MARKERS)


def redact_value(value: Any) -> Any:
	"""Recursively keep only allowed keys' values; every other value becomes [REDACTED]."""
	if isinstance(value, dict):
		return {k: (redact_value(v) if key_allowed(k, v) else C.REDACTED) for k, v in value.items()}
	if isinstance(value, list):
		return [redact_value(v) for v in value]
	if isinstance(value, str):
		return _scrub_free_text(value, long_runs=False)  # an allowed field's text: only credentials in it
	return value


def redact_form(text: str, allowed: frozenset[str] | set[str] = C.FORM_ALLOWED_KEYS) -> str:
	"""application/x-www-form-urlencoded bodies (token requests) and query strings: allow-listed keys only."""
	pairs = parse_qsl(text, keep_blank_values=True)
	return urlencode([(k, v if k in allowed else C.REDACTED) for k, v in pairs], safe="[]*(),")


_FORM = re.compile(r"[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*")
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# a JWT anywhere; in free text also any unbroken run of 40+ token characters (Intuit's refresh tokens, base64)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9._~+/=-])[A-Za-z0-9._~+/=-]{40,}")
# "key": "value" / "key": 123 pairs of a body that did not parse
_JSONISH_PAIR = re.compile(r'"([^"\\]{1,100})"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')
_XML_LEAF = re.compile(r"<([A-Za-z_][\w.:-]*)(\s[^<>]*)?>([^<]*)</\1\s*>")
_XML_ATTR = re.compile(r'([A-Za-z_][\w.:-]*)(\s*=\s*)("[^"]*"|\'[^\']*\')')


def _local_name(name: str) -> str:
	return name.rsplit(":", 1)[-1]


def _scrub_free_text(text: str, long_runs: bool = True) -> str:
	text = _BEARER.sub(lambda m: f"{m.group(1)} {C.REDACTED}", text)
	text = _JWT.sub(C.REDACTED, text)
	return _LONG_RUN.sub(C.REDACTED, text) if long_runs else text


def _redact_jsonish(text: str) -> str:
	"""A body that looks like JSON but does not parse: redact the values of keys not allowed."""

	def pair(m: re.Match) -> str:
		key, raw = m.group(1), m.group(2)
		value = raw[1:-1] if raw.startswith('"') else raw
		return m.group(0) if key_allowed(key, value) else f'"{key}": "{C.REDACTED}"'

	return _scrub_free_text(_JSONISH_PAIR.sub(pair, text))


def _redact_xml(text: str) -> str:
	"""XML (QBO answers some errors in XML): element text and attributes under names not allowed."""

	def attrs(raw: str | None) -> str:
		if not raw:
			return ""
		return _XML_ATTR.sub(
			lambda a: (
				a.group(0)
				if key_allowed(_local_name(a.group(1)), a.group(3)[1:-1]) or a.group(1).startswith("xmlns")
				else f'{a.group(1)}{a.group(2)}"{C.REDACTED}"'
			),
			raw,
		)

	def leaf(m: re.Match) -> str:
		tag, raw_attrs, body = m.group(1), m.group(2), m.group(3)
		body = body if key_allowed(_local_name(tag), body) else C.REDACTED
		return f"<{tag}{attrs(raw_attrs)}>{_scrub_free_text(body)}</{tag}>"

	text = _XML_LEAF.sub(leaf, text)
	# attributes of non-leaf elements (a second pass never re-redacts: [REDACTED] is allowed text)
	return re.sub(
		r"<([A-Za-z_][\w.:-]*)(\s[^<>]*?)(/?)>",
		lambda m: f"<{m.group(1)}{attrs(m.group(2))}{m.group(3)}>",
		text,
	)


def redact_text(text: str | bytes | None) -> str | None:
	"""Redact any body for an audit row or a log: JSON and form bodies by allow-list, XML by element and
	attribute name, a malformed JSON body by its "key": value pairs; Bearer/Basic credentials and long
	token-like strings wherever they appear (also in free text such as a traceback)."""
	if text is None:
		return None
	if isinstance(text, (bytes, bytearray)):
		text = bytes(text).decode("utf-8", errors="replace")
	stripped = text.strip()
	if stripped[:1] in ("{", "["):
		try:
			return dumps(redact_value(loads(stripped)))
		except ValueError:
			return _redact_jsonish(text)
	if stripped[:1] == "<":
		return _redact_xml(text)
	if _FORM.fullmatch(stripped):
		return redact_form(stripped)
	return _scrub_free_text(text)


def redact_headers(headers: dict[str, Any] | None) -> dict[str, Any]:
	"""Headers for logs: Authorization never survives."""
	return {
		k: (C.REDACTED if k.lower() in ("authorization", "cookie", "set-cookie") else v)
		for k, v in (headers or {}).items()
	}
