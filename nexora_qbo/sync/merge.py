"""Three-way merge (base = QBO record as last synced, local = ledger now, remote = QBO now).

Master data merges field by field: a field changed on one side takes that side's value; a field changed on
both sides to different values is a conflict, settled by the realm policy (QBO wins and the conflict is
recorded as auto-resolved, or the field is held for review). Transactions are never merged: any change of
their compared content in QBO is a bookkeeper edit to review, while bookkeeping-only changes (Balance,
LinkedTxn, SyncToken bumped by a payment) are not content and pass silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R


@dataclass
class MergeResult:
	merged: dict  # the content both sides should end up with (before policy "review" holds)
	local_only: list[str] = field(default_factory=list)  # fields to send to QBO
	remote_only: list[str] = field(default_factory=list)  # fields to apply locally
	both: list[dict] = field(default_factory=list)  # [{field, base, local, qbo}] changed on both sides, differently

	@property
	def conflicted(self) -> bool:
		return bool(self.both)


def _empty(v: Any) -> bool:
	return v is None or v == "" or v == [] or v == {}


def merge_master(local_type: str, base: dict | None, local: dict, remote: dict) -> MergeResult:
	"""Field-level three-way merge of two canonical master records over CONTENT_FIELDS.

	With no base (two records linked by a stable key on first contact), a field empty on one side takes the
	other side's value and a field set differently on both sides is a both-sided conflict.
	"""
	fields = R.CONTENT_FIELDS[local_type]
	b = R.content(local_type, base) if base is not None else None
	lc = R.content(local_type, local)
	rc = R.content(local_type, remote)
	result = MergeResult(merged=dict(rc))
	for f in fields:
		lv, rv = lc.get(f), rc.get(f)
		if lv == rv:
			continue
		if b is not None:
			bv = b.get(f)
			local_changed, remote_changed = lv != bv, rv != bv
		else:
			bv = None
			local_changed, remote_changed = not _empty(lv), not _empty(rv)
		if local_changed and not remote_changed:
			result.merged[f] = lv
			result.local_only.append(f)
		elif remote_changed and not local_changed:
			result.merged[f] = rv
			result.remote_only.append(f)
		else:
			result.merged[f] = rv  # QBO's value, unless the realm holds the conflict for review
			result.both.append({"field": f, "base": bv, "local": lv, "qbo": rv})
	return result


def transaction_changes(local_type: str, base: dict | None, remote: dict) -> list[dict]:
	"""Compared fields of a transaction that differ between the last-synced QBO version and QBO now.

	Empty means QBO only touched bookkeeping (a payment applied, SyncToken bumped): not a bookkeeper edit.
	"""
	if base is None:
		return []
	b = R.content(local_type, base)
	rc = R.content(local_type, remote)
	return [{"field": f, "base": b.get(f), "qbo": rc.get(f)} for f in R.CONTENT_FIELDS[local_type] if b.get(f) != rc.get(f)]


def ours(local_type: str, local: dict | None, remote: dict, changes: list[dict]) -> bool:
	"""QBO's changes since the base are exactly ERPNext's content: our own write whose answer was lost (QBO
	applied it, we never heard), not a bookkeeper edit. Only a difference that is not ours is her edit."""
	if local is None or not changes:
		return False
	lc = R.content(local_type, local)
	rc = R.content(local_type, remote)
	return all(lc.get(c["field"]) == rc.get(c["field"]) for c in changes)


def link_differences(local_type: str, local: dict, remote: dict) -> list[dict]:
	"""First contact of a local transaction with a QBO record found by its stable key: the fields the local
	document sets that QBO holds differently. Fields left empty locally are QBO's to fill (a due date from
	the default terms, a default class…) and are not a difference."""
	lc = R.content(local_type, local)
	rc = R.content(local_type, remote)
	return [{"field": f, "local": lc.get(f), "qbo": rc.get(f)} for f in R.CONTENT_FIELDS[local_type]
		if f not in R.LOCAL_ONLY_FIELDS and not _empty(lc.get(f)) and lc.get(f) != rc.get(f)]


def diffs(local_type: str, base: dict | None, local: dict | None, remote: dict | None) -> list[dict]:
	"""All compared fields where any two versions differ (for showing a review item side by side)."""
	b = R.content(local_type, base) or {}
	lc = R.content(local_type, local) or {}
	rc = R.content(local_type, remote) or {}
	out = []
	for f in R.CONTENT_FIELDS[local_type]:
		vals = (b.get(f), lc.get(f), rc.get(f))
		if not (vals[0] == vals[1] == vals[2]):
			out.append({"field": f, "base": vals[0], "local": vals[1], "qbo": vals[2]})
	return out


LABELS = {
	C.CUSTOMER: "customer",
	C.ITEM: "item",
	C.INVOICE: "invoice",
	C.CREDIT_MEMO: "credit note",
	C.PAYMENT: "payment",
	C.DEPOSIT: "deposit",
	C.REFUND: "refund",
	C.REFUND_RECEIPT: "refund receipt",
}
