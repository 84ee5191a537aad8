"""A parent customer's payment that QBO applied to its jobs' invoices (sub-customers, `BillWithParent`).

Why: QBO's Receive Payment for a parent lists the open invoices of its jobs, and a client that is billed per
job site pays them with one cheque from the parent. ERPNext ties a Payment Entry to one party, and every
invoice it references must belong to that party, so the same payment cannot be one Payment Entry there.
The ledgers book it per customer instead (the Frappe ledger: one Journal Entry, a receivable row per job
against each invoice, see erpnext/mappers/parent_payment.py); this module holds the rule both ledgers apply:
which customers a payer may pay for, and the plain-language refusal when QBO's payment names anyone else.
"""
from __future__ import annotations

from collections.abc import Callable

from nexora_qbo.sync import constants as C


def pays_for(parent_of: Callable[[str], str | None], payer: str, owner: str | None) -> bool:
	"""A customer pays its own documents and those of its jobs at any depth (as QBO allows)."""
	seen: set[str] = set()
	while owner and owner not in seen:
		if owner == payer:
			return True
		seen.add(owner)
		owner = parent_of(owner)
	return False


def by_customer(applications: list[dict], owner_of: Callable[[dict], str | None]) -> dict[str | None, list[dict]]:
	"""The applications grouped by the customer of the document each one pays (payer first, then jobs)."""
	out: dict[str | None, list[dict]] = {}
	for app in applications:
		out.setdefault(owner_of(app), []).append(app)
	return out


def for_jobs(rec: dict, owner_of: Callable[[dict], str | None]) -> bool:
	"""True when the payment pays at least one document of another customer (a job of the payer)."""
	return any(owner is not None and owner != rec.get("customer") for owner in by_customer(rec["applications"], owner_of))


def refusal(rec: dict, owner_of: Callable[[dict], str | None], parent_of: Callable[[str], str | None]) -> str | None:
	"""Why the payment cannot be booked as QBO applied it (a document of a customer that is neither the payer
	nor one of its jobs in ERPNext), with the next step; None when every application is the payer's or a job's."""
	payer = rec.get("customer")
	for owner, apps in by_customer(rec["applications"], owner_of).items():
		if owner is None or pays_for(parent_of, payer, owner):
			continue
		docs = ", ".join(a["doc_key"] for a in apps)
		return (f"The QuickBooks payment of {rec.get('total')} from {payer} on {rec.get('txn_date')} pays {docs}, "
			f"which belongs to {owner}, who is not one of {payer}'s jobs in ERPNext. Set {payer} as the parent "
			f"customer of {owner} in ERPNext (or correct the payment in QuickBooks), then choose "
			f"\u201c{C.ACTION_LABELS[C.ACTION_RETRY]}\u201d.")
	return None


__all__ = ["by_customer", "for_jobs", "pays_for", "refusal"]
