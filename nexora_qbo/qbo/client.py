"""QBOClient: one realm, every Accounting API v3 operation the sync engine needs.

Each public method builds its request ONCE (URL with `minorversion` and `requestid`, JSON body) and then
sends that exact request on every attempt; retries, the 401 refresh and pacing all sit in `_execute`.
Every attempt is reported once to `on_exchange` with secrets redacted.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import requests

from . import constants as C
from .errors import (
	AuthenticationError,
	QBOError,
	UnsupportedOperationError,
	ValidationError,
	intuit_tid_of,
)
from .exchange import Exchange, ExchangeHook, path_and_query, redact_text, redact_value
from .jsonutil import dumps
from .models import BatchItem, BatchResult, CDCResult, QueryPage
from .pacer import Pacer
from .responses import cdc_total, entity_of, parse_batch, parse_cdc, parse_query, parse_response
from .retry import RetryPolicy, call_with_retry
from .timeutil import format_qbo_datetime, utcnow
from .transport import connection_failed, elapsed_ms
from .validation import validate_batch, validate_request_id

_ACTIVE_IN_WHERE = re.compile(r"\bActive\b", re.IGNORECASE)


@dataclass
class _Request:
	"""One logical request, frozen before the first attempt so every retry is byte-identical."""

	method: str
	path: str
	params: list[tuple[str, str]]
	operation: str
	entity: str | None = None
	entity_id: str | None = None
	request_id: str | None = None
	body: str | None = None
	content_type: str = "application/json"
	sync_token_sent: str | None = None
	batch: bool = False
	idempotent: bool = True
	audit_body: str | None = None  # the redacted body for audit rows: redacted once, not once per attempt


class QBOClient:
	"""One realm's view of the Accounting API. Thread-safe for concurrent calls (one requests.Session).

	`tokens` is anything with access_token() and refresh(stale) (normally a TokenManager); `pacer` is
	acquired once per HTTP attempt (batch calls as batch); `clock` (aware UTC) decides the CDC 30-day rule.
	"""

	def __init__(
		self,
		realm_id: str,
		*,
		base_url: str,
		tokens: Any,
		pacer: Pacer | None = None,
		on_exchange: ExchangeHook | None = None,
		timeout: Any = C.DEFAULT_TIMEOUT,
		session: requests.Session | None = None,
		retry: RetryPolicy | None = None,
		minor_version: str = C.MINOR_VERSION,
		clock: Callable[[], datetime] = utcnow,
	):
		if not realm_id:
			raise ValueError("realm_id is required")
		self.realm_id = str(realm_id)
		self.base_url = base_url.rstrip("/")
		self.tokens = tokens
		self.pacer = pacer
		self.on_exchange = on_exchange
		self.timeout = timeout
		self.session = session or requests.Session()
		self.retry = retry or RetryPolicy()
		self.minor_version = str(minor_version)
		self.clock = clock

	# -- entities -----------------------------------------------------------------------------------
	def read(self, entity: str, entity_id: str) -> dict[str, Any]:
		request = self._request(
			"GET",
			f"{_path(entity)}/{quote(str(entity_id), safe='')}",
			"read",
			entity=entity,
			entity_id=str(entity_id),
		)
		return entity_of(self._execute(request), entity)

	def create(self, entity: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
		"""Create with the caller's deterministic requestid: a retry or a re-run replays, never duplicates."""
		validate_request_id(request_id)
		request = self._request(
			"POST", _path(entity), "create", entity=entity, request_id=request_id, body=body
		)
		return entity_of(self._execute(request), entity)

	def update(
		self, entity: str, body: dict[str, Any], *, request_id: str | None = None, sparse: bool = True
	) -> dict[str, Any]:
		"""Sparse by default: a full update blanks every writable field the body leaves out."""
		if not body.get("Id") or body.get("SyncToken") in (None, ""):
			raise ValidationError("update body needs Id and SyncToken", code="client")
		payload = dict(body)
		payload["sparse"] = bool(sparse)
		request = self._request(
			"POST",
			_path(entity),
			"update",
			entity=entity,
			entity_id=str(body["Id"]),
			request_id=self._write_id(request_id),
			body=payload,
		)
		return entity_of(self._execute(request), entity)

	def delete(
		self, entity: str, entity_id: str, sync_token: str, *, request_id: str | None = None
	) -> dict[str, Any]:
		"""Hard delete of a transaction; returns the Deleted stub. Name lists are deactivated instead."""
		if entity in C.NAME_LIST_ENTITIES:
			raise UnsupportedOperationError(
				f"{entity} is a name list: QBO never deletes it; use deactivate()", code="client"
			)
		request = self._request(
			"POST",
			_path(entity),
			"delete",
			entity=entity,
			entity_id=str(entity_id),
			request_id=self._write_id(request_id),
			body={"Id": str(entity_id), "SyncToken": str(sync_token)},
			extra_params=[("operation", "delete")],
		)
		return entity_of(self._execute(request), entity)

	def void(
		self, entity: str, entity_id: str, sync_token: str, *, request_id: str | None = None
	) -> dict[str, Any]:
		"""Invoice: ?operation=void. Payment/SalesReceipt/BillPayment: ?operation=update&include=void."""
		if entity in C.VOID_BY_OPERATION_VOID:
			params = [("operation", "void")]
			body: dict[str, Any] = {"Id": str(entity_id), "SyncToken": str(sync_token)}
		elif entity in C.VOID_BY_UPDATE:
			params = [("operation", "update"), ("include", "void")]
			body = {"Id": str(entity_id), "SyncToken": str(sync_token), "sparse": True}
		else:
			raise UnsupportedOperationError(f"QBO cannot void a {entity}", code="client")
		request = self._request(
			"POST",
			_path(entity),
			"void",
			entity=entity,
			entity_id=str(entity_id),
			request_id=self._write_id(request_id),
			body=body,
			extra_params=params,
		)
		return entity_of(self._execute(request), entity)

	def deactivate(
		self,
		entity: str,
		entity_id: str,
		sync_token: str,
		*,
		request_id: str | None = None,
		extra: dict[str, Any] | None = None,
	) -> dict[str, Any]:
		"""Name-list "delete": sparse update Active=false (QBO then renames it "... (deleted)")."""
		body: dict[str, Any] = {
			"Id": str(entity_id),
			"SyncToken": str(sync_token),
			"sparse": True,
			"Active": False,
		}
		for key, value in (extra or {}).items():
			if key not in ("Id", "SyncToken", "sparse", "Active"):
				body[key] = value
		request = self._request(
			"POST",
			_path(entity),
			"deactivate",
			entity=entity,
			entity_id=str(entity_id),
			request_id=self._write_id(request_id),
			body=body,
		)
		return entity_of(self._execute(request), entity)

	# -- query --------------------------------------------------------------------------------------
	def query(self, statement: str) -> QueryPage:
		request = self._request(
			"GET", "query", "query", entity=_entity_in(statement), extra_params=[("query", statement)]
		)
		return parse_query(self._execute(request), statement)

	def query_all(
		self,
		entity: str,
		*,
		where: str | None = None,
		order_by: str | None = None,
		include_inactive: bool | None = None,
		page_size: int = C.MAX_QUERY_RESULTS,
		on_page: Callable[[QueryPage], None] | None = None,
	) -> Iterator[dict[str, Any]]:
		"""Every matching row, page by page (STARTPOSITION is 1-based); stops on the first short page.
		`on_page` sees each page (e.g. for its `server_time`, QBO's clock, which a sync cursor must use)."""
		if not 1 <= page_size <= C.MAX_QUERY_RESULTS:
			raise ValueError(f"page_size must be 1..{C.MAX_QUERY_RESULTS}")
		base = f"SELECT * FROM {entity}{self._where(entity, where, include_inactive)}"
		if order_by:
			base += f" ORDERBY {order_by}"
		start = 1
		while True:
			page = self.query(f"{base} STARTPOSITION {start} MAXRESULTS {page_size}")
			if on_page is not None:
				on_page(page)
			yield from page.records
			if len(page.records) < page_size:
				return
			start += page_size

	def count(self, entity: str, *, where: str | None = None, include_inactive: bool | None = None) -> int:
		page = self.query(f"SELECT COUNT(*) FROM {entity}{self._where(entity, where, include_inactive)}")
		return int(page.total_count or 0)

	@staticmethod
	def _where(entity: str, where: str | None, include_inactive: bool | None) -> str:
		"""Name lists hide inactive rows unless asked: add `Active IN (true,false)` by default for them."""
		if include_inactive is None:
			include_inactive = entity in C.NAME_LIST_ENTITIES
		clauses = [where] if where else []
		if include_inactive and not (where and _ACTIVE_IN_WHERE.search(where)):
			clauses.append("Active IN (true,false)")
		return f" WHERE {' AND '.join(clauses)}" if clauses else ""

	# -- change data capture ------------------------------------------------------------------------
	def cdc(self, entities: Sequence[str], changed_since: datetime) -> CDCResult:
		"""Changes since `changed_since`, split when saturated (see CDCResult)."""
		entities = list(dict.fromkeys(entities))
		if not entities:
			raise ValueError("cdc needs at least one entity")
		if changed_since.tzinfo is None:
			raise ValidationError("changed_since must be timezone-aware", code="client")
		if changed_since < self.clock() - timedelta(days=C.CDC_MAX_LOOKBACK_DAYS):
			raise ValidationError(
				f"changedSince older than {C.CDC_MAX_LOOKBACK_DAYS} days is refused by CDC; use queries",
				code="client",
			)
		combined = self._cdc_once(entities, changed_since)
		if cdc_total(combined) < C.CDC_MAX_OBJECTS:
			return combined
		result = CDCResult(changes={}, deleted={}, server_time=combined.server_time, incomplete_deletes=set())
		for entity in entities:
			alone = combined if len(entities) == 1 else self._cdc_once([entity], changed_since)
			result.server_time = _earliest(result.server_time, alone.server_time)
			if cdc_total(alone) < C.CDC_MAX_OBJECTS:
				result.changes[entity] = alone.changes.get(entity, [])
				result.deleted[entity] = alone.deleted.get(entity, [])
				continue
			since = format_qbo_datetime(changed_since)
			rows = list(self.query_all(entity, where=f"Metadata.LastUpdatedTime >= '{since}'"))
			stubs = [
				r for r in alone.changes.get(entity, []) if str(r.get("status", "")).lower() == "deleted"
			]
			result.changes[entity] = rows + stubs
			result.deleted[entity] = list(alone.deleted.get(entity, []))
			result.incomplete_deletes.add(entity)
		return result

	def _cdc_once(self, entities: list[str], changed_since: datetime) -> CDCResult:
		request = self._request(
			"GET",
			"cdc",
			"cdc",
			entity=",".join(entities),
			extra_params=[
				("entities", ",".join(entities)),
				("changedSince", format_qbo_datetime(changed_since)),
			],
		)
		return parse_cdc(self._execute(request), entities)

	# -- batch --------------------------------------------------------------------------------------
	def batch(self, items: list[BatchItem], *, request_id: str | None = None) -> list[BatchResult]:
		"""Up to 30 independent operations in one paced call; per-item faults land in BatchResult.error."""
		if request_id is None:
			request_id = _auto_batch_id(items)
		validate_batch(items, request_id)
		payload = {"BatchItemRequest": [_batch_item_json(item) for item in items]}
		request = self._request(
			"POST",
			"batch",
			"batch",
			request_id=request_id,
			body=payload,
			batch=True,
			idempotent=request_id is not None,
		)
		headers_seen: dict[str, Any] = {}
		envelope = self._execute(request, headers_out=headers_seen)
		return parse_batch(envelope, items, headers_seen)

	# -- company-level reads ------------------------------------------------------------------------
	def preferences(self) -> dict[str, Any]:
		return entity_of(
			self._execute(self._request("GET", "preferences", "preferences", entity="Preferences")),
			"Preferences",
		)

	def company_info(self) -> dict[str, Any]:
		request = self._request(
			"GET",
			f"companyinfo/{quote(self.realm_id, safe='')}",
			"companyinfo",
			entity="CompanyInfo",
			entity_id=self.realm_id,
		)
		return entity_of(self._execute(request), "CompanyInfo")

	def exchange_rate(self, source_currency: str, as_of: date) -> dict[str, Any]:
		request = self._request(
			"GET",
			"exchangerate",
			"exchangerate",
			entity="ExchangeRate",
			extra_params=[("sourcecurrencycode", source_currency.upper()), ("asofdate", as_of.isoformat())],
		)
		return entity_of(self._execute(request), "ExchangeRate")

	def set_exchange_rate(self, source_currency: str, as_of: date, rate: Decimal) -> dict[str, Any]:
		"""Set the company's rate of a day (§9 Multicurrency: a sparse update with SourceCurrencyCode, AsOfDate,
		Rate). Setting the same rate again changes nothing, so a retry is harmless."""
		body = {"SourceCurrencyCode": source_currency.upper(), "AsOfDate": as_of.isoformat(), "Rate": rate,
			"sparse": True}
		request = self._request("POST", "exchangerate", "exchangerate", entity="ExchangeRate", body=body)
		return entity_of(self._execute(request), "ExchangeRate")

	# -- plumbing -----------------------------------------------------------------------------------
	@staticmethod
	def _write_id(request_id: str | None) -> str:
		"""Writes always carry a requestid; absent a caller one, it is minted per call (not per try)."""
		if request_id is None:
			return uuid.uuid4().hex
		validate_request_id(request_id)
		return request_id

	def _request(
		self,
		method: str,
		path: str,
		operation: str,
		*,
		entity: str | None = None,
		entity_id: str | None = None,
		request_id: str | None = None,
		body: Any = None,
		extra_params: list[tuple[str, str]] | None = None,
		batch: bool = False,
		idempotent: bool = True,
	) -> _Request:
		params = list(extra_params or [])
		if request_id is not None:
			params.append(("requestid", request_id))
		params.append(("minorversion", self.minor_version))
		sync_token = (
			str(body["SyncToken"])
			if isinstance(body, dict) and body.get("SyncToken") not in (None, "")
			else None
		)
		text = dumps(body) if body is not None else None
		return _Request(
			method=method,
			path=path,
			params=params,
			operation=operation,
			entity=entity,
			entity_id=entity_id,
			request_id=request_id,
			body=text,
			audit_body=redact_text(text) if text is not None else None,
			sync_token_sent=sync_token,
			batch=batch,
			idempotent=idempotent,
		)

	def url_for(self, request: _Request) -> str:
		query = urlencode(request.params, quote_via=quote, safe="*(),'")
		return f"{self.base_url}{C.API_PATH_PREFIX}/{quote(self.realm_id, safe='')}/{request.path}?{query}"

	def _execute(self, request: _Request, headers_out: dict[str, Any] | None = None) -> dict[str, Any]:
		url = self.url_for(request)
		sent_tokens: dict[str, str] = {}

		def attempt(number: int) -> dict[str, Any]:
			if self.pacer is not None:
				self.pacer.acquire(self.realm_id, batch=request.batch)
			token = self.tokens.access_token()
			sent_tokens["last"] = token
			return self._send(request, url, token, number, headers_out)

		def on_auth_error(error: AuthenticationError) -> bool:
			self.tokens.refresh(sent_tokens.get("last"))
			return True

		return call_with_retry(
			self.retry, attempt, idempotent=request.idempotent, on_auth_error=on_auth_error
		)

	def _send(
		self, request: _Request, url: str, token: str, attempt: int, headers_out: dict[str, Any] | None
	) -> dict[str, Any]:
		headers = {
			"Accept": "application/json",
			"Authorization": f"Bearer {token}",
			"Content-Type": request.content_type,
		}
		started_at, start = self.clock(), time.perf_counter()
		try:
			response = self.session.request(
				request.method,
				url,
				data=request.body.encode("utf-8") if request.body else None,
				headers=headers,
				timeout=self.timeout,
				allow_redirects=False,
			)
		except requests.exceptions.RequestException as exc:
			error = connection_failed(exc)
			self._report(request, url, attempt, started_at, start, None, None, None, None, error)
			raise error from exc
		resp_headers = dict(response.headers)
		if headers_out is not None:
			headers_out.clear()
			headers_out.update(resp_headers)
		content = response.content
		try:
			envelope = parse_response(response.status_code, resp_headers, content)
		except QBOError as error:
			self._report(
				request,
				url,
				attempt,
				started_at,
				start,
				response.status_code,
				resp_headers,
				content,
				None,
				error,
			)
			raise
		self._report(
			request,
			url,
			attempt,
			started_at,
			start,
			response.status_code,
			resp_headers,
			content,
			envelope,
			None,
		)
		return envelope

	def _report(
		self,
		request: _Request,
		url: str,
		attempt: int,
		started_at: datetime,
		start: float,
		status: int | None,
		headers: dict[str, Any] | None,
		content: bytes | None,
		envelope: Any,
		error: QBOError | None,
	) -> None:
		if self.on_exchange is None:
			return
		received = None
		if isinstance(envelope, dict) and request.entity:
			record = envelope.get(request.entity)
			if isinstance(record, dict) and record.get("SyncToken") is not None:
				received = str(record["SyncToken"])
		self.on_exchange(
			Exchange(
				realm_id=self.realm_id,
				method=request.method,
				url=path_and_query(url),
				entity=request.entity,
				operation=request.operation,
				entity_id=request.entity_id,
				request_id=request.request_id,
				request_body=request.audit_body if request.audit_body is not None else redact_text(request.body),
				response_status=status,
				response_body=_redacted_response(content, envelope),
				intuit_tid=intuit_tid_of(headers) or (error.intuit_tid if error else None),
				sync_token_sent=request.sync_token_sent,
				sync_token_received=received,
				outcome="ok" if error is None else type(error).__name__,
				error_code=None if error is None else error.code,
				attempt=attempt,
				started_at=started_at,
				duration_ms=elapsed_ms(start),
			)
		)


