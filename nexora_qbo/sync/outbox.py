"""Recording intents in the outbox, deterministic requestids, and retry backoff.

`record_change` is what a document event calls, INSIDE the document's own transaction (Frappe doc_events,
or the SQLite ledger's local operations): the intent commits or rolls back together with the document, so
nothing is lost and nothing phantom is sent. It never talks to QBO. Of the Store it uses only
`transaction()`, `list_outbox(realm, local_type=, local_id=)` and `add_outbox()`,
so an outbox-only adapter is enough for doc events.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import OutboxEntry, Store


def record_change(
	store: Store, realm_id: str, local_type: str, local_id: str, action: str, now: datetime
) -> OutboxEntry:
	"""Record that `local_type/local_id` must be created/updated/cancelled/deleted in the realm.

	Coalescing: an identical intent that was never attempted absorbs the new one (the push reads the ledger
	at send time, so it sends the latest state); an update is absorbed by a never-attempted create. An
	intent that was already attempted is never reused for new content, because its requestid may already
	have been committed by QBO with the old content: the new intent gets the next generation.
	"""
	if local_type not in C.LOCAL_TYPES:
		raise ValueError(f"unknown local type {local_type!r}")
	if action not in C.ACTIONS:
		raise ValueError(f"unknown action {action!r}")
	with store.transaction():
		# one read of the document's intents (every state) serves both the coalescing and the next generation:
		# this runs inside every submit, where each query is added to the user's wait (issue 9)
		intents = store.list_outbox(realm_id, local_type=local_type, local_id=local_id)
		for entry in intents:
			if entry.state != C.PENDING or entry.attempts:
				continue
			if entry.action == action or (action == "update" and entry.action == "create"):
				return entry
		generation = max((e.generation for e in intents), default=0) + 1
		entry = OutboxEntry(
			realm_id=realm_id,
			local_type=local_type,
			local_id=local_id,
			action=action,
			generation=generation,
			state=C.PENDING,
			created_at=now,
			updated_at=now,
			next_attempt_at=now,
		)
		return store.add_outbox(entry)


def request_id(realm_id: str, local_type: str, local_id: str, action: str, generation: int, attempt_tag: str = "") -> str:
	"""Deterministic requestid (≤ 50 chars): the same for every retry of the same intent, across crashes.

	A new intent (higher generation) gets a new id, so a replay of an old, since-deleted record is never
	mistaken for the new write. `attempt_tag` distinguishes deliberate re-sends with new content (a retry
	after a 5010 merge carries a new SyncToken, so it is a different request).
	"""
	digest = hashlib.sha256(f"{realm_id}|{local_type}|{local_id}|{action}|{generation}".encode()).hexdigest()[:24]
	rid = f"{C.REQUEST_ID_PREFIX}{action[:2]}{digest}g{generation}{attempt_tag}"
	return rid[:50]


def backoff(attempts: int) -> timedelta:
	"""Exponential backoff for transient failures: 30 s, 60 s, 120 s … capped at one hour."""
	seconds = C.RETRY_BACKOFF_BASE.total_seconds() * (2 ** max(0, attempts - 1))
	return min(timedelta(seconds=seconds), C.RETRY_BACKOFF_MAX)
