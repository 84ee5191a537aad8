"""The audit trail: one AuditRow per HTTP exchange, written through the client's on_exchange hook.

The client knows the HTTP facts (status, tokens, requestid, intuit_tid); the engine knows WHY it talks to QBO
(direction, which local document, which conflict). The recorder joins the two through a context variable
that the engine sets around each operation. Rows are appended through Store.append_audit, which persists
independently of the engine's transaction, so an exchange is on record even when the work around it fails.
"""
from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from nexora_qbo.qbo.exchange import Exchange
from nexora_qbo.qbo.jsonutil import dumps, loads
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import AuditRow, Store


@dataclass(frozen=True)
class OperationContext:
	direction: str = C.INBOUND
	local_type: str | None = None
	local_id: str | None = None
	conflict_id: str | None = None


_CONTEXT: contextvars.ContextVar[OperationContext] = contextvars.ContextVar("nexora_qbo_sync_op", default=OperationContext())


@contextmanager
def operation(direction: str, local_type: str | None = None, local_id: str | None = None,
		conflict_id: str | None = None) -> Iterator[None]:
	"""Everything the client exchanges inside this block is attributed to this direction and document."""
	token = _CONTEXT.set(OperationContext(direction, local_type, local_id, conflict_id))
	try:
		yield
	finally:
		_CONTEXT.reset(token)


def set_conflict(conflict_id: str | None) -> None:
	"""Later exchanges of the current operation refer to this conflict (e.g. the retry after a merge)."""
	_CONTEXT.set(replace(_CONTEXT.get(), conflict_id=conflict_id))


def current() -> OperationContext:
	return _CONTEXT.get()


class AuditRecorder:
	"""The `on_exchange` hook given to every client the engine builds."""

	def __init__(self, store: Store, realm_id: str):
		self.store = store
		self.realm_id = realm_id

	def __call__(self, ex: Exchange) -> None:
		ctx = _CONTEXT.get()
		row = AuditRow(
			realm_id=ex.realm_id or self.realm_id,
			direction=ctx.direction,
			qbo_entity=ex.entity,
			operation=ex.operation,
			local_type=ctx.local_type,
			local_id=ctx.local_id,
			qbo_id=ex.entity_id,
			http_method=ex.method,
			url=ex.url,
			request_payload=ex.request_body,  # redacted by the client (see Exchange): not parsed again here
			response_payload=_compact_cdc(ex.response_body) if ex.operation == "cdc" else ex.response_body,
			http_status=ex.response_status,
			sync_token_sent=ex.sync_token_sent,
			sync_token_received=ex.sync_token_received,
			request_id=ex.request_id,
			intuit_tid=ex.intuit_tid,
			outcome=ex.outcome,
			error_code=ex.error_code,
			conflict_id=ctx.conflict_id,
			attempt=ex.attempt,
			duration_ms=ex.duration_ms,
			timestamp=ex.started_at,
		)
		self.store.append_audit(row)


def _compact_cdc(text: str | None) -> str | None:
	"""A CDC poll that found nothing keeps its row (invariant 3: one per exchange) but not the full answer:
	with a 5-minute pull that is 288 identical bodies a day per realm. Any answer with a record is kept whole."""
	try:
		data = loads(text) if text else None
	except ValueError:
		return text
	if not isinstance(data, dict) or not isinstance(data.get("CDCResponse"), list):
		return text
	for cdc in data["CDCResponse"]:
		for qr in (cdc or {}).get("QueryResponse") or []:
			if any(isinstance(v, list) and v for v in (qr or {}).values()):
				return text
	return dumps({"CDCResponse": C.CDC_EMPTY_NOTE, "time": data.get("time")})



# ------------------------------------------------------------------------------------ finding exchanges
SEARCH_KEYS_MAX = 1000  # characters kept per row: a CDC page naming hundreds of invoices keeps the first ones
_NUMBER_RE = re.compile(r'"(?:DocNumber|PaymentRefNum)"\s*:\s*"((?:[^"\\]|\\.){1,40})"')


def document_numbers(*payloads: str | None) -> list[str]:
	"""The document numbers (DocNumber, PaymentRefNum) a request or response body names, in order, once each.

	Read from the text, not parsed: a body kept in the trail may be truncated or redacted, and a number in
	it still names the document."""
	out: list[str] = []
	for text in payloads:
		for number in _NUMBER_RE.findall(text or ""):
			if number not in out:
				out.append(number)
	return out


def search_keys(row: AuditRow) -> str:
	"""What an auditor types to find every exchange about one document: the ERPNext document, the QBO Id,
	the document numbers in the bodies, QBO's requestid and intuit_tid (the audit row's search field)."""
	keys: list[str] = []
	for key in (row.local_id, row.qbo_id, *document_numbers(row.request_payload, row.response_payload),
			row.request_id, row.intuit_tid):
		if key not in (None, "") and str(key) not in keys:
			keys.append(str(key))
	text = " ".join(keys)
	return text if len(text) <= SEARCH_KEYS_MAX else text[:SEARCH_KEYS_MAX].rsplit(" ", 1)[0]
