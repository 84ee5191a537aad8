"""The ports of the sync engine: the only things the engine knows about the world outside QBO.

The engine never imports frappe. It talks to
- a **Store**   (its own bookkeeping: realm settings, mappings, cursors, outbox, audit rows, conflicts),
- a **Ledger**  (the local books: ERPNext documents, or the SQLite reference ledger), read and written as the
                canonical records defined in `nexora_qbo.sync.records`,
- a **RealmLock** (one worker per realm at a time, across processes and hosts),
- a **Clock**   (aware UTC `now()`, injectable so tests run at a scaled clock).

Two implementations exist: the SQLite reference (`sqlite_store.py`, `sqlite_ledger.py`) and the Frappe one
(`nexora_qbo/erpnext`). Both must pass `tests/contracts/store_contract.py`. This module is a public seam:
change it only additively.

Conventions shared by every port
- Every key that identifies engine data starts with `realm_id` (invariant 4). Nothing is ever looked up
  across realms; one Company belongs to exactly one realm.
- `local_type` is one of the engine's type names in `nexora_qbo.sync.constants.LOCAL_TYPES`
  ("customer", "item", "invoice", "credit_memo", "payment"), NOT a DocType name: the Frappe ledger maps
  "credit_memo" to a Sales Invoice with is_return=1, "payment" to a Payment Entry of type Receive, etc.
- `local_id` is the local document's stable name (ERPNext `name`), a string.
- Datetimes are timezone-aware UTC. Money is `Decimal`.
- Snapshots (`Mapping.base`, conflict versions, audit payloads) are plain JSON-able dicts/strings; Decimals
  inside dicts are allowed and must round-trip as Decimal (serialise with `records.dumps` / `records.loads`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

# --------------------------------------------------------------------------------------------------------
# dataclasses
# --------------------------------------------------------------------------------------------------------


@dataclass
class RealmSettings:
	"""Per-realm configuration. One Company ↔ one realm (the store refuses a second realm for a company).

	`*_map` dictionaries translate LOCAL names to QBO Ids for reference lists the engine does not sync as
	records (accounts, terms, tax codes, classes, departments/locations, payment methods). A local value with
	no entry is sent without that reference (QBO then uses its own default) rather than failing.
	"""

	realm_id: str
	company: str
	conflict_policy: str = "qbo_wins"  # "qbo_wins" | "review"   (master data fields changed on both sides)
	void_policy: str = "review"  # "follow" | "review"    (a synced document voided/deleted in QBO)
	home_currency: str = "USD"
	enabled: bool = True
	# QBO Account Ids used when a local value is missing (new Items, Payments)
	default_income_account_id: str | None = None
	default_expense_account_id: str | None = None
	default_asset_account_id: str | None = None
	default_deposit_account_id: str | None = None  # "Undeposited Funds" is the usual choice
	account_map: dict[str, str] = field(default_factory=dict)  # local account name -> QBO Account Id
	terms_map: dict[str, str] = field(default_factory=dict)  # local payment terms -> QBO Term Id
	tax_code_map: dict[str, str] = field(default_factory=dict)  # local tax template -> QBO TaxCode Id
	class_map: dict[str, str] = field(default_factory=dict)  # local class/cost center -> QBO Class Id
	location_map: dict[str, str] = field(default_factory=dict)  # local branch/location -> QBO Department Id
	payment_method_map: dict[str, str] = field(default_factory=dict)  # local mode of payment -> QBO Id
	sync_start_date: date | None = None  # documents dated before this are not exported/imported
	# an ERPNext cancel of a transaction that originated in QBO: "ask" (a review item, the default) | "follow"
	# (void/delete it in QBO too). Never a silent side effect (invariant 10).
	qbo_born_cancel_policy: str = "ask"
	# one source of the day's exchange rate for both books: "erpnext" (Currency Exchange, sent to QBO) | "qbo"
	# (QBO's rate of the day, brought into ERPNext); constants.RATE_SOURCE_*, sync/exchange_rates.py
	rate_source: str = "erpnext"
	extra: dict[str, Any] = field(default_factory=dict)  # room for adapters; the engine ignores it
	# QBO's own Preferences as last read (sync/preferences.py: read at connect/import). Empty = never read:
	# the mapping then sends every reference it has, as before preferences were read.
	preferences: dict[str, Any] = field(default_factory=dict)


@dataclass
class Mapping:
	"""The link between one local document and one QBO record, within one realm.

	`base` is the QBO record as last synced (the raw QBO JSON dict as read or returned by a write): it is the
	common ancestor of the three-way merge. `sync_token` is the token of that snapshot. `last_sent_hash` is
	the hash of the last payload we sent (an unchanged payload is never re-sent). `remote_hash` is the hash
	of the canonical content of `base` (used to recognise echoes of our own writes).
	Unique on (realm_id, local_type, local_id) AND on (realm_id, qbo_entity, qbo_id).
	"""

	realm_id: str
	local_type: str
	local_id: str
	qbo_entity: str
	qbo_id: str
	sync_token: str | None = None
	base: dict | None = None
	last_sent_hash: str | None = None
	remote_hash: str | None = None
	status: str = "active"  # "active" | "voided" | "deleted" | "inactive"
	updated_at: datetime | None = None
	# where the document was born: "local" (created in ERPNext, pushed) | "qbo" (imported or linked by the
	# pull); None = unknown (rows from before this field), treated as "local"
	origin: str | None = None

	@classmethod
	def ours(cls, realm_id: str, local_type: str, local_id: str, qbo_entity: str, obj: dict, now: datetime,
			**more: Any) -> Mapping:
		"""The mapping of a QBO record written (or first found) for a document born here: QBO's answer is the
		base and its SyncToken the token; active, origin "local"."""
		return cls(realm_id=realm_id, local_type=local_type, local_id=local_id, qbo_entity=qbo_entity,
			qbo_id=str(obj["Id"]), sync_token=obj.get("SyncToken"), base=obj, status="active", updated_at=now,
			origin="local", **more)


@dataclass
class OutboxEntry:
	"""One intent to change QBO, written in the SAME transaction as the local document change.

	`generation` feeds the deterministic requestid: it is fixed when the entry is created and reused on every
	retry (also after a crash while `in_flight`), and a later, new intent for the same document gets a higher
	generation. States: pending → in_flight → done | failed (retried at next_attempt_at) | parked (needs a
	person; linked conflict in `conflict_id`).
	"""

	realm_id: str
	local_type: str
	local_id: str
	action: str  # "create" | "update" | "cancel" | "delete"
	generation: int = 1
	state: str = "pending"
	attempts: int = 0
	next_attempt_at: datetime | None = None
	last_error: str | None = None
	created_at: datetime | None = None
	updated_at: datetime | None = None
	conflict_id: str | None = None
	id: str | None = None  # assigned by the store


@dataclass
class AuditRow:
	"""Exactly one row per HTTP exchange with QBO (invariant 3). Written once, never edited."""

	realm_id: str
	direction: str  # "outbound" (we change QBO, incl. re-reads for that) | "inbound" (pull/import)
	qbo_entity: str | None
	operation: str  # read|create|update|delete|void|deactivate|query|cdc|batch|preferences|...
	local_type: str | None = None
	local_id: str | None = None
	qbo_id: str | None = None
	http_method: str | None = None
	url: str | None = None
	request_payload: str | None = None  # redacted JSON text
	response_payload: str | None = None  # redacted JSON text
	http_status: int | None = None
	sync_token_sent: str | None = None
	sync_token_received: str | None = None
	request_id: str | None = None
	intuit_tid: str | None = None
	outcome: str = "ok"  # "ok" or the error class name
	error_code: str | None = None
	conflict_id: str | None = None
	attempt: int = 1
	duration_ms: float | None = None
	timestamp: datetime | None = None  # when the exchange started (UTC)
	id: str | None = None  # assigned by the store


@dataclass
class Conflict:
	"""A review item (status "open") or a record of an automatic resolution (status "auto_resolved").

	`reason` is written for a bookkeeper. Versions are canonical records (see records.py) or None.
	`diffs` is a list of {"field", "base", "local", "qbo"} for the fields that differ.
	`actions` lists what resolve_conflict accepts for it: "retry" (send again as is, e.g. after fixing a
	reference), "keep_qbo" (accept QBO's version locally / drop the local change), "keep_local" (overwrite QBO
	with the local version; master data only), "accept_qbo" (follow QBO: apply the void/delete or the edit
	locally), "dismiss" (close without action), "void_in_qbo" (void a cancelled document's QBO record on
	purpose), "accept_difference" (keep a known difference; recorded as resolution "accepted_difference").
	Every action ends with a post-action check: when both books still differ for the document, a
	"books_differ" item says what differs (constants.ACTION_LABELS for the button words).
	"""

	realm_id: str
	local_type: str | None
	local_id: str | None
	qbo_entity: str | None
	qbo_id: str | None
	kind: str  # see constants.CONFLICT_KINDS
	reason: str
	local_version: dict | None = None
	qbo_version: dict | None = None
	base_version: dict | None = None
	diffs: list[dict] = field(default_factory=list)
	status: str = "open"  # "open" | "resolved" | "auto_resolved"
	resolution: str | None = None
	actions: list[str] = field(default_factory=list)
	outbox_id: str | None = None
	created_at: datetime | None = None
	resolved_at: datetime | None = None
	resolved_by: str | None = None
	id: str | None = None  # assigned by the store


@dataclass
class SyncEvent:
	"""One document-level outcome of the sync (what the monthly report counts): a record created, updated,
	voided, deleted, linked or imported on one side because of the other. Written in the same transaction as
	the change it describes (unlike audit rows, which describe HTTP exchanges)."""

	realm_id: str
	direction: str  # "outbound" (ERPNext → QBO) | "inbound" (QBO → ERPNext)
	local_type: str | None
	local_id: str | None
	qbo_entity: str | None
	qbo_id: str | None
	action: str  # created | updated | voided | deleted | deactivated | linked | imported | cancelled | skipped
	detail: str | None = None
	conflict_id: str | None = None
	timestamp: datetime | None = None
	id: str | None = None  # assigned by the store


@dataclass
class Cursor:
	"""Where the inbound pull of one realm stands (invariant 8).

	`changed_since` is the CDC `changedSince` for the next pull (already minus nothing: the engine subtracts
	its overlap). `seen` maps "Entity:Id" to the SyncToken last applied for records whose LastUpdatedTime falls
	in the overlap window, so re-delivered records are skipped. `last_sweep_at` is the last full Id sweep.
	"""

	realm_id: str
	changed_since: datetime | None = None
	seen: dict[str, str] = field(default_factory=dict)
	last_sweep_at: datetime | None = None
	updated_at: datetime | None = None


# --------------------------------------------------------------------------------------------------------
# protocols
# --------------------------------------------------------------------------------------------------------


@runtime_checkable
class Clock(Protocol):
	def now(self) -> datetime:
		"""Aware UTC now."""
		...


@runtime_checkable
class RealmLock(Protocol):
	def hold(self, realm_id: str, timeout: float | None = None) -> AbstractContextManager[None]:
		"""Hold the realm's lock for the duration of the `with` block, across processes and hosts.

		Blocks up to `timeout` seconds (None = wait forever) and raises `nexora_qbo.sync.errors.LockBusy` if it
		could not be taken. The lock must be released when the holder dies (file lock / Redis lock with TTL).
		"""
		...


@runtime_checkable
class Store(Protocol):
	"""The engine's own persistent state. All methods are keyed by realm.

	Transactions: `transaction()` opens a unit of work; everything written inside commits together or not at
	all; nesting joins the outer transaction. Methods called outside a transaction commit on their own.
	EXCEPTION — `append_audit` must persist independently of any open transaction (autonomous write): an
	audit row survives a rollback of the work around it (Frappe: a separate connection / enqueued insert;
	SQLite: a separate database file with its own autocommit connection).
	"""

	def transaction(self) -> AbstractContextManager[None]: ...

	# realm settings -----------------------------------------------------------------------------------
	def get_settings(self, realm_id: str) -> RealmSettings | None: ...

	def save_settings(self, settings: RealmSettings) -> None:
		"""Insert or replace. Raises ValueError if `settings.company` is bound to another realm."""
		...

	def realm_for_company(self, company: str) -> str | None: ...

	def list_realms(self) -> list[str]: ...

	# mappings -----------------------------------------------------------------------------------------
	def get_mapping(self, realm_id: str, local_type: str, local_id: str) -> Mapping | None: ...

	def get_mapping_by_qbo(self, realm_id: str, qbo_entity: str, qbo_id: str) -> Mapping | None: ...

	def save_mapping(self, mapping: Mapping) -> None:
		"""Upsert on (realm_id, local_type, local_id). Raises ValueError if (realm_id, qbo_entity, qbo_id) is
		already mapped to a different local document."""
		...

	def delete_mapping(self, realm_id: str, local_type: str, local_id: str) -> None: ...

	def list_mappings(self, realm_id: str, local_type: str | None = None) -> list[Mapping]: ...

	def mapped_qbo_ids(self, realm_id: str, local_type: str) -> dict[str, str]:
		"""QBO Id -> mapping status of every mapping of `local_type` in the realm, without the snapshots (the
		Id sweep compares these with QBO's Ids; full Mappings of a whole realm would be held at once)."""
		...

	# cursor -------------------------------------------------------------------------------------------
	def get_cursor(self, realm_id: str) -> Cursor | None: ...

	def save_cursor(self, cursor: Cursor) -> None: ...

	# outbox -------------------------------------------------------------------------------------------
	def add_outbox(self, entry: OutboxEntry) -> OutboxEntry:
		"""Insert; assigns and returns `entry.id`. Ids sort in insertion order within a realm."""
		...

	def save_outbox(self, entry: OutboxEntry) -> None:
		"""Update an existing entry (state, attempts, next_attempt_at, last_error, conflict_id, updated_at)."""
		...

	def get_outbox(self, entry_id: str) -> OutboxEntry | None: ...

	def list_outbox(
		self,
		realm_id: str,
		states: Iterable[str] | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list[OutboxEntry]:
		"""Entries of a realm in insertion order, optionally filtered."""
		...

	def max_generation(self, realm_id: str, local_type: str, local_id: str) -> int:
		"""Highest generation of any outbox entry for the document (0 if none)."""
		...

	# audit --------------------------------------------------------------------------------------------
	def append_audit(self, row: AuditRow) -> AuditRow:
		"""Persist immediately and independently of any open transaction; assigns `row.id`. Never updates."""
		...

	def list_audit(
		self, realm_id: str, since: datetime | None = None, until: datetime | None = None
	) -> list[AuditRow]:
		"""Rows of a realm with since <= timestamp < until, oldest first."""
		...

	def audit_summary(
		self, realm_id: str, since: datetime | None = None, until: datetime | None = None
	) -> list[tuple[str, str | None, int]]:
		"""(outcome, error_code, count) of a realm's rows with since <= timestamp < until, counted and grouped
		in the database (the month report over a million rows must not decode them), sorted by outcome then
		error_code. Sum of counts = number of exchanges."""
		...

	# sync events ------------------------------------------------------------------------------------
	def add_event(self, event: SyncEvent) -> SyncEvent:
		"""Insert (inside the current transaction, if any); assigns `event.id`."""
		...

	def list_events(
		self, realm_id: str, since: datetime | None = None, until: datetime | None = None
	) -> list[SyncEvent]:
		"""Events of a realm with since <= timestamp < until, oldest first."""
		...

	# QBO reference lists (issue 11: sync/references.py) ---------------------------------------------------
	def save_references(self, realm_id: str, ref_type: str, rows: list[dict]) -> None:
		"""Replace the realm's list of `ref_type` (Class, Department, Term, TaxCode, PaymentMethod, Account)
		with `rows` ({ref_type, qbo_id, name, full_name, active, detail}); entries no longer in QBO are
		kept as inactive (a mapping may still name them)."""
		...

	def list_references(self, realm_id: str, ref_type: str | None = None) -> list[dict]:
		"""The realm's stored reference rows (of one type), ordered by type then name."""
		...

	# conflicts ----------------------------------------------------------------------------------------
	def add_conflict(self, conflict: Conflict) -> Conflict:
		"""Insert; assigns and returns `conflict.id`."""
		...

	def save_conflict(self, conflict: Conflict) -> None: ...

	def get_conflict(self, conflict_id: str) -> Conflict | None: ...

	def list_conflicts(
		self,
		realm_id: str,
		status: str | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list[Conflict]:
		"""Conflicts of a realm, oldest first, optionally filtered."""
		...

	# AR tie-outs (sync/tieout.py) ---------------------------------------------------------------------
	def save_tie_out(self, realm_id: str, as_of: date, summary: dict) -> None:
		"""Keep one tie-out per realm and day: insert, or replace the one already kept for (realm_id, as_of).
		`summary` is TieOut.summary(): totals, counts and the list of differences (Decimals round-trip)."""
		...

	def list_tie_outs(self, realm_id: str, since: date | None = None, until: date | None = None) -> list[dict]:
		"""The kept summaries of a realm with since <= as_of <= until (either bound optional), oldest first."""
		...


@runtime_checkable
class Ledger(Protocol):
	"""The local books, seen through canonical records (records.py). Keyed by company, not realm.

	Writes coming FROM QBO (`upsert_from_qbo`, `cancel_from_qbo`) must not record outbox intents for the
	change they make (that would echo it back to QBO); the Frappe layer sets a flag around them
	(frappe-notes A7). Local user changes record intents through `nexora_qbo.sync.outbox.record_change` in
	the same transaction as the document write.
	"""

	def get(self, company: str, local_type: str, local_id: str) -> dict | None:
		"""The canonical record of a local document (records.py shape), or None if it does not exist.
		Transactions carry `state` ("draft" | "submitted" | "cancelled") and `outstanding`."""
		...

	def list_ids(self, company: str, local_type: str, since: date | None = None) -> list[str]:
		"""Local documents to export on first connection: masters that are not disabled AND used by the
		company's transactions (masters are global, as in ERPNext: one Company's customers never go to another
		Company's realm, invariant 4), transactions that are submitted (not draft/cancelled), dated on/after
		`since` when given, oldest first."""
		...

	# optional (issue 11, sync/numbering.py): engine calls it only when the ledger has it
	# def note_qbo_number(self, company, local_type, local_id, doc_number) -> None:
	#     QBO numbered a pushed invoice/credit memo itself: keep that number on the local document.

	# optional (issue 13, sync/customer_merge.py): engine follows a QBO customer merge only when the ledger has it
	# def merge_customer(self, source, target) -> None:
	#     ERPNext's rename-with-merge of Customer `source` into `target`: every transaction (and sub-customer)
	#     now names `target`, `source` is gone; records no outbox intent (it came from QBO).

	# optional (issue 13, bank deposits): read by the month-end checks, not by the engine
	# def account_balances(self, company, accounts, as_of=None) -> dict[str, Decimal]:
	#     The balance (debit - credit, home currency) of each named local account from the company's books,
	#     so the cash in Undeposited Funds and in the bank can be compared with QBO's.

	def used_by(self, local_type: str, local_id: str) -> set[str]:
		"""The companies whose transactions refer to the master (customer or item). Masters are global (the
		`company` argument of the other methods is ignored for them, as in ERPNext); this is how the engine
		tells which realm a master belongs to."""
		...

	def find_match(self, company: str, local_type: str, record: dict) -> str | None:
		"""An existing local document that is the same real-world thing as the canonical `record` (which came
		from QBO), by the entity's stable key (records.match_keys): customers by email / tax id / exact
		normalised display name, items by name or sku, transactions by doc number + customer. None when no
		single unambiguous match exists."""
		...

	def upsert_from_qbo(self, company: str, local_type: str, local_id: str | None, record: dict) -> str:
		"""Create (local_id None) or update the local document from a canonical record that came from QBO;
		returns its local id. Transactions are created submitted. Updating a submitted transaction is only
		asked for fields that stay editable (the engine never rewrites amounts/lines of a submitted doc)."""
		...

	def cancel_from_qbo(self, company: str, local_type: str, local_id: str, reason: str) -> None:
		"""Cancel (transactions) or disable (masters) the local document because QBO voided/deleted it.
		Outstanding amounts of linked documents must follow."""
		...

	def open_balances(self, company: str, as_of: date | None = None) -> list[dict]:
		"""Every submitted transaction of the company that is open now, dated on/before `as_of` (all when None):
		invoices with an outstanding amount (positive), credit notes not booked against an invoice with
		credit left (negative), payments with an unallocated amount (negative). One dict per document:
		{local_type, local_id, customer, currency, txn_date (ISO), outstanding (Decimal, document currency),
		outstanding_home (Decimal, home currency as ERPNext carries it now, revaluations included),
		exchange_rate (Decimal)}. Read for the AR tie-out: one query per document type, never per document.
		Transactions only: it must not depend on how master rows (customers) are keyed."""
		...

	def receivable_home_balances(self, company: str, as_of: date | None = None) -> dict[str, Decimal] | None:
		"""Per customer, the company's home-currency receivable as its books carry it, dated on/before `as_of`
		(all when None): {customer: Decimal}. In ERPNext an Exchange Rate Revaluation books per receivable
		account and party (a Journal Entry), never per invoice, so only this party-wise figure sees it; the
		AR tie-out takes each customer's (and the total's) ERPNext home amount from it. None when the ledger
		has no such figure (the tie-out then sums its documents' home amounts). Added for issue 7."""
		...


# The engine builds one client per realm through this factory and passes its audit hook, so every HTTP
# exchange of that client lands in the audit trail: client_for(realm_id, on_exchange) -> QBOClient.
ClientFactory = Callable[[str, Callable[[Any], None]], Any]


__all__ = [
	"AuditRow",
	"ClientFactory",
	"Clock",
	"Conflict",
	"Cursor",
	"Ledger",
	"Mapping",
	"OutboxEntry",
	"RealmLock",
	"RealmSettings",
	"Store",
	"SyncEvent",
]
