"""A customer merge in QBO (the bookkeeper merged a duplicate into the customer that stays).

Why: QBO moves every transaction of the merged customer to the surviving one and deletes the merged one
(webhook "Merge" with `deletedId`; CDC: the merged customer's deleted stub plus each moved transaction as an
update). Treated as a delete plus edits, it opened one "deleted in QuickBooks" item for the customer and one
"changed in QuickBooks" item per invoice, and the AR of the survivor differed per customer until each was
re-keyed. Followed instead:
- the survivor is known to ERPNext (mapped): ERPNext merges the customers the same way (Frappe's
  rename-with-merge of the Customer, which re-points every invoice, credit note and payment); the merged
  customer's mapping goes away with it;
- the survivor is not known here yet: the merged customer's mapping is re-pointed to the survivor (same
  ERPNext customer, now linked to the QBO customer that stays), and the survivor's fields come in as a QBO edit.
Either way the moved transactions' last-synced snapshots follow the new reference, so their CDC updates are
bookkeeping only (no review item). Names neither the webhook nor CDC give are read from QBO: without the
webhook, the survivor is the customer one of the merged customer's transactions now names.

Without a webhook and without a transaction to follow (a duplicate that never had one, or a merge found
only by CDC or by the Id sweep): the merged customer is a deleted stub or no longer found. QBO never deletes
a customer (qbo-api.md §1: name lists are only made inactive), so such a customer WAS merged; the survivor is
the one active QBO customer that the merged one's last-synced record identifies (find_by_identity: the same
e-mail address, or the same name once QBO's " (deleted)" suffix and case are set aside). None or more than
one: not followed (a review item asks, as for any deletion); a person is never second-guessed.
An inactive customer renamed "… (deleted)" is followed only on its moved transactions' word: QBO shows a
plain deactivation the same way, and a merge here cannot be undone (architecture invariant 10).
"""
from __future__ import annotations

from nexora_qbo.qbo import errors as QE
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities import BY_QBO

TRANSACTION_TYPES = (C.INVOICE, C.CREDIT_MEMO, C.PAYMENT)


def _customer_of(obj: dict | None) -> str | None:
	ref = (obj or {}).get("CustomerRef") or {}
	return str(ref.get("value")) if ref.get("value") is not None else None


def moved_transactions(store, realm_id: str, from_qid: str) -> list:
	"""Mapped transactions whose last-synced QBO snapshot names the merged customer."""
	return [m for t in TRANSACTION_TYPES for m in store.list_mappings(realm_id, t)
		if m.status == C.ACTIVE and _customer_of(m.base) == str(from_qid)]


def find_survivor(ctx, store, from_qid: str) -> str | None:
	"""The QBO customer that one of the merged customer's transactions names now (one read), or None."""
	for m in moved_transactions(store, ctx.realm_id, from_qid):
		try:
			now = ctx.client.read(m.qbo_entity, m.qbo_id)
		except QE.ObjectNotFoundError:
			continue
		survivor = _customer_of(now)
		if survivor and survivor != str(from_qid):
			return survivor
		return None
	return None


def _email(obj: dict | None) -> str | None:
	addr = ((obj or {}).get("PrimaryEmailAddr") or {}).get("Address")
	return str(addr).strip().casefold() or None if addr else None


def find_by_identity(ctx, snapshot: dict | None, from_qid: str) -> str | None:
	"""The one active QBO customer (other than the merged one) with the merged customer's e-mail address or
	name (" (deleted)" and case aside), from its last-synced record; None when none or several match."""
	email, name = _email(snapshot), R.normalize_name((snapshot or {}).get("DisplayName"))
	if not email and not name:
		return None
	hits = set()
	for obj in ctx.client.query_all("Customer", include_inactive=False):
		qid = str(obj.get("Id"))
		if qid == str(from_qid) or obj.get("Active") is False:
			continue
		if (email and _email(obj) == email) or (name and R.normalize_name(obj.get("DisplayName")) == name):
			hits.add(qid)
	return hits.pop() if len(hits) == 1 else None


def follow_merge(puller, ctx, from_qid: str, into_qid: str | None, *, gone: bool = False) -> str | None:
	"""Follow QBO's merge of customer `from_qid` into `into_qid` (found when None). Returns the outcome word,
	or None when this is not a merge the app can follow (then the caller treats it as a deletion). `gone`: the
	customer is a deleted stub or not found (only a merge does that), so its identity may name the survivor."""
	store, ledger, books = puller.store, puller.ledger, puller.books
	source = store.get_mapping_by_qbo(ctx.realm_id, "Customer", str(from_qid))
	if source is None or source.local_type != C.CUSTOMER or source.status == C.DELETED:
		return None
	into_qid = str(into_qid) if into_qid else find_survivor(ctx, store, from_qid)
	if not into_qid and gone:
		into_qid = find_by_identity(ctx, source.base, from_qid)
	if not into_qid or into_qid == str(from_qid):
		return None
	target = store.get_mapping_by_qbo(ctx.realm_id, "Customer", into_qid)
	if target is not None and target.local_id != source.local_id and not hasattr(ledger, "merge_customer"):
		return None
	moved = moved_transactions(store, ctx.realm_id, from_qid)
	spec = BY_QBO["Customer"]
	with store.transaction():
		for m in moved:  # the last-synced snapshot follows QBO's new reference (what QBO itself did)
			m.base = {**m.base, "CustomerRef": {**(m.base.get("CustomerRef") or {}), "value": into_qid}}
			store.save_mapping(m)
		if target is None:
			source.qbo_id = into_qid
			source.sync_token = None  # the survivor's own fields come in on its next read (a QBO edit)
			source.base = {**(source.base or {}), "Id": into_qid}
			store.save_mapping(source)
			books.event(ctx, C.INBOUND, spec, source.local_id, into_qid, "updated",
				f"merged in QuickBooks: now linked to QuickBooks customer {into_qid}")
			outcome = "repointed"
		else:
			survivor = target.local_id
			store.delete_mapping(ctx.realm_id, C.CUSTOMER, source.local_id)
			for e in store.list_outbox(ctx.realm_id, states=C.OPEN_STATES, local_type=C.CUSTOMER, local_id=source.local_id):
				e.state, e.last_error = C.DONE, f"merged into {survivor} in QuickBooks"
				store.save_outbox(e)
			ledger.merge_customer(source.local_id, survivor)
			books.event(ctx, C.INBOUND, spec, survivor, into_qid, "updated",
				f"customer {source.local_id} merged into {survivor} in QuickBooks; merged here too")
			outcome = "merged"
	if target is None:
		try:
			puller.apply_remote(ctx, spec, ctx.client.read("Customer", into_qid))
		except QE.ObjectNotFoundError:
			pass
	return outcome


__all__ = ["find_by_identity", "find_survivor", "follow_merge", "moved_transactions"]
