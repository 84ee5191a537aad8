"""Client-side checks for QBO's id-length and batch rules, failing fast with a clear message.

QBO itself answers a too-long requestid+bId with `6000` on EVERY item of the batch, after the round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import constants as C
from .errors import ValidationError
from .models import BatchItem

_OPERATIONS = ("create", "update", "delete", "query")


def validate_request_id(request_id: str | None, *, limit: int = C.MAX_REQUEST_ID_LENGTH) -> None:
	if request_id is None or not str(request_id).strip():
		raise ValidationError(
			"requestid is required and must not be blank", code="client", element="requestid"
		)
	if len(request_id) > limit:
		raise ValidationError(
			f"requestid is {len(request_id)} chars; QBO allows at most {limit}",
			code="client",
			element="requestid",
		)


def validate_batch(items: Sequence[BatchItem], request_id: str | None) -> None:
	if not items:
		raise ValidationError("a batch needs at least one item", code="client")
	if len(items) > C.MAX_BATCH_ITEMS:
		raise ValidationError(
			f"a batch holds at most {C.MAX_BATCH_ITEMS} items, got {len(items)}", code="client"
		)
	if request_id is not None:
		validate_request_id(request_id, limit=C.MAX_BATCH_REQUEST_ID_LENGTH)
	seen: set[str] = set()
	for item in items:
		if not item.bid:
			raise ValidationError("every batch item needs a bId", code="client", element="bId")
		if item.bid in seen:
			raise ValidationError(f"duplicate bId {item.bid!r}", code="client", element="bId")
		seen.add(item.bid)
		if request_id is not None:
			if len(item.bid) > C.MAX_BATCH_ID_LENGTH:
				raise ValidationError(
					f"bId {item.bid!r} is {len(item.bid)} chars; with a requestid QBO allows at most "
					f"{C.MAX_BATCH_ID_LENGTH}",
					code="client",
					element="bId",
				)
			if len(request_id) + len(item.bid) > C.MAX_COMBINED_ID_LENGTH:
				raise ValidationError(
					f"requestid + bId {item.bid!r} is {len(request_id) + len(item.bid)} chars; QBO allows "
					f"{C.MAX_COMBINED_ID_LENGTH}",
					code="client",
					element="bId",
				)
		if item.operation not in _OPERATIONS:
			raise ValidationError(
				f"batch operation must be one of {_OPERATIONS}, got {item.operation!r}",
				code="client",
				element="operation",
			)
		if item.operation == "query":
			if not item.query:
				raise ValidationError(f"query item {item.bid!r} has no query", code="client")
		elif not item.entity or not isinstance(item.body, dict):
			raise ValidationError(f"{item.operation} item {item.bid!r} needs entity and body", code="client")
