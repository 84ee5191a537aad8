"""Review actions that cannot damage either book (invariant 10), mixed into SyncEngine.

Why a module of its own: every action a person takes on a review item (Retry, Keep QuickBooks, Keep
ERPNext, Accept QuickBooks' change, Dismiss, Void in QuickBooks too, Accept the difference) must end with
both books agreeing for that document, or with an open review item that says what still differs. The
pieces that make that true live here:

- `_check_books` / `_after_action`: the post-action check. It compares the document on both sides (cancelled
  here vs live in QuickBooks, total, lines, ERPNext outstanding vs QuickBooks Balance, a payment's
  allocations) and keeps or opens ONE "books_differ" item whose reason says in plain words what differs and
  which button comes next. A document with work still waiting in the outbox is not judged yet: the outbox
  entry carries it (it lands, or it is parked with its own item). Master data is not checked here: its
  field merge already ends in agreement or in a field_conflict item.
- `_restore_from_qbo`: "Keep QuickBooks" on a document cancelled here while QuickBooks kept it live: ERPNext
  gets it back as a new document made from QuickBooks' version (the cancelled one stays cancelled), and the
  mapping moves to it.
- `_requeue_void`: "Keep ERPNext" / "Void in QuickBooks too" on a cancelled document: the parked cancel is
  sent again with a fresh SyncToken (never an update that would overwrite the bookkeeper's edit).
- `_ask_before_voiding`: an ERPNext cancel of a transaction that originated in QuickBooks never voids it
  there as a side effect; a person is asked (unless the realm policy says to follow).
- `_amend_in_place`: an ERPNext amendment of a document whose QuickBooks record has a pending bookkeeper
  edit (or whose cancel is parked under one) updates that same QuickBooks record with a fresh SyncToken,
  instead of leaving two live invoices for one sale.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from nexora_qbo.qbo import errors as QE
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities import EntitySpec
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.ports import Conflict, Mapping, OutboxEntry

if TYPE_CHECKING:
	from nexora_qbo.sync.engine import RealmContext

L = C.ACTION_LABELS
# review items that stand for a difference a person still has to settle on a transaction
PENDING_EDIT_KINDS = ("transaction_edited", "amend_local", "books_differ", "qbo_born_cancel", "remote_void")


def _q(action: str) -> str:
	"""A button label, quoted the way the review text names it."""
	return f"\u201c{L[action]}\u201d"


def _lines(local_type: str, record: dict) -> list[tuple]:
	n = R.normalize(local_type, record)
	return sorted((ln.get("item") or "", R.decimal(ln.get("qty")), ln["amount"]) for ln in n.get("lines") or [])


def _apps(record: dict) -> list[tuple]:
	n = R.normalize(C.PAYMENT, record)
	return sorted((a["doc_type"], a["doc_key"], a["amount"]) for a in n.get("applications") or [])


class ReviewMixin:
	# ------------------------------------------------------------------------------- post-action check
	def _check_books(self, ctx: RealmContext, spec: EntitySpec, local_id: str) -> tuple[str, list[str]]:
		"""Compare one transaction on both sides. Returns (situation, differences in plain words): situation is
		"agree", "cancelled_here" (cancelled in ERPNext, live in QuickBooks), "voided_there" (voided or deleted
		in QuickBooks, live here), "content" (lines/total/allocations differ) or "balance" (only the open
		balance differs)."""
		m = self.store.get_mapping(ctx.realm_id, spec.local_type, local_id)
		local = self._get_local(ctx, spec.local_type, local_id)
		if m is None or local is None:
			return "agree", []
		what = LABELS[spec.local_type]
		try:
			remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
		except QE.ObjectNotFoundError:
			remote = None
		gone = remote is None or spec.is_voided(remote) or spec.is_deleted_stub(remote)
		here_cancelled = local.get("state") == "cancelled"
		if here_cancelled and gone:
			return "agree", []
		if here_cancelled:
			total = R.money(remote.get("TotalAmt"))
			return "cancelled_here", [(f"the {what} {local_id} is cancelled in ERPNext but still live in QuickBooks "
				f"(total {total})")]
		if gone:
			verb = "deleted" if remote is None or spec.is_deleted_stub(remote) else "voided"
			return "voided_there", [(f"the {what} {local_id} is {verb} in QuickBooks but still submitted in ERPNext "
				f"(total {local.get('total')})")]
		remote_c = spec.from_qbo(remote, ctx)
		out: list[str] = []
		if R.money(local.get("total")) != R.money(remote_c.get("total")):
			out.append(f"total {R.money(local.get('total'))} in ERPNext, {R.money(remote_c.get('total'))} in QuickBooks")
		if spec.local_type in (C.INVOICE, C.CREDIT_MEMO) and _lines(spec.local_type, local) != _lines(spec.local_type, remote_c):
			out.append("the lines differ (item, hours or amount)")
		if spec.local_type == C.PAYMENT and _apps(local) != _apps(remote_c):
			out.append("the invoices it pays, or the amounts allocated to them, differ")
		if out:
			return "content", out
		keys = {local_id, local.get("amended_from")} - {None}
		if spec.local_type in (C.INVOICE, C.CREDIT_MEMO) and not self._related_pending(ctx, keys):
			ours = R.money(local.get("outstanding") or 0)
			theirs = R.money(remote.get("RemainingCredit", remote.get("Balance")) or 0)
			if spec.local_type == C.CREDIT_MEMO and local.get("against_invoice"):
				ours = Decimal("0.00")  # booked against its invoice here; applied by a zero payment there
			if ours != theirs:
				return "balance", [f"ERPNext shows {ours} outstanding, QuickBooks an open balance of {theirs}"]
		return "agree", []

	def _related_pending(self, ctx: RealmContext, keys: set[str]) -> bool:
		"""A payment or credit note touching this document (or the original it amends) is still waiting
		(outbox) or in review: that explains a balance difference, so this document gets no second item for
		the same cause."""
		docs = {(e.local_type, e.local_id) for e in self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES + (C.PARKED,))
			if e.local_type in (C.PAYMENT, C.CREDIT_MEMO)}
		docs |= {(c.local_type, c.local_id) for c in self.store.list_conflicts(ctx.realm_id, status=C.OPEN)
			if c.local_type in (C.PAYMENT, C.CREDIT_MEMO) and c.local_id}
		for t, lid in docs:
			rec = self.ledger.get(ctx.company, t, lid) or {}
			if t == C.PAYMENT and any(a["doc_key"] in keys for a in rec.get("applications") or []):
				return True
			if t == C.CREDIT_MEMO and (rec.get("against_invoice") in keys or lid in keys):
				return True
		return False

	def _after_action(self, ctx: RealmContext, spec: EntitySpec | None, local_id: str | None, by: str,
			closed: Conflict | None = None) -> Conflict | None:
		"""The post-action check. Returns the open books_differ item, or None when the books agree (or the
		document is still on its way through the outbox, or another open item already says what differs)."""
		if spec is None or spec.kind != "transaction" or not local_id:
			return None
		if self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=spec.local_type, local_id=local_id):
			return None  # still being sent: it lands, or it is parked with its own review item
		open_items = self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=spec.local_type, local_id=local_id)
		situation, differences = self._check_books(ctx, spec, local_id)
		now = self.clock.now()
		mine = [c for c in open_items if c.kind == "books_differ"]
		if situation == "agree":
			for c in mine:
				c.status, c.resolution, c.resolved_by, c.resolved_at = C.RESOLVED, C.RESOLUTION_AGREED, "sync", now
				self.store.save_conflict(c)
			return None
		if [c for c in open_items if c.kind != "books_differ"]:
			return None  # one item per cause: that item already says what differs
		reason, actions = self._differ_text(spec, local_id, situation, differences, by)
		m = self.store.get_mapping(ctx.realm_id, spec.local_type, local_id)
		local = self._get_local(ctx, spec.local_type, local_id)
		if closed is not None and closed.kind == "books_differ" and not mine:
			# Dismiss/Retry on the difference itself while it persists: the same item stays open
			closed.status, closed.resolution, closed.resolved_by, closed.resolved_at = C.OPEN, None, None, None
			closed.reason, closed.actions, closed.local_version = reason, actions, R.plain(local)
			self.store.save_conflict(closed)
			return closed
		return self._open_conflict(ctx, spec, local_id, m.qbo_id if m else None, "books_differ", reason, local, None,
			None, actions, diffs=[])

	@staticmethod
	def _differ_text(spec: EntitySpec, local_id: str, situation: str, differences: list[str], by: str) -> tuple[str, list[str]]:
		what = LABELS[spec.local_type]
		said = "; ".join(differences)
		head = f"The books still differ for the {what} {local_id} after {by}: {said}."
		if situation == "cancelled_here":
			return ((f"{head} Choose {_q(C.ACTION_VOID_IN_QBO)} to void it in QuickBooks as well, "
				f"{_q(C.ACTION_KEEP_QBO)} to bring QuickBooks' version back into ERPNext as a new document, or "
				f"{_q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
				[C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_QBO, C.ACTION_ACCEPT_DIFFERENCE])
		if situation == "voided_there":
			return ((f"{head} Choose {_q(C.ACTION_ACCEPT_QBO)} to cancel it in ERPNext too, or "
				f"{_q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
				[C.ACTION_ACCEPT_QBO, C.ACTION_ACCEPT_DIFFERENCE])
		if situation == "content":
			return ((f"{head} Cancel and amend it in ERPNext to match QuickBooks (the amendment updates the same "
				f"QuickBooks {what}), choose {_q(C.ACTION_KEEP_LOCAL)} to send the ERPNext version to QuickBooks, or "
				f"{_q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
				[C.ACTION_KEEP_LOCAL, C.ACTION_RETRY, C.ACTION_ACCEPT_DIFFERENCE])
		return ((f"{head} Check the payments and credit notes of this {what} on both sides and record the missing one "
			f"where it is missing, then choose {_q(C.ACTION_RETRY)} to compare again, or "
			f"{_q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
			[C.ACTION_RETRY, C.ACTION_ACCEPT_DIFFERENCE])

	# ------------------------------------------------------------------- cancelled here, live there
	def _restore_from_qbo(self, ctx: RealmContext, spec: EntitySpec, m: Mapping, remote: dict) -> str:
		"""Keep QuickBooks on a document cancelled in ERPNext: ERPNext needs QuickBooks' live version back. A
		cancelled document cannot be un-cancelled, so a new one is made from QuickBooks' version and the
		mapping moves to it; the cancelled one stays cancelled (the ERPNext trail of what happened)."""
		remote_c = spec.from_qbo(remote, ctx)
		old_id = m.local_id
		with self.store.transaction():
			new_id = self.ledger.upsert_from_qbo(ctx.company, spec.local_type, None, remote_c)
			self.store.delete_mapping(ctx.realm_id, spec.local_type, old_id)
			self.store.save_mapping(Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id=new_id,
				qbo_entity=spec.qbo_entity, qbo_id=m.qbo_id, sync_token=remote.get("SyncToken"), base=remote,
				remote_hash=R.content_hash(spec.local_type, remote_c), status=C.ACTIVE, updated_at=self.clock.now(),
				origin=m.origin))
			self._event(ctx, C.INBOUND, spec, new_id, m.qbo_id, "imported",
				f"QuickBooks' version kept: {old_id} stays cancelled, {new_id} replaces it")
		return new_id

	def _requeue_void(self, ctx: RealmContext, spec: EntitySpec, m: Mapping, parked: list[OutboxEntry]) -> list[OutboxEntry]:
		"""Send the cancel of a cancelled document again, with a fresh SyncToken (re-read now), and never an
		update: the person chose to void it in QuickBooks, not to rewrite it there first."""
		remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
		m.sync_token, m.base = remote.get("SyncToken"), remote
		m.remote_hash = R.content_hash(spec.local_type, spec.from_qbo(remote, ctx))
		self.store.save_mapping(m)
		cancels = [e for e in parked if e.action not in ("create", "update")]
		for e in parked:
			if e not in cancels:
				e.state, e.last_error = C.DONE, "superseded: the document is cancelled; its cancel is sent instead"
				self.store.save_outbox(e)
		now = self.clock.now()
		if not cancels:
			from nexora_qbo.sync.outbox import record_change

			cancels = [record_change(self.store, ctx.realm_id, spec.local_type, m.local_id, "cancel", now)]
		for e in cancels:
			e.generation = self.store.max_generation(ctx.realm_id, e.local_type, e.local_id) + 1
			e.state, e.next_attempt_at, e.last_error, e.conflict_id, e.attempts = C.PENDING, now, None, None, 0
			self.store.save_outbox(e)
		ctx.chosen_voids.add((spec.local_type, m.local_id))
		return cancels

	def _push_now(self, ctx: RealmContext, entries: list[OutboxEntry]) -> None:
		"""Send the entries a review action queued right away (the caller holds the realm lock), so the
		post-action check sees the result; a transient failure leaves them to the next push."""
		for e in entries:
			fresh = self.store.get_outbox(e.id) if e.id else None
			if fresh is not None and fresh.state in C.OPEN_STATES:
				self._push_entry(ctx, fresh)
				self.checkpoint()

	# ------------------------------------------------------------------------ QBO-born documents
	def _void_chosen(self, ctx: RealmContext, e: OutboxEntry) -> bool:
		"""A person already chose to void this document in QuickBooks (Void in QuickBooks too / Keep ERPNext on
		it after this cancel): the cancel goes through, also when it is retried in a later push."""
		if (e.local_type, e.local_id) in ctx.chosen_voids:
			return True
		return any(c.status == C.RESOLVED and c.resolution in (C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_LOCAL)
			and (e.created_at is None or c.resolved_at is None or c.resolved_at >= e.created_at)
			for c in self.store.list_conflicts(ctx.realm_id, local_type=e.local_type, local_id=e.local_id))

	def _ask_before_voiding(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, m: Mapping) -> Conflict:
		"""An ERPNext cancel of a transaction that was recorded in QuickBooks (imported from there) is not a
		reason to void the bookkeeper's document: a person decides (invariant 10)."""
		what = LABELS[spec.local_type]
		reason = (f"The {what} {e.local_id} was recorded in QuickBooks and cancelled in ERPNext; it is still live in "
			f"QuickBooks, and nothing was voided there. Choose {_q(C.ACTION_VOID_IN_QBO)} to void it in QuickBooks as "
			f"well, {_q(C.ACTION_KEEP_QBO)} to bring it back into ERPNext as it is in QuickBooks (for instance after "
			f"amending the invoice it pays), or {_q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly.")
		actions = [C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_QBO, C.ACTION_ACCEPT_DIFFERENCE]
		local = self._get_local(ctx, e.local_type, e.local_id)
		base_c = spec.from_qbo(m.base, ctx) if m.base else None
		c = self._open_conflict(ctx, spec, e.local_id, m.qbo_id, "qbo_born_cancel", reason, local, base_c, None,
			actions, diffs=[])
		return self._park(ctx, e, c.kind, reason, actions, conflict=c)

	# ------------------------------------------------------------------------------- amendments
	def _amend_in_place(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, local: dict) -> bool:
		"""The create of an ERPNext amendment: when the original's QuickBooks record has an open review item
		(a bookkeeper edit) or its cancel is parked under one, move the mapping to the amendment (fresh
		SyncToken), close the original's cancel and review items as superseded, and let the caller send the
		amendment as an UPDATE of that record. Returns False when a new QuickBooks document is right (no
		pending edit: the original's cancel voids it and the amendment is created, as ERPNext's trail says)."""
		original = local.get("amended_from")
		om = self.store.get_mapping(ctx.realm_id, spec.local_type, original) if original else None
		if om is None or om.status != C.ACTIVE:
			return False
		items = [c for c in self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=spec.local_type,
			local_id=original) if c.kind in PENDING_EDIT_KINDS]
		entries = self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES + (C.PARKED,), local_type=spec.local_type,
			local_id=original)
		parked = [x for x in entries if x.state == C.PARKED and x.conflict_id]
		if not items and not parked:
			return False
		remote = ctx.client.read(spec.qbo_entity, om.qbo_id)
		if spec.is_voided(remote):
			return False
		remote_c = spec.from_qbo(remote, ctx)
		now = self.clock.now()
		note = f"superseded by amendment {e.local_id}"
		with self.store.transaction():
			self.store.delete_mapping(ctx.realm_id, spec.local_type, original)
			self.store.save_mapping(Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id=e.local_id,
				qbo_entity=spec.qbo_entity, qbo_id=om.qbo_id, sync_token=remote.get("SyncToken"), base=remote,
				remote_hash=R.content_hash(spec.local_type, remote_c), status=C.ACTIVE, updated_at=now,
				origin=om.origin))
			for x in entries:
				x.state, x.last_error, x.updated_at = C.DONE, note, now
				self.store.save_outbox(x)
			for c in items + [self.store.get_conflict(x.conflict_id) for x in parked]:
				if c is not None and c.status == C.OPEN:
					c.status, c.resolution, c.resolved_by, c.resolved_at = C.RESOLVED, C.RESOLUTION_AMENDED, "sync", now
					c.reason = (c.reason or "") + f" Resolved by the amendment {e.local_id}, which updated the same " \
						f"QuickBooks {LABELS[spec.local_type]}."
					self.store.save_conflict(c)
			self._event(ctx, C.OUTBOUND, spec, e.local_id, om.qbo_id, "linked",
				f"amendment of {original}: updates the same QuickBooks record")
		return True


__all__ = ["PENDING_EDIT_KINDS", "ReviewMixin"]
