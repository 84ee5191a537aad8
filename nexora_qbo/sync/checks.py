"""The post-action check (invariant 10): after a review action (or an amendment sent in place), compare one
transaction on both books and keep ONE "books_differ" item that says what still differs and which button
comes next, or resolve it when the books agree (see sync/review.py for why).
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from nexora_qbo.qbo import errors as QE
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.entities import EntitySpec
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.ports import Conflict
from nexora_qbo.sync.services import Collaborator, EngineServices

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

L = C.ACTION_LABELS


def q(action: str) -> str:
	"""A button label, quoted the way the review text names it."""
	return f"\u201c{L[action]}\u201d"


def _lines(local_type: str, record: dict) -> list[tuple]:
	n = R.normalize(local_type, record)
	return sorted((ln.get("item") or "", R.decimal(ln.get("qty")), ln["amount"]) for ln in n.get("lines") or [])


def _apps(record: dict) -> list[tuple]:
	n = R.normalize(C.PAYMENT, record)
	return sorted((a["doc_type"], a["doc_key"], a["amount"]) for a in n.get("applications") or [])


class BooksCheck(Collaborator):
	"""Compares one document on both books after an action."""

	def __init__(self, services: EngineServices, books: Books):
		super().__init__(services)
		self.books = books

	def check_books(self, ctx: RealmContext, spec: EntitySpec, local_id: str) -> tuple[str, list[str]]:
		"""Compare one transaction on both sides. Returns (situation, differences in plain words): situation is
		"agree", "cancelled_here" (cancelled in ERPNext, live in QuickBooks), "voided_there" (voided or deleted
		in QuickBooks, live here), "content" (lines/total/allocations differ) or "balance" (only the open
		balance differs)."""
		m = self.store.get_mapping(ctx.realm_id, spec.local_type, local_id)
		local = self.books.get_local(ctx, spec.local_type, local_id)
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

	def after_action(self, ctx: RealmContext, spec: EntitySpec | None, local_id: str | None, by: str,
			closed: Conflict | None = None) -> Conflict | None:
		"""The post-action check. Returns the open books_differ item, or None when the books agree (or the
		document is still on its way through the outbox, or another open item already says what differs)."""
		if spec is None or spec.kind != "transaction" or not local_id:
			return None
		if self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=spec.local_type, local_id=local_id):
			return None  # still being sent: it lands, or it is parked with its own review item
		open_items = self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=spec.local_type, local_id=local_id)
		situation, differences = self.check_books(ctx, spec, local_id)
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
		local = self.books.get_local(ctx, spec.local_type, local_id)
		if closed is not None and closed.kind == "books_differ" and not mine:
			# Dismiss/Retry on the difference itself while it persists: the same item stays open
			closed.status, closed.resolution, closed.resolved_by, closed.resolved_at = C.OPEN, None, None, None
			closed.reason, closed.actions, closed.local_version = reason, actions, R.plain(local)
			self.store.save_conflict(closed)
			return closed
		return self.books.open_conflict(ctx, spec, local_id, m.qbo_id if m else None, "books_differ", reason, local, None,
			None, actions, diffs=[])

	@staticmethod
	def _differ_text(spec: EntitySpec, local_id: str, situation: str, differences: list[str], by: str) -> tuple[str, list[str]]:
		what = LABELS[spec.local_type]
		said = "; ".join(differences)
		head = f"The books still differ for the {what} {local_id} after {by}: {said}."
		if situation == "cancelled_here":
			return ((f"{head} Choose {q(C.ACTION_VOID_IN_QBO)} to void it in QuickBooks as well, "
				f"{q(C.ACTION_KEEP_QBO)} to bring QuickBooks' version back into ERPNext as a new document, or "
				f"{q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
				[C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_QBO, C.ACTION_ACCEPT_DIFFERENCE])
		if situation == "voided_there":
			return ((f"{head} Choose {q(C.ACTION_ACCEPT_QBO)} to cancel it in ERPNext too, or "
				f"{q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
				[C.ACTION_ACCEPT_QBO, C.ACTION_ACCEPT_DIFFERENCE])
		if situation == "content":
			return ((f"{head} Cancel and amend it in ERPNext to match QuickBooks (the amendment updates the same "
				f"QuickBooks {what}), choose {q(C.ACTION_KEEP_LOCAL)} to send the ERPNext version to QuickBooks, or "
				f"{q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
				[C.ACTION_KEEP_LOCAL, C.ACTION_RETRY, C.ACTION_ACCEPT_DIFFERENCE])
		return ((f"{head} Check the payments and credit notes of this {what} on both sides and record the missing one "
			f"where it is missing, then choose {q(C.ACTION_RETRY)} to compare again, or "
			f"{q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly."),
			[C.ACTION_RETRY, C.ACTION_ACCEPT_DIFFERENCE])


__all__ = ["BooksCheck", "q"]
