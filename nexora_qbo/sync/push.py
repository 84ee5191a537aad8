"""Outbound: drain a realm's outbox into QBO (the Pusher collaborator).

Order of an attempt, and why:
1. Everything runs under the realm lock, so no two workers send the same entry.
2. An entry is marked in_flight (attempts+1, committed) BEFORE the HTTP call. An entry found in_flight later
   was interrupted (crash, SIGKILL): its retry reuses the same deterministic requestid, so QBO replays the
   original answer instead of creating a second record; for entities with a stable key we first look the
   record up in QBO (a replay can be gone after a remote delete).
3. Creates look for the same real-world record in QBO first (stable key), so a customer that already exists
   is linked, never duplicated.
4. Updates are sparse, from the entity's allow-list, only for fields that differ from the last-synced QBO
   version; an unchanged payload is not sent at all. On 5010 the record is re-read and three-way merged, and
   the update retried with the fresh SyncToken (bounded).
5. Transient failures leave the entry failed with a backoff; permanent ones park it with a review item.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from nexora_qbo.qbo import errors as QE
from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.numbering import keep_qbo_number
from nexora_qbo.sync.taxes import tax_difference_reason
from nexora_qbo.sync.entities import ENTITIES, EntitySpec
from nexora_qbo.sync.errors import DependencyPending, LockBusy, Unresolvable
from nexora_qbo.sync.merge import LABELS, link_differences, ours, transaction_changes
from nexora_qbo.sync.outbox import backoff, record_change, request_id
from nexora_qbo.sync.batch import Batcher
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.checks import BooksCheck
from nexora_qbo.sync.customers import KIND as INACTIVE_KIND
from nexora_qbo.sync.customers import held_fields, keep_qbo_values
from nexora_qbo.sync.deductions import ensure_deductions
from nexora_qbo.sync.entities.refund import NotRefundable, apply_refund, ensure_ar_account, unlink_refund
from nexora_qbo.sync.edits import BookkeeperEdits
from nexora_qbo.sync.exchange_rates import ExchangeRates
from nexora_qbo.sync.ports import Mapping, OutboxEntry
from nexora_qbo.sync.services import Collaborator, EngineServices

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

TRANSIENT = (QE.ThrottleError, QE.ServerError, QE.ConnectionFailed, QE.AuthenticationError, QE.OAuthError, QE.StaleObjectError)


def _sort_key(e: OutboxEntry) -> tuple:
	"""Send order within one drain, in phases:
	0. creates/updates of master data and invoices (what later entries reference);
	1. cancels of payments and credit notes: they free invoice balances, so a payment re-entered after a
	   cancel is not refused as "more than the open balance" (a cancelled-and-corrected payment is common);
	2. creates/updates of payments and credit notes;
	3. cancels of invoices (after their payments), then deactivations of master data.
	"""
	rank = C.RANK.get(e.local_type, 99)
	applies_to_invoices = rank >= C.RANK[C.PAYMENT]
	if e.action in ("create", "update"):
		return (2 if applies_to_invoices else 0, rank, int(e.id or 0))
	return (1 if applies_to_invoices else 3, -rank, int(e.id or 0))


def _frees_balances(e: OutboxEntry) -> bool:
	"""A cancel of a payment or credit note: until QBO has it, the invoice balance it used stays taken."""
	return e.action not in ("create", "update") and C.RANK.get(e.local_type, 0) >= C.RANK[C.PAYMENT]


class _Handled(Exception):
	"""Internal: the entry reached a final state inside a helper (parked/done)."""


class Pusher(Collaborator):
	"""Drains a realm's outbox into QBO (engine facade: SyncEngine.push)."""

	def __init__(self, services: EngineServices, books: Books, checks: BooksCheck, edits: BookkeeperEdits):
		super().__init__(services)
		self.books, self.checks, self.edits = books, checks, edits
		self.rates = ExchangeRates(services)  # QBO as the rate source: a document sent at another rate is shown
		# creates of transactions look for an existing QBO record first only during an initial export
		self.look_up_existing = False
		self.batching = True  # creates and updates of one type go in batch requests (sync/batch.py)

	def push(self, realm_id: str, *, limit: int | None = None, look_up_existing: bool = False) -> dict[str, int]:
		"""Send the realm's due outbox entries to QBO; returns counts by outcome (done/failed/parked/waiting).
		`look_up_existing` (initial export): creates of transactions look for the same record in QBO first."""
		ctx = self.services.context(realm_id)
		counts = {"done": 0, "failed": 0, "parked": 0}
		self.look_up_existing = look_up_existing
		batch = Batcher(self)
		try:
			with self.services.hold(realm_id):
				self._drain(ctx, batch, counts, limit)
		finally:
			self.look_up_existing = False
		return counts

	def _drain(self, ctx: RealmContext, batch: Batcher, counts: dict[str, int], limit: int | None) -> None:
		now = self.clock.now()
		tried: set[str] = set()
		held_customers: set[str | None] = set()  # customers whose payment/credit cancel did not go through
		for _ in range(3):  # later passes pick up intents recorded while merging (e.g. local-only fields)
			entries = [e for e in self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES)
				if e.id not in tried and self._due(e, now)]
			if not entries:
				break
			entries.sort(key=_sort_key)
			for entry in entries:
				if limit is not None and len(tried) >= limit:
					batch.flush(ctx, counts)
					return
				tried.add(entry.id)
				fresh = self.store.get_outbox(entry.id)
				if fresh is None or fresh.state not in C.OPEN_STATES:
					continue  # handled as a dependency of an earlier entry
				if self._waits_for_failed_cancel(ctx, fresh, held_customers):
					counts["failed"] += 1
					continue
				if self.batching and batch.batchable(fresh):
					batch.add(ctx, fresh, counts)
					continue
				batch.flush(ctx, counts)  # what follows may depend on the batch's documents
				state = self.push_entry(ctx, fresh)
				self.checkpoint()
				counts[state] = counts.get(state, 0) + 1
				if _frees_balances(fresh) and state != C.DONE:
					held_customers.add(self._customer_of(ctx, fresh))
			batch.flush(ctx, counts)

	def settle_unacknowledged_creates(self, ctx: RealmContext) -> frozenset[str]:
		"""Before a pull imports anything: re-send the creates QBO may have committed without our hearing back
		(in_flight after a crash, or failed after lost answers). The same requestid makes QBO replay the
		original answer, so the record gets its mapping instead of coming back through CDC as a stranger and
		being booked a second time (a payment has no stable key to recognise it by). Returns the local types
		whose creates are still unacknowledged (QBO unreachable); their unknown records must wait.
		The caller holds the realm lock. Invoices and credit notes are settled a batch at a time: ONE
		`DocNumber IN (…)` query per batch finds those QBO already has, the rest go in one batch request
		(sync/batch.py), instead of a stable-key lookup and a create per document."""
		batch, counts = Batcher(self), {}
		for entry in sorted(self._unacknowledged_creates(ctx.realm_id), key=_sort_key):
			fresh = self.store.get_outbox(entry.id)
			if fresh is None or fresh.state not in (C.IN_FLIGHT, C.FAILED):
				continue
			if self.batching and batch.batchable(fresh):
				batch.add(ctx, fresh, counts)
				continue
			batch.flush(ctx, counts)
			self.push_entry(ctx, fresh)
			self.checkpoint()
		batch.flush(ctx, counts)
		return frozenset(e.local_type for e in self._unacknowledged_creates(ctx.realm_id))

	def _unacknowledged_creates(self, realm_id: str) -> list[OutboxEntry]:
		return [e for e in self.store.list_outbox(realm_id, states=(C.IN_FLIGHT, C.FAILED))
			if e.action == "create" and e.attempts > 0]

	def _customer_of(self, ctx: RealmContext, e: OutboxEntry) -> str | None:
		record = self.ledger.get(ctx.company, e.local_type, e.local_id)
		return (record or {}).get("customer")

	def _waits_for_failed_cancel(self, ctx: RealmContext, e: OutboxEntry, held_customers: set) -> bool:
		"""A payment or credit note of a customer whose earlier payment/credit cancel failed in this drain would
		be refused for a balance the old one still holds in QBO (and parked for good): it waits instead."""
		if not held_customers or e.action not in ("create", "update") or C.RANK.get(e.local_type, 0) < C.RANK[C.PAYMENT]:
			return False
		if self._customer_of(ctx, e) not in held_customers:
			return False
		self._fail(e, "waiting for the cancellation of this customer's earlier payment or credit note to reach "
			"QuickBooks first")
		return True

	@staticmethod
	def _due(e: OutboxEntry, now: datetime) -> bool:
		if e.state == C.IN_FLIGHT:
			return True  # interrupted attempt: we hold the lock, so nobody else is sending it
		return e.next_attempt_at is None or e.next_attempt_at <= now

	def push_entry(self, ctx: RealmContext, e: OutboxEntry) -> str:
		handler = {"create": self._push_create, "update": self._push_update}.get(e.action, self._push_cancel)
		return self._guarded(ctx, e, lambda: handler(ctx, e))

	def _guarded(self, ctx: RealmContext, e: OutboxEntry, step) -> str:
		"""Run one step of an entry and map its failure to the entry's state, the same way whether the request
		was sent alone or as an item of a batch (a per-item fault is raised here like a single one)."""
		with audit.operation(C.OUTBOUND, e.local_type, e.local_id):
			try:
				step()
			except _Handled:
				pass
			except DependencyPending as exc:
				self._fail(e, str(exc))
			except LockBusy:
				raise
			except TRANSIENT as exc:
				self._fail(e, f"{type(exc).__name__}: {exc}")
			except QE.QBOError as exc:
				self._park_rejected(ctx, e, exc)
			except Unresolvable as exc:
				self.books.park(ctx, e, "missing_reference", str(exc), [C.ACTION_RETRY, C.ACTION_DISMISS])
			except NotRefundable as exc:  # a refund QBO has no shape for (sync/entities/refund.py): in words
				self.books.park(ctx, e, "rejected", str(exc), [C.ACTION_DISMISS, C.ACTION_RETRY])
			except Exception as exc:  # a bug or bad data: keep the intent, show it to a person
				self.books.park(ctx, e, "rejected", f"The sync could not process this {LABELS.get(e.local_type)}: {exc}",
					[C.ACTION_RETRY, C.ACTION_DISMISS])
		return e.state if e.state in (C.DONE, C.FAILED, C.PARKED) else "failed"

	def _begin(self, e: OutboxEntry) -> None:
		"""Commit in_flight BEFORE the HTTP call (crash safety: a restart retries with the same requestid)."""
		e.state = C.IN_FLIGHT
		e.attempts += 1
		e.updated_at = self.clock.now()
		self.store.save_outbox(e)
		self.checkpoint()

	def _done(self, e: OutboxEntry, note: str | None = None) -> None:
		e.state = C.DONE
		e.last_error = note
		e.updated_at = self.clock.now()
		self.store.save_outbox(e)
		raise _Handled()

	def _fail(self, e: OutboxEntry, error: str) -> None:
		now = self.clock.now()
		e.state = C.FAILED
		e.last_error = error[:1000]
		e.next_attempt_at = now + backoff(max(e.attempts, 1))
		e.updated_at = now
		self.store.save_outbox(e)

	def _park_rejected(self, ctx: RealmContext, e: OutboxEntry, exc: QE.QBOError) -> None:
		self.books.park(ctx, e, "rejected", self._plain_reason(ctx, e, exc), [C.ACTION_RETRY, C.ACTION_DISMISS])

	def _plain_reason(self, ctx: RealmContext, e: OutboxEntry, exc: QE.QBOError) -> str:
		what = LABELS.get(e.local_type, e.local_type)
		detail = exc.detail or exc.message or str(exc)
		if isinstance(exc, QE.DuplicateNameError):
			return (f"QuickBooks already has a customer, vendor or employee with this name, so the {what} "
				f"{e.local_id} could not be created. Rename one of them (or link them), then choose \u201cRetry\u201d. QuickBooks said: {detail}")
		if isinstance(exc, QE.ObjectNotFoundError):
			return (f"QuickBooks refused the {what} {e.local_id} because something it uses (customer, item or "
				f"account) was deleted or made inactive in QuickBooks. Reactivate it or change the document, then "
				f"choose \u201cRetry\u201d. QuickBooks said: {detail}")
		if isinstance(exc, QE.AuthorizationError):
			return f"QuickBooks did not allow this change to the {what} {e.local_id} (permissions or subscription): {detail}"
		return f"QuickBooks rejected the {what} {e.local_id}: {detail}. Correct it, then choose \u201cRetry\u201d."

	def _ensure_deps(self, ctx: RealmContext, local_type: str, record: dict, depth: int = 0) -> None:
		"""Push referenced documents that are not in QBO yet (customer and items before the invoice)."""
		for dep_type, dep_id in self._deps(local_type, record):
			if self.store.get_mapping(ctx.realm_id, dep_type, dep_id) is not None:
				continue
			if depth > 3:
				raise DependencyPending(f"waiting for {LABELS[dep_type]} {dep_id} to reach QuickBooks", dep_type, dep_id)
			if self.books.get_local(ctx, dep_type, dep_id) is None:
				raise Unresolvable(f"The {LABELS[local_type]} refers to {LABELS[dep_type]} {dep_id}, which does not exist locally.")
			self._wait_for_parked_dependency(ctx, dep_type, dep_id)
			waiting = [x for x in self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=dep_type,
				local_id=dep_id) if x.action in ("create", "update")]
			dep = waiting[0] if waiting else record_change(self.store, ctx.realm_id, dep_type, dep_id, "create",
				self.clock.now())
			if dep.state in (C.PENDING, C.FAILED, C.IN_FLIGHT):
				with audit.operation(C.OUTBOUND, dep_type, dep_id):
					self.push_entry(ctx, dep)
			if self.store.get_mapping(ctx.realm_id, dep_type, dep_id) is None:
				raise DependencyPending(f"waiting for {LABELS[dep_type]} {dep_id} to reach QuickBooks", dep_type, dep_id)

	def _wait_for_parked_dependency(self, ctx: RealmContext, dep_type: str, dep_id: str) -> None:
		"""One review item per cause: a dependency whose create is in review (QBO rejected it) is not sent again
		for every document that waits for it; they wait, and their reason names that item."""
		for x in self.store.list_outbox(ctx.realm_id, states=(C.PARKED,), local_type=dep_type, local_id=dep_id):
			c = self.store.get_conflict(x.conflict_id) if x.conflict_id else None
			if c is not None and c.status == C.OPEN:
				raise DependencyPending(f"waiting for the {LABELS[dep_type]} {dep_id}, which is in the review queue "
					f"(item {c.id}: {c.reason}). Resolve that item; this document follows by itself.", dep_type, dep_id)

	@staticmethod
	def _deps(local_type: str, record: dict) -> list[tuple[str, str]]:
		out: list[tuple[str, str]] = []
		if local_type in (C.INVOICE, C.CREDIT_MEMO, C.PAYMENT, C.REFUND) and record.get("customer"):
			out.append((C.CUSTOMER, record["customer"]))
		if local_type == C.CUSTOMER and record.get("parent"):  # issue 11: a job needs its parent in QBO first
			out.append((C.CUSTOMER, record["parent"]))
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			out += [(C.ITEM, line["item"]) for line in record.get("lines") or [] if line.get("item")]
		if local_type == C.CREDIT_MEMO and record.get("against_invoice"):
			# the credit is applied to its invoice right after the create: without the invoice in QBO it would
			# stay unapplied for good (the invoice may have met a transient failure and be retried later)
			out.append((C.INVOICE, record["against_invoice"]))
		if local_type in (C.PAYMENT, C.REFUND):  # a refund after the credit notes it pays out
			out += [(a["doc_type"], a["doc_key"]) for a in record.get("applications") or []]
		if local_type == C.DEPOSIT:  # a deposit waits for the payments it deposits, as payments wait for invoices
			out += [(C.PAYMENT, p["doc_key"]) for p in record.get("payments") or []]
		seen, uniq = set(), []
		for d in out:
			if d not in seen:
				seen.add(d)
				uniq.append(d)
		return uniq

	def _push_create(self, ctx: RealmContext, e: OutboxEntry) -> None:
		ready = self._ready_create(ctx, e)
		if ready is None:
			return
		spec, local, payload = ready
		rid = request_id(ctx.realm_id, e.local_type, e.local_id, "create", e.generation)
		self._begin(e)
		resp = ctx.client.create(spec.qbo_entity, payload, request_id=rid)
		self._finish_create(ctx, e, spec, local, payload, resp)

	def _ready_create(self, ctx: RealmContext, e: OutboxEntry, *, looked_up: bool = False) -> tuple | None:
		"""Everything a create does before its HTTP call: dependencies first, amendments in place, and the
		stable-key lookup ONLY where a duplicate is possible (a master at its first export to this realm, an
		attempt that was interrupted or whose answer was lost, an initial export); a first attempt of a new
		transaction sends exactly one request. Returns (spec, local, payload) to send, or None when the entry
		was settled here. `looked_up`: the caller already looked for it (one query per batch)."""
		spec = ENTITIES[e.local_type]
		existing = self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)
		if existing is not None:
			if e.local_type == C.CREDIT_MEMO:  # e.g. interrupted between the create and its application
				local = self.books.get_local(ctx, e.local_type, e.local_id)
				if local is not None:
					self._apply_credit(ctx, e, existing, local)
			if e.local_type == C.REFUND:  # interrupted between the refund and its link to the credit memo
				local = self.books.get_local(ctx, e.local_type, e.local_id)
				if local is not None:
					apply_refund(ctx, e.local_id, existing, local, self.clock.now(), e.generation)
			self._push_update(ctx, e)
			return None
		local = self.books.get_local(ctx, e.local_type, e.local_id)
		if local is None:
			self._done(e, "the document no longer exists locally")
		if spec.kind == "transaction" and local.get("state") != "submitted":
			if local.get("state") == "cancelled" and e.attempts == 0:
				self._done(e, "cancelled before it was sent")
			if local.get("state") == "draft":
				self._done(e, "draft documents are not sent")
		self._ensure_deps(ctx, e.local_type, local)
		if e.local_type == C.PAYMENT:  # short-pay deductions become applied credit memos (sync/deductions.py)
			ensure_deductions(ctx, e.local_id, local, self.clock.now(), e.generation)
		if e.local_type == C.REFUND:  # the A/R account of the refund's journal entry (entities/refund.py)
			ensure_ar_account(ctx)
		if spec.kind == "transaction" and local.get("amended_from") and self.edits.amend_in_place(ctx, e, spec, local):
			self._send_amendment(ctx, e, spec)
		payload = spec.to_qbo(local, ctx)
		if not looked_up and (spec.kind == "master" or e.attempts > 0 or self.look_up_existing):
			found = self._lookup(ctx, spec, local, e.local_id)
			if found is not None:
				self._recovered(ctx, e, spec, local, found)
				return None
		return spec, local, payload

	def _recovered(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, local: dict, found: dict) -> None:
		"""The record is already in QBO (our lost write, or the same real-world record): link, don't create."""
		self._link_found(ctx, e, spec, local, found)
		if e.local_type == C.CREDIT_MEMO:  # recovered after lost answers: still owes its application
			self._apply_credit(ctx, e, self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id), local)
		self._push_update(ctx, e)  # send what only the local side has (or park on conflict)

	def _finish_create(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, local: dict, payload: dict,
			resp: dict) -> None:
		m = self._after_write(ctx, e, spec, resp, payload, "created")
		keep_qbo_number(self.ledger, ctx, spec, e.local_id, local, resp)  # issue 11 (sync/numbering.py)
		self._compare_totals(ctx, spec, e.local_id, local, resp)
		self.rates.check_sent_rate(ctx, self.books, spec, e.local_id, local, resp)
		if e.local_type == C.CREDIT_MEMO:
			self._apply_credit(ctx, e, m, local)
		if e.local_type == C.REFUND:  # a zero Payment links the journal entry and the credit memos
			apply_refund(ctx, e.local_id, m, local, self.clock.now(), e.generation)
		self._done(e)

	def _send_amendment(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec) -> None:
		"""The amendment now owns the original's QBO record: update it (fresh SyncToken), then compare both
		books; a remaining difference (QBO computed another total…) is kept as one review item."""
		try:
			self._push_update(ctx, e)
		except _Handled:
			pass
		if e.state == C.DONE:
			self.checks.after_action(ctx, spec, e.local_id, "the amendment was sent")
		raise _Handled()

	def _apply_credit(self, ctx: RealmContext, e: OutboxEntry, cm: Mapping, local: dict) -> None:
		"""A local credit note against an invoice reduces that invoice's outstanding in ERPNext; in QBO a
		CreditMemo stays unapplied until a zero Payment links it to the invoice. Create that application so
		the invoice balance follows on both sides (deterministic requestid; skipped when the credit is already
		used). It is not mapped to a local document: the pull recognises it as the mirror of the credit
		note (see Puller._credit_mirror) and never books it twice. Failures that need a person open a review
		item; the credit memo itself stays synced."""
		invoice = local.get("against_invoice")
		if not invoice or cm.status != C.ACTIVE:
			return
		spec = ENTITIES[C.CREDIT_MEMO]
		remote_cm = ctx.client.read("CreditMemo", cm.qbo_id)
		remaining = R.money(remote_cm.get("RemainingCredit", remote_cm.get("Balance")))
		if remaining <= 0:
			return  # already applied (by us before an interruption, or by the bookkeeper)
		inv_m = self.store.get_mapping(ctx.realm_id, C.INVOICE, invoice)
		problem = None
		if inv_m is None or inv_m.status != C.ACTIVE:
			problem = f"invoice {invoice} is not (or no longer) in QuickBooks"
		else:
			remote_inv = ctx.client.read("Invoice", inv_m.qbo_id)
			amount = min(remaining, R.money(remote_inv.get("Balance")))
			if amount <= 0:
				problem = f"invoice {invoice} has no open balance in QuickBooks"
		if problem is None:
			body = {
				"CustomerRef": {"value": ctx.qbo_ref(C.CUSTOMER, local["customer"])},
				"TotalAmt": R.money(0),
				"TxnDate": local.get("txn_date"),
				"PrivateNote": f"Credit note {e.local_id} applied to {invoice} (Nexora QBO)",
				"Line": [
					{"Amount": amount, "LinkedTxn": [{"TxnId": inv_m.qbo_id, "TxnType": "Invoice"}]},
					{"Amount": amount, "LinkedTxn": [{"TxnId": cm.qbo_id, "TxnType": "CreditMemo"}]},
				],
			}
			rid = request_id(ctx.realm_id, C.CREDIT_MEMO, e.local_id, "apply", e.generation)
			try:
				resp = ctx.client.create("Payment", body, request_id=rid)
			except TRANSIENT:
				raise
			except QE.QBOError as exc:
				problem = f"QuickBooks refused the application: {exc.detail or exc.message or exc}"
			else:
				self.books.event(ctx, C.OUTBOUND, ENTITIES[C.PAYMENT], None, str(resp.get("Id")), "created",
					f"credit note {e.local_id} applied to {invoice}")
				return
		self.books.open_conflict(ctx, spec, e.local_id, cm.qbo_id, "rejected",
			f"The credit note {e.local_id} was sent to QuickBooks but could not be applied to {invoice}: {problem}. "
			f"Apply the credit to the invoice in QuickBooks (Receive Payment), then choose \u201cDismiss\u201d.",
			local, None, None, [C.ACTION_DISMISS], diffs=[])

	def _unapply_credit(self, ctx: RealmContext, e: OutboxEntry, cm: Mapping) -> None:
		"""QBO refuses to delete a credit memo that is still applied: remove the zero payments that only apply
		this credit memo to invoices (ours, or the bookkeeper's equivalent)."""
		remote_cm = ctx.client.read("CreditMemo", cm.qbo_id)
		for link in remote_cm.get("LinkedTxn") or []:
			if link.get("TxnType") != "Payment":
				continue
			pay = ctx.client.read("Payment", str(link["TxnId"]))
			types = {lt.get("TxnType") for ln in pay.get("Line") or [] for lt in ln.get("LinkedTxn") or []}
			if R.money(pay.get("TotalAmt")) != 0 or not types <= {"Invoice", "CreditMemo"}:
				continue  # real money moved: leave it to a person (the delete will then be refused and parked)
			rid = request_id(ctx.realm_id, C.CREDIT_MEMO, e.local_id, f"unapply{pay['Id']}", e.generation)
			try:
				ctx.client.delete("Payment", str(pay["Id"]), pay.get("SyncToken"), request_id=rid)
			except QE.ObjectNotFoundError:
				pass

	def _lookup(self, ctx: RealmContext, spec: EntitySpec, local: dict, local_id: str = "") -> dict | None:
		"""The QBO record that is the same real-world thing (stable key), if exactly one unmapped one exists."""
		candidates: dict[str, dict] = {}
		for statement in spec.lookup_queries(local):
			for rec in ctx.client.query(statement).records:
				candidates[str(rec["Id"])] = rec
		hits = []
		for qid, rec in candidates.items():
			if self.store.get_mapping_by_qbo(ctx.realm_id, spec.qbo_entity, qid) is not None:
				continue
			if spec.local_type == C.CUSTOMER:
				remote_email = ((rec.get("PrimaryEmailAddr") or {}).get("Address") or "").lower()
				if local.get("email") and remote_email and remote_email != local["email"]:
					continue  # same name, different person: never link on the name alone
				if R.has_erpnext_dup_suffix(local_id) and not (remote_email and remote_email == local.get("email")):
					continue  # ERPNext's second "Acme" ("Acme - 1") is linked by email only, never by name
			if spec.kind == "transaction":
				want = ctx.qbo_ref(C.CUSTOMER, local["customer"])
				if str((rec.get("CustomerRef") or {}).get("value")) != str(want):
					continue
			hits.append(rec)
		return hits[0] if len(hits) == 1 else None

	def _link_found(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, local: dict, found: dict) -> None:
		"""First contact of a local record with an existing QBO record: map them and merge without a base."""
		remote_c = spec.from_qbo(found, ctx)
		m = Mapping.ours(ctx.realm_id, e.local_type, e.local_id, spec.qbo_entity, found, self.clock.now(),
			remote_hash=R.content_hash(spec.local_type, remote_c))
		with self.store.transaction():
			self.store.save_mapping(m)
			self.books.event(ctx, C.OUTBOUND, spec, e.local_id, m.qbo_id, "linked", "matched by stable key")
		if spec.kind == "master":
			merged, _ = self.books.merge_master_remote(ctx, spec, m, local, remote_c, base_c=None, entry=e)
			if merged is None:
				raise _Handled()  # both-sided differences held for review
		else:
			changes = link_differences(spec.local_type, local, remote_c)
			if changes:
				self.books.open_conflict(ctx, spec, e.local_id, m.qbo_id, "transaction_edited",
					f"QuickBooks already has {spec.qbo_entity} {found.get('DocNumber')} for this customer, with different "
					f"content. It was linked, not overwritten: compare both versions and keep one.",
					local, remote_c, None, [C.ACTION_KEEP_QBO, C.ACTION_KEEP_LOCAL, C.ACTION_DISMISS])

	def _after_write(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, resp: dict, payload: dict | None,
			action: str, status: str = C.ACTIVE) -> Mapping:
		qid = str(resp.get("Id"))
		old = self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)
		is_stub = spec.is_deleted_stub(resp)
		base = old.base if (is_stub and old) else resp
		remote_hash = old.remote_hash if (is_stub and old) else R.content_hash(spec.local_type, spec.from_qbo(resp, ctx))
		m = Mapping(realm_id=ctx.realm_id, local_type=e.local_type, local_id=e.local_id, qbo_entity=spec.qbo_entity,
			qbo_id=qid, sync_token=resp.get("SyncToken") or (old.sync_token if old else None), base=base,
			last_sent_hash=R.hash_json(payload) if payload is not None else (old.last_sent_hash if old else None),
			remote_hash=remote_hash, status=status, updated_at=self.clock.now(),
			origin=old.origin if old is not None else C.ORIGIN_LOCAL)
		with self.store.transaction():
			self.store.save_mapping(m)
			self.books.event(ctx, C.OUTBOUND, spec, e.local_id, qid, action)
		return m

	def _compare_totals(self, ctx: RealmContext, spec: EntitySpec, local_id: str, local: dict, resp: dict) -> None:
		"""Invariant 7: totals are compared, never assumed. QBO computes an invoice's TotalAmt itself (lines
		rounded half-up, its own tax); when it lands on another cent than ERPNext's grand total, the books
		disagree and a person must see it, even though QBO accepted the document."""
		if spec.local_type not in (C.INVOICE, C.CREDIT_MEMO) or resp.get("TotalAmt") is None:
			return
		if local.get("total") in (None, ""):
			return
		ours, theirs = R.money(local["total"]), R.money(resp["TotalAmt"])
		if ours == theirs:
			return
		label = LABELS[spec.local_type]
		# issue 11: QBO computed another tax (US automated sales tax): name both tax amounts
		tax_reason = tax_difference_reason(label, local_id, local, resp)
		if tax_reason:
			return self.books.open_conflict(ctx, spec, local_id, str(resp.get("Id")), C.KIND_TAX_DIFFERS, tax_reason,
				local, spec.from_qbo(resp, ctx), None, [C.ACTION_DISMISS, C.ACTION_ACCEPT_DIFFERENCE])
		reason = (
			f"QuickBooks accepted {label} {local_id} but computed a total of {theirs} where ERPNext has {ours} "
			f"(difference {theirs - ours}). This is usually the rounding of a line (QuickBooks rounds each line "
			"half-up) or a tax computed differently. Correct one side so both books agree, then choose \u201cDismiss\u201d, or "
			"\u201cAccept the difference\u201d to keep it knowingly."
		)
		self.books.open_conflict(ctx, spec, local_id, str(resp.get("Id")), "totals_differ", reason, local,
			spec.from_qbo(resp, ctx), None, [C.ACTION_DISMISS, C.ACTION_ACCEPT_DIFFERENCE])

	def _push_update(self, ctx: RealmContext, e: OutboxEntry) -> None:
		ready = self.ready_update(ctx, e)
		if ready is None:
			return
		spec, m, local, body = ready
		self._begin(e)
		self.send_update(ctx, e, spec, m, local, body)

	def ready_update(self, ctx: RealmContext, e: OutboxEntry) -> tuple | None:
		"""Everything an update does before its HTTP call (the same for a single request and a batch item):
		park behind an open review item, dependencies first, and the sparse body of the fields that differ from
		the last-synced QBO version. Returns (spec, mapping, local, body) to send, or None when the entry was
		settled here (nothing to send, or sent as a create because QBO does not have it yet)."""
		spec = ENTITIES[e.local_type]
		m = self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)
		if m is None:
			if self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=e.local_type, local_id=e.local_id):
				others = [x for x in self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=e.local_type,
					local_id=e.local_id) if x.id != e.id and x.action == "create"]
				if others:
					raise DependencyPending(f"waiting for the {LABELS[e.local_type]} to be created in QuickBooks first")
			self._push_create_from_update(ctx, e)
			return None
		if m.status != C.ACTIVE:
			self._done(e, f"the QuickBooks record is {m.status}; not updated")
		blocking = self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=e.local_type, local_id=e.local_id)
		held = held_fields(blocking)  # a held deactivation: other edits still go, "active" never does
		blocking = [c for c in blocking if c.kind != INACTIVE_KIND]
		if blocking:
			self.books.park(ctx, e, blocking[0].kind, blocking[0].reason, blocking[0].actions, conflict=blocking[0])
			raise _Handled()
		local = self.books.get_local(ctx, e.local_type, e.local_id)
		if local is None:
			self._done(e, "the document no longer exists locally")
		if held:
			local = keep_qbo_values(local, spec.from_qbo(m.base, ctx) if m.base else None, held)
		self._ensure_deps(ctx, e.local_type, local)
		if e.local_type == C.PAYMENT:
			ensure_deductions(ctx, e.local_id, local, self.clock.now(), e.generation)
		if e.local_type == C.REFUND:
			ensure_ar_account(ctx)
		payload = spec.to_qbo(local, ctx)
		if R.hash_json(payload) == m.last_sent_hash:
			self._done(e, "unchanged since the last send; nothing sent")
		base_c = spec.from_qbo(m.base, ctx) if m.base else None
		lc, bc = R.content(e.local_type, local), R.content(e.local_type, base_c) if base_c else {}
		changed = [f for f in R.CONTENT_FIELDS[e.local_type] if lc.get(f) != bc.get(f) and spec.field_keys.get(f)]
		if not changed:
			m.last_sent_hash = R.hash_json(payload)
			self.store.save_mapping(m)
			self._done(e, "QuickBooks already has this content; nothing sent")
		body = spec.sparse_update(local, changed, ctx, m.qbo_id, m.sync_token)
		if len(body) <= 3:  # only Id/SyncToken/sparse: the differences are not writable fields
			m.last_sent_hash = R.hash_json(payload)
			self.store.save_mapping(m)
			self._done(e, "no writable field differs; nothing sent")
		return spec, m, local, body

	def send_update(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, m: Mapping, local: dict, body: dict,
			first=None) -> None:
		"""Send a prepared update (the entry is already in_flight). On 5010 the record is re-read and merged
		(`stale_remote`), and the merged body retried alone with the fresh SyncToken (bounded). `first`, when
		given, stands for attempt 0 already sent as a batch item: it returns that item's record or raises that
		item's fault, so a 5010 inside a batch continues exactly where a single request's 5010 does."""
		for attempt in range(C.STALE_RETRIES + 1):
			try:
				if attempt == 0 and first is not None:
					resp = first()
				else:
					rid = request_id(ctx.realm_id, e.local_type, e.local_id, "update", e.generation, f"a{e.attempts}s{attempt}")
					resp = ctx.client.update(spec.qbo_entity, body, request_id=rid)
			except QE.StaleObjectError:
				if attempt >= C.STALE_RETRIES:
					raise
				remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
				body, local, m = self.stale_remote(ctx, e, spec, m, remote)
				continue
			self._after_write(ctx, e, spec, resp, spec.to_qbo(local, ctx), "updated")
			self._compare_totals(ctx, spec, e.local_id, local, resp)
			self._done(e)

	def stale_remote(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, m: Mapping,
			remote: dict) -> tuple[dict, dict, Mapping]:
		"""QBO's record moved on since our snapshot (a 5010, or found so by a batch's recovery query): merge,
		and return (body, local, mapping) to send next; raises _Handled when the entry was parked or finished."""
		merged = self._merge_on_stale(ctx, e, spec, m, remote)
		if merged is None:
			raise _Handled()
		body, local = merged
		return body, local, self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)

	def _push_create_from_update(self, ctx: RealmContext, e: OutboxEntry) -> None:
		e.action = "create"  # in memory only: the requestid keeps the entry's own generation
		try:
			self._push_create(ctx, e)
		finally:
			e.action = "update"

	def _merge_on_stale(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, m: Mapping,
			remote: dict) -> tuple[dict, dict] | None:
		"""5010: QBO changed since our snapshot. Merge and return (new body, local record) or None if parked/done."""
		remote_c = spec.from_qbo(remote, ctx)
		base_c = spec.from_qbo(m.base, ctx) if m.base else None
		local = self.books.get_local(ctx, e.local_type, e.local_id)
		if spec.kind == "transaction":
			changes = transaction_changes(spec.local_type, base_c, remote_c)
			if changes and not spec.is_voided(remote) and ours(spec.local_type, local, remote_c, changes):
				# our own earlier write, whose answer was lost: QBO has what we sent, so it is the new base
				m.base, m.sync_token = remote, remote.get("SyncToken")
				m.remote_hash = R.content_hash(spec.local_type, remote_c)
				self.store.save_mapping(m)
				changes = []
			if changes or spec.is_voided(remote):
				self.books.hold_transaction(ctx, spec, m, local, remote, remote_c, base_c, changes, e)
				return None
			# only bookkeeping changed (e.g. a payment applied): refresh the token and send again
			m.sync_token, m.base = remote.get("SyncToken"), remote
			self.store.save_mapping(m)
			lc, bc = R.content(e.local_type, local), R.content(e.local_type, remote_c)
			changed = [f for f in R.CONTENT_FIELDS[e.local_type] if lc.get(f) != bc.get(f) and spec.field_keys.get(f)]
			if not changed:
				self._done(e, "QuickBooks already has this content")
			return spec.sparse_update(local, changed, ctx, m.qbo_id, m.sync_token), local
		merged_local, to_send = self.books.merge_master_remote(ctx, spec, m, local, remote_c, base_c=base_c, remote_obj=remote,
			entry=e)
		if merged_local is None:
			raise _Handled()  # held for review (entry parked)
		if not to_send:
			m = self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)
			m.last_sent_hash = R.hash_json(spec.to_qbo(merged_local, ctx))
			self.store.save_mapping(m)
			self._done(e, "merged with the QuickBooks changes; nothing left to send")
		return spec.sparse_update(merged_local, to_send, ctx, m.qbo_id, remote.get("SyncToken")), merged_local

	def _push_cancel(self, ctx: RealmContext, e: OutboxEntry) -> None:
		spec = ENTITIES[e.local_type]
		m = self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)
		if m is None:
			creates = [x for x in self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=e.local_type,
				local_id=e.local_id) if x.action == "create" and x.id != e.id]
			if any(x.attempts for x in creates):
				raise DependencyPending("waiting for the interrupted create to finish before voiding")
			for x in creates:
				x.state, x.last_error = C.DONE, "cancelled before it was sent"
				self.store.save_outbox(x)
			self._done(e, "never reached QuickBooks; nothing to void")
		if m.status in (C.VOIDED, C.DELETED, C.INACTIVE):
			self._done(e, f"already {m.status} in QuickBooks")
		blocking = self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=e.local_type, local_id=e.local_id)
		if blocking:
			c = blocking[0]
			if c.kind == "transaction_edited" and "cancelled in ERPNext" not in (c.reason or ""):
				lbl = C.ACTION_LABELS
				c.reason = (f"{c.reason} It has since been cancelled in ERPNext, and nothing was voided in QuickBooks: "
					f"amend it in ERPNext (the amendment updates the same QuickBooks {LABELS[e.local_type]}), choose "
					f"\u201c{lbl[C.ACTION_KEEP_LOCAL]}\u201d to void it in QuickBooks too, or \u201c{lbl[C.ACTION_KEEP_QBO]}\u201d "
					f"to keep QuickBooks' version and bring it back into ERPNext as a new document.")
				self.store.save_conflict(c)
			self.books.park(ctx, e, c.kind, c.reason, c.actions, conflict=c)
			raise _Handled()
		if (spec.kind == "transaction" and m.origin == C.ORIGIN_QBO and ctx.settings.qbo_born_cancel_policy != C.FOLLOW
				and not self.edits.void_chosen(ctx, e)):
			self.edits.ask_before_voiding(ctx, e, spec, m)  # never void the bookkeeper's own document as a side effect
			raise _Handled()
		self._begin(e)
		if e.local_type == C.CREDIT_MEMO:
			self._unapply_credit(ctx, e, m)  # QBO refuses to delete a credit memo that is still applied
		if e.local_type == C.REFUND:
			unlink_refund(ctx, e.local_id, e.generation)  # and a journal entry a payment links (entities/refund.py)
		token = m.sync_token
		for attempt in range(C.STALE_RETRIES + 1):
			rid = request_id(ctx.realm_id, e.local_type, e.local_id, e.action, e.generation, f"s{attempt}" if attempt else "")
			try:
				if spec.cancel_mode == "void":
					resp, status, action = ctx.client.void(spec.qbo_entity, m.qbo_id, token, request_id=rid), C.VOIDED, "voided"
				elif spec.cancel_mode == "delete":
					resp, status, action = ctx.client.delete(spec.qbo_entity, m.qbo_id, token, request_id=rid), C.DELETED, "deleted"
				else:
					name_key = "DisplayName" if spec.local_type == C.CUSTOMER else "Name"
					extra = {name_key: (m.base or {}).get(name_key)} if (m.base or {}).get(name_key) else None
					resp = ctx.client.deactivate(spec.qbo_entity, m.qbo_id, token, request_id=rid, extra=extra)
					status, action = C.INACTIVE, "deactivated"
			except QE.StaleObjectError:
				if attempt >= C.STALE_RETRIES:
					raise
				remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
				if spec.kind == "transaction":
					remote_c = spec.from_qbo(remote, ctx)
					base_c = spec.from_qbo(m.base, ctx) if m.base else None
					if spec.is_voided(remote):
						m.status, m.sync_token, m.base = C.VOIDED, remote.get("SyncToken"), remote
						self.store.save_mapping(m)
						self._done(e, "already voided in QuickBooks")
					changes = transaction_changes(spec.local_type, base_c, remote_c)
					local = self.books.get_local(ctx, e.local_type, e.local_id)
					if changes and not ours(spec.local_type, local, remote_c, changes):
						self.books.hold_transaction(ctx, spec, m, local, remote, remote_c, base_c, changes, e)
						raise _Handled() from None
				token = remote.get("SyncToken")
				m.sync_token = token
				continue
			except QE.ObjectNotFoundError:
				if spec.cancel_mode == "delete":
					m.status = C.DELETED
					self.store.save_mapping(m)
					self._done(e, "already deleted in QuickBooks")
				raise
			self._after_write(ctx, e, spec, resp, None, action, status=status)
			self._done(e)


__all__ = ["TRANSIENT", "Pusher"]
