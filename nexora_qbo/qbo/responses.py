"""Pure parsing of QBO responses: the same functions run on live responses and on recorded fixtures.

Keeping parsing free of I/O is what lets the contract tests prove the client understands every real
capture we have (../shared/qbo-fixtures) without a network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import constants as C
from .errors import (
	QBOError,
	ServerError,
	body_text,
	error_from_fault,
	error_from_response,
	fault_from_json,
	intuit_tid_of,
)
from .jsonutil import loads
from .models import BatchResult, CDCResult, QueryPage
from .timeutil import parse_qbo_datetime
from .xmlshape import xml_to_json_shape

_PAGE_KEYS = {"startposition", "maxresults", "totalcount"}
_FROM = re.compile(r"\bfrom\s+([A-Za-z]+)", re.IGNORECASE)


def parse_response(
	status: int, headers: Mapping[str, Any] | None, body: bytes | str | None
) -> dict[str, Any]:
	"""A successful JSON envelope as a dict (Decimal amounts), or raise the typed QBOError.

	A 2xx whose body is not JSON (an HTML error page from a proxy, a truncated body) is a ServerError:
	it is retryable, and retrying is safe because writes carry a requestid.
	"""
	if status is None or not 200 <= status < 300:
		raise error_from_response(status, headers, body)
	text = body_text(body)
	try:
		data = loads(text)
	except ValueError:
		if fault_in_text(text):
			raise error_from_response(status, headers, body) from None
		data = xml_to_json_shape(text) if text.lstrip().startswith("<") else None
		if data is None:
			raise ServerError(
				"Unparseable success response",
				http_status=status,
				intuit_tid=intuit_tid_of(headers),
				body=text,
			) from None
	if not isinstance(data, dict):
		raise ServerError(
			"Unexpected JSON shape", http_status=status, intuit_tid=intuit_tid_of(headers), body=text
		)
	if fault_from_json(data) is not None:
		raise error_from_response(status, headers, body)
	return data


def fault_in_text(text: str) -> bool:
	return "<Fault" in text or "ThrottleExceeded" in text


def entity_of(envelope: Mapping[str, Any], entity: str | None = None) -> dict[str, Any]:
	"""The entity object of `{"<Entity>": {...}, "time": ...}`."""
	if entity and isinstance(envelope.get(entity), dict):
		return envelope[entity]
	if entity:
		for key, value in envelope.items():
			if key.lower() == entity.lower() and isinstance(value, dict):
				return value
	for key, value in envelope.items():
		if key != "time" and isinstance(value, dict):
			return value
	raise ServerError(f"Response has no {entity or 'entity'} object", body=str(envelope)[:500])


def query_page_from(query_response: Mapping[str, Any] | None, statement: str | None = None) -> QueryPage:
	"""A QueryResponse object -> QueryPage; `{}` (no matches) has no entity key at all."""
	query_response = query_response or {}
	entity = None
	records: list[dict[str, Any]] = []
	for key, value in query_response.items():
		if key.lower() not in _PAGE_KEYS and isinstance(value, list):
			entity, records = key, value
			break
	if entity is None and statement:
		match = _FROM.search(statement)
		if match:
			entity = C.ENTITY_BY_LOWER.get(match.group(1).lower(), match.group(1))
	return QueryPage(
		entity=entity,
		records=records,
		start_position=_int_or_none(query_response.get("startPosition")),
		max_results=_int_or_none(query_response.get("maxResults")),
		total_count=_int_or_none(query_response.get("totalCount")),
	)


def parse_query(envelope: Mapping[str, Any], statement: str | None = None) -> QueryPage:
	page = query_page_from(envelope.get("QueryResponse"), statement)
	time_text = envelope.get("time")
	if isinstance(time_text, str):
		try:
			page.server_time = parse_qbo_datetime(time_text)
		except (ValueError, TypeError):
			page.server_time = None
	return page


def is_deleted_stub(record: Mapping[str, Any]) -> bool:
	"""CDC/delete stubs: {"domain":"QBO","status":"Deleted","Id":..} with no SyncToken and no body."""
	return str(record.get("status", "")).lower() == "deleted"


def parse_cdc(envelope: Mapping[str, Any], entities: list[str] | tuple[str, ...] = ()) -> CDCResult:
	"""`{"CDCResponse":[{"QueryResponse":[{"<Entity>":[..],...}, {}, ...]}], "time": ..}` -> CDCResult.

	Every requested entity appears in `changes` (possibly empty) so callers can tell "no changes" from
	"not asked"; empty QueryResponse elements are entities without changes.
	"""
	changes: dict[str, list[dict[str, Any]]] = {name: [] for name in entities}
	deleted: dict[str, list[str]] = {name: [] for name in entities}
	lower = {name.lower(): name for name in entities}
	for block in envelope.get("CDCResponse") or []:
		query_responses = block.get("QueryResponse") if isinstance(block, Mapping) else None
		if isinstance(query_responses, Mapping):
			query_responses = [query_responses]
		for query_response in query_responses or []:
			page = query_page_from(query_response)
			if page.entity is None:
				continue
			name = lower.get(page.entity.lower(), page.entity)
			changes.setdefault(name, []).extend(page.records)
			deleted.setdefault(name, [])
			deleted[name].extend(str(r.get("Id")) for r in page.records if is_deleted_stub(r))
	time_text = envelope.get("time")
	server_time = parse_qbo_datetime(time_text) if isinstance(time_text, str) else None
	return CDCResult(changes=changes, deleted=deleted, server_time=server_time, incomplete_deletes=set())


def cdc_total(result: CDCResult) -> int:
	return sum(len(records) for records in result.changes.values())


def parse_batch(
	envelope: Mapping[str, Any], items: list[Any], headers: Mapping[str, Any] | None = None
) -> list[BatchResult]:
	"""`BatchItemResponse[]` keyed by bId -> one BatchResult per requested item, in request order."""
	tid = intuit_tid_of(headers)
	by_bid: dict[str, Mapping[str, Any]] = {}
	for entry in envelope.get("BatchItemResponse") or []:
		if isinstance(entry, Mapping) and "bId" in entry:
			by_bid[str(entry["bId"])] = entry
	results = []
	for item in items:
		entry = by_bid.get(item.bid)
		entity = item.entity
		if entry is None:
			results.append(
				BatchResult(
					item.bid,
					entity,
					error=QBOError(f"batch item {item.bid} missing from the response", intuit_tid=tid),
				)
			)
			continue
		fault = entry.get("Fault")
		if isinstance(fault, Mapping):
			results.append(BatchResult(item.bid, entity, error=error_from_fault(fault, intuit_tid=tid)))
		elif isinstance(entry.get("QueryResponse"), Mapping):
			page = query_page_from(entry["QueryResponse"], item.query)
			results.append(BatchResult(item.bid, page.entity, query_page=page))
		else:
			record_entity, record = _record_in(entry, entity)
			if record is None:
				results.append(
					BatchResult(
						item.bid,
						entity,
						error=QBOError(
							f"batch item {item.bid} has neither entity, query nor fault", intuit_tid=tid
						),
					)
				)
			else:
				results.append(BatchResult(item.bid, record_entity, record=record))
	return results


def _record_in(entry: Mapping[str, Any], entity: str | None) -> tuple[str | None, dict[str, Any] | None]:
	if entity and isinstance(entry.get(entity), dict):
		return entity, entry[entity]
	for key, value in entry.items():
		if key != "bId" and isinstance(value, dict):
			return key, value
	return entity, None


def _int_or_none(value: Any) -> int | None:
	if value is None:
		return None
	try:
		return int(value)
	except (TypeError, ValueError):
		return None
