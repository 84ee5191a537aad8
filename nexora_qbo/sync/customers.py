"""A customer made inactive in QBO while ERPNext still shows it money owed (or owing).

Why: QBO lets a bookkeeper make a customer inactive whatever its balance; copied silently, ERPNext would
disable a customer that still has open invoices or unallocated credit, and nobody would follow up the
receivable (a disabled customer drops out of dunning and new payments cannot be booked against it). So the
deactivation is held, the customer stays active here, and one review item says what is open and what to do.
"""
from __future__ import annotations

from decimal import Decimal

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

KIND = "inactive_with_open_ar"


def open_ar(ledger, company: str, customer: str) -> Decimal:
	"""The customer's open receivable in ERPNext (invoices less credit), in document currency."""
	return R.money(sum((R.money(r["outstanding"]) for r in ledger.open_balances(company, None)
		if r.get("customer") == customer), Decimal(0)))


def hold_deactivation(books, ctx, spec, m, local: dict, remote_c: dict, base_c: dict | None) -> dict:
	"""When QBO made a customer with open AR inactive, return remote_c with the customer still active (so the
	merge keeps it active here) and open one review item; otherwise return remote_c unchanged."""
	if spec.local_type != C.CUSTOMER or remote_c.get("active", True) or not local.get("active", True):
		return remote_c
	held = dict(remote_c)
	held["active"] = True
	if any(c.kind == KIND for c in books.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=C.CUSTOMER,
			local_id=m.local_id)):
		return held  # already in review: keep holding, one item per cause
	balance = open_ar(books.ledger, ctx.company, m.local_id)
	if balance == 0:
		return remote_c
	lbl = C.ACTION_LABELS
	reason = (f"The customer {m.local_id} was made inactive in QuickBooks, but ERPNext still shows {balance} open "
		f"for this customer (open invoices, or unallocated credit when negative). The customer was kept active "
		f"here so the receivable can still be collected. Settle or write off the open amount (in either book), "
		f"then make the customer inactive in ERPNext too and choose \u201c{lbl[C.ACTION_DISMISS]}\u201d; or reactivate it "
		f"in QuickBooks and choose \u201c{lbl[C.ACTION_DISMISS]}\u201d.")
	books.open_conflict(ctx, spec, m.local_id, m.qbo_id, KIND, reason, local, remote_c, base_c, [C.ACTION_DISMISS],
		diffs=[{"field": "active", "base": True, "local": True, "qbo": False}])
	return held


def held_fields(open_items) -> set[str]:
	"""Fields ERPNext must not send while a held deactivation is in review (issue 13): the customer stays active
	here only so its receivable can be collected; sending that "active" back would undo the bookkeeper's
	choice in QBO before a person decided. Other edits (address, email, terms) still go."""
	return {"active"} if any(c.kind == KIND for c in open_items) else set()


def keep_qbo_values(local: dict, base_c: dict | None, fields: set[str]) -> dict:
	"""The local record with QBO's last-synced values for `fields` (what an update must leave alone)."""
	if not base_c:
		return local
	out = dict(local)
	out.update({f: base_c[f] for f in fields if f in base_c})
	return out


__all__ = ["KIND", "held_fields", "hold_deactivation", "keep_qbo_values", "open_ar"]