def _redacted_response(content: bytes | None, envelope: Any) -> str | None:
	"""A JSON answer is redacted from the envelope already parsed (the same Decimal-preserving parse
	redact_text would do again); anything else (XML, a fault, an unparsable body) through redact_text."""
	if content is None:
		return None
	if isinstance(envelope, dict) and content.lstrip()[:1] == b"{":
		return dumps(redact_value(envelope))
	return redact_text(content)


def _path(entity: str) -> str:
	if not entity or not entity.isalnum():
		raise ValueError(f"bad entity name {entity!r}")
	return entity.lower()


def _entity_in(statement: str) -> str | None:
	match = re.search(r"\bfrom\s+([A-Za-z]+)", statement, re.IGNORECASE)
	return C.ENTITY_BY_LOWER.get(match.group(1).lower(), match.group(1)) if match else None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
	if a is None:
		return b
	if b is None:
		return a
	return min(a, b)


def _batch_item_json(item: BatchItem) -> dict[str, Any]:
	if item.operation == "query":
		return {"bId": item.bid, "Query": item.query}
	data: dict[str, Any] = {"bId": item.bid, "operation": item.operation}
	if item.options:
		data["optionsData"] = item.options
	data[item.entity] = item.body
	return data


def _auto_batch_id(items: list[BatchItem]) -> str | None:
	"""Mint a batch requestid only when the bIds allow one (≤ 10 chars each, ≤ 50 combined)."""
	candidate = uuid.uuid4().hex  # 32 chars
	if all(
		len(item.bid) <= C.MAX_BATCH_ID_LENGTH and len(candidate) + len(item.bid) <= C.MAX_COMBINED_ID_LENGTH
		for item in items
	):
		return candidate
	return None
