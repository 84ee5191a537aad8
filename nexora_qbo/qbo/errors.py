"""Typed QBO errors, mapped from EXACT fault codes.

Why exact codes: a prefix rule ("starts with 5") once classified 5010 (stale object) as an auth error in a
shipped integration; the engine decides merge/retry/park from these classes, so a wrong class is data loss.
Any body (JSON, lower-case `fault`, XML, HTML, empty) becomes a QBOError, never a KeyError.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from . import constants as C
from .jsonutil import loads


class QBOError(Exception):
	"""Base of every client error; carries what an audit row and Intuit support need."""

	retryable_default = False

	def __init__(
		self,
		message: str = "",
		*,
		code: str | None = None,
		detail: str = "",
		element: str | None = None,
		fault_type: str | None = None,
		http_status: int | None = None,
		intuit_tid: str | None = None,
		body: str | None = None,
		retry_after: float | None = None,
	):
		super().__init__(message or detail or code or self.__class__.__name__)
		self.retry_after = retry_after  # seconds from a Retry-After header, on any error that carried one
		self.code = code
		self.message = message
		self.detail = detail
		self.element = element
		self.fault_type = fault_type
		self.http_status = http_status
		self.intuit_tid = intuit_tid
		self.body = body

	@property
	def retryable(self) -> bool:
		"""Whether re-sending the same request (same requestid) may succeed."""
		return self.retryable_default

	def __str__(self) -> str:
		bits = [self.message or self.__class__.__name__]
		if self.code:
			bits.append(f"code={self.code}")
		if self.detail and self.detail != self.message:
			bits.append(f"detail={self.detail}")
		if self.element:
			bits.append(f"element={self.element}")
		if self.http_status:
			bits.append(f"http={self.http_status}")
		if self.intuit_tid:
			bits.append(f"intuit_tid={self.intuit_tid}")
		return "; ".join(bits)


class AuthenticationError(QBOError):
	"""401 / 3200: the access token is expired or revoked; refresh once, then reconnect."""


class AuthorizationError(QBOError):
	"""403 that is not a throttle: the user/app lacks permission (e.g. subscription lapsed)."""


class ThrottleError(QBOError):
	"""3001 / 429 / 'ThrottleExceeded' (JSON or XML, 429 or 403): wait and resend the same request."""

	retryable_default = True


class StaleObjectError(QBOError):
	"""5010: the SyncToken was stale; re-read, merge and retry."""


class DuplicateNameError(QBOError):
	"""6240: DisplayName/Name clashes (unique across Customer, Vendor and Employee)."""


class ObjectNotFoundError(QBOError):
	"""610: missing, or referenced while inactive."""


class ValidationError(QBOError):
	"""2020, 2030, 6000 and any other ValidationFault: the request itself is wrong; do not retry."""


class QueryError(ValidationError):
	"""4000/4001: the query text or paging is invalid."""


class UnsupportedOperationError(QBOError):
	"""Fault code 500 (not HTTP 500): the path/operation does not exist for this entity."""


class ServerError(QBOError):
	"""HTTP 5xx or SystemFault: Intuit says resubmit; safe because writes carry a requestid."""

	retryable_default = True


class ConnectionFailed(QBOError):
	"""Network error or timeout. `request_sent` says whether QBO may have committed the change."""

	retryable_default = True

	def __init__(self, *args: Any, request_sent: bool = False, **kwargs: Any):
		super().__init__(*args, **kwargs)
		self.request_sent = request_sent


class OAuthError(QBOError):
	"""Token endpoint errors (state mismatch, invalid_client, unparseable token response...)."""


class InvalidGrantError(OAuthError):
	"""`invalid_grant`: the refresh-token chain or the code is dead; the user must reconnect."""


@dataclass
class Fault:
	"""One parsed error entry, whatever the envelope was."""

	code: str | None = None
	message: str = ""
	detail: str = ""
	element: str | None = None
	fault_type: str | None = None


def header(headers: Mapping[str, Any] | None, *names: str) -> str | None:
	"""Case-insensitive header lookup tolerating list values (VCR cassettes store lists)."""
	if not headers:
		return None
	wanted = {name.lower() for name in names}
	for key, value in headers.items():
		if str(key).lower() in wanted:
			if isinstance(value, (list, tuple)):
				value = value[0] if value else None
			return None if value is None else str(value)
	return None


def intuit_tid_of(headers: Mapping[str, Any] | None) -> str | None:
	"""Intuit's trace id: `Intuit-Tid` on the API, `intuit_tid` on the token endpoint."""
	return header(headers, *C.INTUIT_TID_HEADERS)


