"""Result types the client returns; plain dataclasses so the engine can build them in its own tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import QBOError


@dataclass
class QueryPage:
	"""One page of a query. `max_results` is the number QBO RETURNED on this page, not the page size."""

	entity: str | None
	records: list[dict[str, Any]]
	start_position: int | None = None
	max_results: int | None = None
	total_count: int | None = None
	server_time: datetime | None = None  # the response's `time`: QBO's clock when it answered


@dataclass
class CDCResult:
	"""Changes since a time, split by entity; Deleted stubs stay in `changes` and their ids in `deleted`.

	`incomplete_deletes` names entities read by query because CDC saturated (≥ 1000): queries never show
	deletions, so the engine must run an Id sweep for them.
	"""

	changes: dict[str, list[dict[str, Any]]]
	deleted: dict[str, list[str]]
	server_time: datetime | None
	incomplete_deletes: set[str] = field(default_factory=set)


@dataclass
class BatchItem:
	"""One batch operation: create/update/delete with `entity`+`body`, or `query` with a statement."""

	bid: str
	operation: str
	entity: str | None = None
	body: dict[str, Any] | None = None
	query: str | None = None
	options: str | None = None


@dataclass
class BatchResult:
	"""Per-item outcome: exactly one of record, query_page or error is set (items are not transactional)."""

	bid: str
	entity: str | None
	record: dict[str, Any] | None = None
	query_page: QueryPage | None = None
	error: QBOError | None = None

	@property
	def ok(self) -> bool:
		return self.error is None
