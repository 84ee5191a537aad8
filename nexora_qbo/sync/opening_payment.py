"""An unapplied QBO payment brought in at go-live as an opening credit, and its later application in QBO.

Why a module of its own: the go-live books only what was still unapplied (QBO's UnappliedAmt) as an opening
credit on the customer (ERPNext: an opening Journal Entry crediting the receivable against Temporary
Opening). The QBO payment itself keeps its pre-go-live lines, which may pay invoices ERPNext never had (fully
paid before the go-live) or whose payment is already inside an opening invoice's balance. So the ordinary
pull (which reads the whole payment and compares it with the last synced version) would either fail on
those invoices or take the go-live's own applications for a bookkeeper edit.

Instead, when the bookkeeper later applies that credit to an invoice in QBO, only what changed since the last
synced version (`Mapping.base`) is booked: each line's amount that grew is a new application of the opening
credit to that invoice (ERPNext: the same reconciliation Payment Reconciliation makes, which splits the
Journal Entry's credit row and points the new row at the invoice). Anything else (a smaller line, a new
total) is not an application of the credit and becomes a review item that names the next step.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.errors import SyncError
from nexora_qbo.sync.services import Collaborator

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

_ENTITY = {"Invoice": C.INVOICE, "CreditMemo": C.CREDIT_MEMO}


def linked_amounts(obj: dict | None) -> dict[tuple[str, str], Decimal]:
	"""(QBO entity, QBO id) -> amount the payment applies to it (invoice and credit memo lines only)."""
	out: dict[tuple[str, str], Decimal] = {}
	for line in (obj or {}).get("Line") or []:
		for linked in line.get("LinkedTxn") or []:
			if linked.get("TxnType") in _ENTITY:
				key = (linked["TxnType"], str(linked["TxnId"]))
				out[key] = R.money(out.get(key, Decimal(0)) + R.money(line.get("Amount")))
	return out


class OpeningPayments(Collaborator):
	"""Books the later QBO applications of an opening credit (the Puller hands such payments here)."""

	def __init__(self, services, books):
		super().__init__(services)
		self.books = books

	def apply(self, ctx: RealmContext, spec, m, local: dict, obj: dict) -> str:
		"""Book in ERPNext what the bookkeeper applied in QBO of a payment that came in as an opening credit."""
		before, now = linked_amounts(m.base), linked_amounts(obj)
		total_changed = R.money((m.base or {}).get("TotalAmt")) != R.money(obj.get("TotalAmt"))
		shrunk = [k for k, amount in before.items() if now.get(k, Decimal(0)) < amount]
		if total_changed or shrunk:
			return self._hold(ctx, spec, m, local, obj,
				"its amount changed" if total_changed else "an application made before the go-live was removed")
		apps = [dict(a) for a in local.get("applications") or []]
		for (entity, qid), amount in sorted(now.items()):
			grown = R.money(amount - before.get((entity, qid), Decimal(0)))
			if grown <= 0:
				continue
			target = self.store.get_mapping_by_qbo(ctx.realm_id, entity, qid)
			if target is None:
				raise SyncError(
					f"The opening credit {m.local_id} was applied in QuickBooks to {entity} {qid}, which is not in "
					f"ERPNext. Bring that document in (it is dated before the go-live date, or not synced yet), then "
					f"choose \u201c{C.ACTION_LABELS[C.ACTION_RETRY]}\u201d.")
			key = (_ENTITY[entity], target.local_id)
			row = next((a for a in apps if (a["doc_type"], a["doc_key"]) == key), None)
			if row is None:
				apps.append({"doc_type": key[0], "doc_key": key[1], "amount": grown})
			else:
				row["amount"] = R.money(R.money(row["amount"]) + grown)
		unapplied = R.money(obj.get("UnappliedAmt"))
		applied = sum((R.money(a["amount"]) for a in apps), Decimal(0))
		if R.money(local.get("total")) - applied != unapplied:
			return self._hold(ctx, spec, m, local, obj,
				f"QuickBooks leaves {unapplied} unapplied, but the opening credit of {R.money(local.get('total'))} "
				f"less what is applied here ({R.money(applied)}) leaves {R.money(R.money(local.get('total')) - applied)}")
		record = R.normalize(C.PAYMENT, {**local, "applications": apps, "unapplied": unapplied})
		changed = R.content(C.PAYMENT, record) != R.content(C.PAYMENT, local)
		with self.store.transaction():
			if changed:
				self.ledger.upsert_from_qbo(ctx.company, C.PAYMENT, m.local_id, record)
				self.books.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "updated",
					"opening credit applied in QuickBooks")
			m.sync_token, m.base = obj.get("SyncToken"), obj
			m.remote_hash = R.content_hash(C.PAYMENT, record)
			self.store.save_mapping(m)
		return "updated" if changed else "unchanged"

	def _hold(self, ctx, spec, m, local: dict, obj: dict, what: str) -> str:
		lbl = C.ACTION_LABELS
		reason = (f"The QuickBooks payment behind the opening credit {m.local_id} was changed in QuickBooks: {what}. "
			f"That is not an application of the credit, so ERPNext was not changed. Correct the opening credit by "
			f"hand in ERPNext (Payment Reconciliation, or cancel and amend its Journal Entry) so it matches "
			f"QuickBooks, then choose \u201c{lbl[C.ACTION_DISMISS]}\u201d.")
		with self.store.transaction():
			m.sync_token = obj.get("SyncToken")  # seen; the last agreed base stays the ancestor
			self.store.save_mapping(m)
			self.books.open_conflict(ctx, spec, m.local_id, m.qbo_id, "transaction_edited", reason, local, None, None,
				[C.ACTION_DISMISS], diffs=[])
		return "held"


def is_opening_payment(spec, local: dict | None) -> bool:
	return spec.local_type == C.PAYMENT and bool((local or {}).get("opening"))


__all__ = ["OpeningPayments", "is_opening_payment", "linked_amounts"]