def parse_retry_after(value: str | None) -> float | None:
	"""Retry-After as seconds or an HTTP date; None when absent or nonsense."""
	if value is None:
		return None
	value = value.strip()
	try:
		seconds = float(value)
		return max(0.0, seconds)
	except ValueError:
		pass
	try:
		when = parsedate_to_datetime(value)
	except (TypeError, ValueError):
		return None
	if when is None:
		return None
	from datetime import datetime, timezone

	if when.tzinfo is None:
		when = when.replace(tzinfo=timezone.utc)
	return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def body_text(body: bytes | str | None) -> str:
	"""Decode a body for messages/audit without ever failing."""
	if body is None:
		return ""
	if isinstance(body, (bytes, bytearray)):
		return bytes(body).decode("utf-8", errors="replace")
	return str(body)


def _ci_get(mapping: Mapping[str, Any], key: str) -> Any:
	"""Key lookup ignoring case: the 401 envelope is `fault`/`error`/`message`, the rest is `Fault`/..."""
	if key in mapping:
		return mapping[key]
	lower = key.lower()
	for candidate, value in mapping.items():
		if isinstance(candidate, str) and candidate.lower() == lower:
			return value
	return None


def fault_from_json(data: Any) -> Fault | None:
	"""The first Error of a `Fault`/`fault` envelope (or of a bare fault object), else None."""
	if not isinstance(data, Mapping):
		return None
	envelope = _ci_get(data, "Fault")
	if not isinstance(envelope, Mapping):
		if _ci_get(data, "Error") is not None and _ci_get(data, "type") is not None:
			envelope = data  # a bare fault object (batch items hand us this)
		else:
			return None
	errors = _ci_get(envelope, "Error")
	first: Mapping[str, Any] = {}
	if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
		first = errors[0]
	elif isinstance(errors, Mapping):
		first = errors
	code = _ci_get(first, "code")
	element = _ci_get(first, "element")
	return Fault(
		code=None if code is None else str(code),
		message=str(_ci_get(first, "Message") or ""),
		detail=str(_ci_get(first, "Detail") or ""),
		element=(str(element) or None) if element is not None else None,
		fault_type=_ci_get(envelope, "type"),
	)


def fault_from_xml(text: str) -> Fault | None:
	"""Parse `<IntuitResponse><Fault type=..><Error code=..>` (throttles come as XML despite Accept JSON)."""
	stripped = text.lstrip()
	if not stripped.startswith("<"):
		return None
	try:
		root = ElementTree.fromstring(stripped.encode("utf-8"))
	except ElementTree.ParseError:
		return None
	for node in root.iter():
		if _local(node.tag) == "Fault":
			error = next((child for child in node if _local(child.tag) == "Error"), None)
			fault = Fault(fault_type=node.get("type"))
			if error is not None:
				fault.code = error.get("code")
				fault.element = error.get("element") or None
				for child in error:
					if _local(child.tag) == "Message":
						fault.message = (child.text or "").strip()
					elif _local(child.tag) == "Detail":
						fault.detail = (child.text or "").strip()
			return fault
	return None


def _local(tag: str) -> str:
	return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_fault(body: bytes | str | None) -> tuple[Fault | None, Any]:
	"""(fault, parsed JSON or None) for any body; never raises."""
	text = body_text(body)
	data = None
	try:
		data = loads(text) if text.strip() else None
	except (ValueError, UnicodeDecodeError):
		data = None
	fault = fault_from_json(data) if data is not None else None
	if fault is None and data is None:
		fault = fault_from_xml(text)
	return fault, data


_CODE_IN_MESSAGE = re.compile(r"errorCode=0*(\d+)")


