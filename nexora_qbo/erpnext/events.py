"""doc_events handlers: record the intent in the outbox (same transaction) and enqueue a push after commit.

Rules (architecture.md "Outbound", frappe-notes A3/A7):
- never any HTTP here, and never an exception for a remote reason: a QBO outage must not block a submit.
  The intent row is written inside a savepoint; if even that fails (a bug, a missing realm), the error is
  logged and the daily sweep (jobs.daily_sweep) records the missing intent later (invariant 5).
- the push job is enqueued only after the document's transaction commits, so the worker never reads
  uncommitted data, and a rolled-back submit sends nothing.
- changes made by the sync itself never echo back: `doc.flags.nexora_qbo_origin` (per document) or
  `frappe.flags.nexora_qbo_inbound` (per pull job) suppress the intent.
"""

from __future__ import annotations

import frappe

from nexora_qbo.erpnext import constants as K

# --------------------------------------------------------------------------------------------------------
# handlers (hooks.py doc_events)
# --------------------------------------------------------------------------------------------------------


def customer_after_insert(doc, method=None):
	doc.flags.nexora_qbo_inserted = True
	_master_changed(doc, "customer")


def customer_on_update(doc, method=None):
	if not _first_on_update_after_insert(doc):
		_master_changed(doc, "customer")


def customer_on_trash(doc, method=None):
	_master_deleted(doc, "customer")


def item_after_insert(doc, method=None):
	doc.flags.nexora_qbo_inserted = True
	if _item_is_synced(doc):
		_master_changed(doc, "item")


def item_on_update(doc, method=None):
	if not _first_on_update_after_insert(doc) and _item_is_synced(doc):
		_master_changed(doc, "item")


def item_on_trash(doc, method=None):
	_master_deleted(doc, "item")


def sales_invoice_on_submit(doc, method=None):
	_transaction_changed(doc, _sales_invoice_type(doc), "create")


def sales_invoice_on_cancel(doc, method=None):
	_transaction_changed(doc, _sales_invoice_type(doc), "cancel")


def sales_invoice_on_update_after_submit(doc, method=None):
	_transaction_changed(doc, _sales_invoice_type(doc), "update")


def payment_entry_on_submit(doc, method=None):
	if _is_customer_receipt(doc):
		_transaction_changed(doc, "payment", "create")
	elif _is_customer_refund(doc):  # money paid back to a customer (mappers/refund.py)
		_transaction_changed(doc, "refund", "create")


def payment_entry_on_cancel(doc, method=None):
	if _is_customer_receipt(doc):
		_transaction_changed(doc, "payment", "cancel")
	elif _is_customer_refund(doc):
		_transaction_changed(doc, "refund", "cancel")


def payment_entry_before_cancel(doc, method=None):
	"""Issue 13: a payment in a submitted bank deposit is not cancelled before its deposit (a book-keeping
	refusal, not a remote one: QBO refuses to void a deposited payment the same way)."""
	if doc.get("payment_type") == "Receive":
		from nexora_qbo.erpnext.mappers.deposit import refuse_cancel_of_deposited

		refuse_cancel_of_deposited(doc)


def journal_entry_on_submit(doc, method=None):
	"""Issue 13: a Journal Entry that deposits received payments (erpnext/mappers/deposit.py) is a QBO Deposit."""
	from nexora_qbo.erpnext.mappers.deposit import is_deposit

	if is_deposit(doc):
		_transaction_changed(doc, "deposit", "create")


def journal_entry_on_cancel(doc, method=None):
	from nexora_qbo.erpnext.mappers.deposit import is_deposit

	if is_deposit(doc):
		_transaction_changed(doc, "deposit", "cancel")


# --------------------------------------------------------------------------------------------------------
# echo suppression
# --------------------------------------------------------------------------------------------------------


def is_sync_origin(doc) -> bool:
	"""True when the change comes from the sync itself (or from install/migrate), so it must not echo."""
	flags = frappe.flags
	return bool(
		doc.flags.get(K.DOC_ORIGIN_FLAG) or flags.get(K.INBOUND_FLAG) or flags.in_install or flags.in_migrate
	)


class inbound:
	"""Context manager for a pull job: every document saved inside is QBO's change, not the user's."""

	def __enter__(self):
		self._previous = frappe.flags.get(K.INBOUND_FLAG)
		frappe.flags[K.INBOUND_FLAG] = True
		return self

	def __exit__(self, *exc):
		frappe.flags[K.INBOUND_FLAG] = self._previous
		return False


# --------------------------------------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------------------------------------


def _sales_invoice_type(doc) -> str:
	if doc.get("is_return") and doc.get("name") and frappe.db.exists(
		K.ENTITY_MAP, {"local_type": "refund_receipt", "reference_name": doc.name}
	):
		return "refund_receipt"  # a QBO refund receipt's credit note (mappers/refund.py)
	return "credit_memo" if doc.get("is_return") else "invoice"


def _is_customer_receipt(doc) -> bool:
	return doc.get("payment_type") == "Receive" and doc.get("party_type") == "Customer"


def _is_customer_refund(doc) -> bool:
	"""A Payment Entry "Pay" to a Customer: a refund of their credit (its push says in words when it pays out
	no credit note). The payout of a refund receipt brought from QBO is written by the sync: never queued."""
	return doc.get("payment_type") == "Pay" and doc.get("party_type") == "Customer"


def _item_is_synced(doc) -> bool:
	"""Only sellable, concrete items go to QBO (templates with variants are not sold themselves)."""
	return bool(doc.get("is_sales_item", 1)) and not doc.get("has_variants")


