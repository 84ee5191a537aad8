"""Later allocations: money that was on account (an unapplied payment) applied to an invoice afterwards.

Why: a bookkeeper who applies a customer's unapplied payment to an invoice in QBO weeks later changes that
Payment's lines, not its amount. That is not an edit of the payment (what was received, when, from whom
stays the same), it is the cash application ERPNext does with Payment Reconciliation. Holding it as a
"changed in QuickBooks" review item left the invoice paid in QBO and open in ERPNext until someone re-keyed
it. The same happens the other way round when ERPNext reconciles an unallocated payment (the ledger updates
the Payment Entry's references, an update intent goes out, and the Payment's lines follow in QBO).

A change counts as a later allocation only when everything else is as last synced: same total, customer,
date, currency and rate, ERPNext still holds the last-synced version (no local edit pending), and each
invoice or credit memo keeps at least what was applied to it before (only unapplied money moves).
"""
from __future__ import annotations

from decimal import Decimal

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

_ALLOCATION_FIELDS = {"applications", "unapplied"}


def _applied(record: dict) -> dict[tuple[str, str], Decimal]:
	out: dict[tuple[str, str], Decimal] = {}
	for a in R.normalize(C.PAYMENT, record)["applications"]:
		key = (a["doc_type"], a["doc_key"])
		out[key] = out.get(key, Decimal(0)) + a["amount"]
	return out


def is_later_allocation(local_type: str, local: dict | None, base_c: dict | None, remote_c: dict,
		changes: list[dict]) -> bool:
	"""True when QBO's change of a synced payment only applies money that was unapplied (see module doc)."""
	if local_type != C.PAYMENT or local is None or base_c is None or not changes:
		return False
	if not {c["field"] for c in changes} <= _ALLOCATION_FIELDS:
		return False
	if R.content(C.PAYMENT, local) != R.content(C.PAYMENT, base_c):
		return False  # ERPNext changed too: a person decides
	before, after = _applied(base_c), _applied(remote_c)
	if any(after.get(k, Decimal(0)) < v for k, v in before.items()):
		return False  # an application was reduced or removed: that is an edit, not an allocation
	return R.money(R.normalize(C.PAYMENT, remote_c)["unapplied"]) < R.money(R.normalize(C.PAYMENT, base_c)["unapplied"])


def allocated_record(local: dict, remote_c: dict) -> dict:
	"""The local payment with QBO's applications (what the ledger books as its reconciliation)."""
	rec = dict(R.normalize(C.PAYMENT, local))
	remote = R.normalize(C.PAYMENT, remote_c)
	rec["applications"], rec["unapplied"] = remote["applications"], remote["unapplied"]
	return rec


__all__ = ["allocated_record", "is_later_allocation"]