def error_from_response(
	status: int | None, headers: Mapping[str, Any] | None, body: bytes | str | None
) -> QBOError:
	"""Map any non-success response (status, headers, raw body) to the right QBOError subclass."""
	text = body_text(body)
	fault, data = parse_fault(body)
	tid = intuit_tid_of(headers)
	if fault is None and isinstance(data, Mapping) and isinstance(data.get("error"), str):
		return oauth_error(status, data, tid=tid, body=text)
	return classify(
		status,
		fault or Fault(message=_fallback_message(status, text)),
		text=text,
		intuit_tid=tid,
		retry_after=parse_retry_after(header(headers, "Retry-After")),
	)


def error_from_fault(fault_data: Mapping[str, Any], *, intuit_tid: str | None = None) -> QBOError:
	"""A batch item's Fault (inside an HTTP 200) mapped by the same exact-code rules, minus HTTP status."""
	fault = fault_from_json({"Fault": fault_data}) or Fault(message="unparseable batch fault")
	return classify(None, fault, text=str(fault_data), intuit_tid=intuit_tid, retry_after=None)


def classify(
	status: int | None, fault: Fault, *, text: str, intuit_tid: str | None, retry_after: float | None
) -> QBOError:
	"""The one place where (HTTP status, fault) becomes an error class. Order matters:

	throttle first (it hides behind 403 and XML), then auth, then 5xx, then exact fault codes, then the
	fault type, then a bare 403; whatever is left is a plain QBOError (never a guess like "not found").
	"""
	code = fault.code
	if code is None:
		found = _CODE_IN_MESSAGE.search(fault.message or "")
		if found:
			code = found.group(1)
	kwargs: dict[str, Any] = dict(
		code=code,
		detail=fault.detail,
		element=fault.element,
		fault_type=fault.fault_type,
		http_status=status,
		intuit_tid=intuit_tid,
		body=text,
		retry_after=retry_after,
	)
	message = fault.message
	fault_type = (fault.fault_type or "").lower()
	if status == 429 or code == C.CODE_THROTTLE or C.THROTTLE_MARKER.lower() in text.lower():
		return ThrottleError(message or "Throttled", **kwargs)
	if status == 401 or code == C.CODE_AUTH_FAILED or fault_type in ("authentication", "authenticationfault"):
		return AuthenticationError(message or "Authentication failed", **kwargs)
	if status is not None and status >= 500:
		return ServerError(message or f"HTTP {status}", **kwargs)
	cls = _class_for_code(code)
	if cls is not None:
		return cls(message, **kwargs)
	if status == 403 or fault_type in ("authorization", "authorizationfault"):
		return AuthorizationError(message or "Forbidden", **kwargs)
	if fault_type == "systemfault":
		return ServerError(message or "SystemFault", **kwargs)
	if fault_type == "validationfault":
		return ValidationError(message, **kwargs)
	return QBOError(message or (f"HTTP {status}" if status else "QBO error"), **kwargs)


def _class_for_code(code: str | None) -> type[QBOError] | None:
	if code is None:
		return None
	if code == C.CODE_STALE_OBJECT:
		return StaleObjectError
	if code == C.CODE_DUPLICATE_NAME:
		return DuplicateNameError
	if code == C.CODE_OBJECT_NOT_FOUND:
		return ObjectNotFoundError
	if code in C.QUERY_ERROR_CODES:
		return QueryError
	if code == C.CODE_UNSUPPORTED_OPERATION:
		return UnsupportedOperationError
	if code in C.VALIDATION_ERROR_CODES:
		return ValidationError
	return None


def _fallback_message(status: int | None, text: str) -> str:
	snippet = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()[:200]
	prefix = f"HTTP {status}" if status is not None else "Unparseable response"
	return f"{prefix}: {snippet}" if snippet else prefix


def oauth_error(
	status: int | None, data: Mapping[str, Any] | None, *, tid: str | None = None, body: str | None = None
) -> OAuthError:
	"""Token endpoint `{"error": "...", "error_description": "..."}` -> OAuthError/InvalidGrantError."""
	data = data or {}
	code = str(data.get("error") or "") or None
	description = str(data.get("error_description") or "")
	cls = InvalidGrantError if code == "invalid_grant" else OAuthError
	return cls(
		description or code or f"token endpoint HTTP {status}",
		code=code,
		detail=description,
		http_status=status,
		intuit_tid=tid,
		body=body,
	)