def _first_on_update_after_insert(doc) -> bool:
	"""on_update also fires right after after_insert: that one is the same change, already recorded."""
	return bool(doc.flags.pop("nexora_qbo_inserted", None))


def _master_changed(doc, local_type: str) -> None:
	"""Customers and Items are global in ERPNext, realms are per Company (invariant 4): a change goes only to
	the realms that already have the master. A new master goes nowhere by itself; it reaches a realm with
	that realm Company's first document that uses it (the engine pushes dependencies first) or when a person
	exports it (the "Send to QuickBooks" button, `export_master`). The old realm flag "push_new_masters" sent
	every new master to every realm, LLC A's clients into LLC B's books; it is no longer read."""
	if is_sync_origin(doc):
		return
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realms_with_id

	for realm in realms_with_id():
		mapped = frappe.db.exists(
			K.ENTITY_MAP, {"realm": realm.name, "reference_doctype": doc.doctype, "reference_name": doc.name}
		)
		if mapped:
			_record(doc, realm, local_type, "update")


def _master_deleted(doc, local_type: str) -> None:
	if is_sync_origin(doc):
		return
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realms_with_id

	for realm in realms_with_id():
		if frappe.db.exists(
			K.ENTITY_MAP, {"realm": realm.name, "reference_doctype": doc.doctype, "reference_name": doc.name}
		):
			_record(doc, realm, local_type, "delete")


@frappe.whitelist(methods=["POST"])
def export_master(doctype: str, name: str, company: str) -> dict:
	"""A person's explicit choice to send one Customer or Item to the QuickBooks company of `company`
	before any of that Company's documents uses it. Accounts Manager / System Manager; records the intent
	in this request's transaction (no HTTP) and enqueues the push after commit."""
	from frappe import _

	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import check_manager, realm_for_company

	check_manager()
	local_type = {"Customer": "customer", "Item": "item"}.get(doctype)
	if local_type is None:
		frappe.throw(_("Only customers and items can be sent to QuickBooks on their own."))
	frappe.get_doc(doctype, name).check_permission("read")
	realm = realm_for_company(company)
	if not realm or not realm.realm_id:
		frappe.throw(_("{0} is not connected to a QuickBooks company.").format(company))
	mapped = frappe.db.exists(
		K.ENTITY_MAP, {"realm": realm.name, "reference_doctype": doctype, "reference_name": name}
	)
	doc = frappe.get_doc(doctype, name)
	_record(doc, realm, local_type, "update" if mapped else "create")
	return {"queued": True, "realm": realm.name}


def _transaction_changed(doc, local_type: str, action: str) -> None:
	if is_sync_origin(doc):
		return
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import before_sync_start, realm_for_company

	realm = realm_for_company(doc.get("company"))
	if not realm or not realm.realm_id:
		return  # no QBO company for this ERPNext company (or never connected): nothing to sync
	if action == "create" and before_sync_start(realm, doc.get("posting_date")):
		return
	if (
		action != "create"
		and not frappe.db.exists(
			K.ENTITY_MAP, {"realm": realm.name, "reference_doctype": doc.doctype, "reference_name": doc.name}
		)
		and not frappe.db.exists(
			K.OUTBOX, {"realm": realm.name, "reference_doctype": doc.doctype, "reference_name": doc.name}
		)
	):
		return  # never sent and never queued (e.g. dated before the sync start): nothing to change in QBO
	_record(doc, realm, local_type, action)


def _record(doc, realm, local_type: str, action: str) -> None:
	"""Write the outbox intent in the document's transaction; on any failure, log and carry on."""
	from nexora_qbo.nexora_qbo.doctype.qbo_outbox.qbo_outbox import OutboxRows
	from nexora_qbo.sync.outbox import record_change
	from nexora_qbo.sync.runtime import SystemClock

	savepoint = "nexora_qbo_intent"
	try:
		frappe.db.savepoint(savepoint)
		record_change(OutboxRows(realm.realm_id, realm.name), realm.realm_id, local_type, doc.name, action,
			SystemClock().now())
		_set_sync_status(doc, "Queued")
	except Exception as exc:
		if isinstance(exc, frappe.QueryDeadlockError):
			# InnoDB already rolled back the WHOLE transaction (savepoint included): the document write is
			# gone too, so the submit cannot continue either way. Let Frappe report it (jobs retry it).
			raise
		frappe.db.rollback(save_point=savepoint)
		from nexora_qbo.erpnext.errorlog import log_error

		log_error(
			f"QBO: could not queue {action} of {doc.doctype} {doc.name}",
			exc,
			reference_doctype=doc.doctype,
			reference_name=doc.name,
		)
		return
	from nexora_qbo.erpnext import jobs

	jobs.enqueue_realm(realm.realm_id, "push", after_commit=True)


def _set_sync_status(doc, status: str) -> None:
	"""Display only (the authoritative state is the outbox/map); no hooks, no modified bump."""
	if not doc.meta.has_field(K.CF_SYNC_STATUS):
		return
	frappe.db.set_value(doc.doctype, doc.name, K.CF_SYNC_STATUS, status, update_modified=False)
	doc.set(K.CF_SYNC_STATUS, status)


def item_price_changed(doc, method=None):
	"""Issue 11: an Item's standard selling rate is its Item Price on a selling price list; a change of it is
	a change of the Item for QBO (UnitPrice). Prices written by the sync itself are not sent back."""
	if not doc.get("selling") or not doc.get("item_code") or is_sync_origin(doc):
		return
	if not frappe.db.exists("Item", doc.item_code):
		return
	item = frappe.get_doc("Item", doc.item_code)
	if _item_is_synced(item):
		_master_changed(item, "item")
