"""No review action may damage either book (issue 7 §2, invariant 10), against the sandbox over real HTTP.

Each test plays one situation a new user meets and asserts BOTH books afterwards: QuickBooks through the
bookkeeper's own client (HTTP reads of the sandbox) and ERPNext through the ledger. "Agree" means: the
document is cancelled here and voided/deleted there, or live on both sides with the same total and the QBO
Balance equal to the ERPNext outstanding. Otherwise an open review item must say what still differs.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from nexora_qbo.sync import constants as C

CO = "Nexora Staffing Inc"
ENGINE_WORDS = ("keep_local", "keep_qbo", "amend_local", "accept_qbo", "void_in_qbo", "accept_difference",
	"parked", "echo", "{")


def _plain(reason: str) -> None:
	for w in ENGINE_WORDS:
		assert w not in reason, f"engine word {w!r} in review text: {reason}"


def _pushed_invoice(h, realm, co=CO, qty="10"):
	cust = h.ledger.create_customer(co, "Bluewater Clinics", email="ap@bluewater.example")
	item = "Nurse Hours"  # items are global, as in ERPNext: one per ledger, used by every company
	if h.ledger.get(co, "item", item) is None:
		h.ledger.create_item(co, item, rate="80.00", income_account="Sales - NX")
	inv = h.ledger.submit_invoice(co, cust, [{"item": item, "qty": qty, "rate": "80.00"}], "2026-11-02")
	h.engine.push(realm)
	h.engine.pull(realm)
	return cust, item, inv


def _bookkeeper_sets_first_line(h, realm, qid, *, qty, amount):
	remote = h.bk(realm).read("Invoice", qid)
	line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
	line["SalesItemLineDetail"]["Qty"] = qty
	line["Amount"] = Decimal(amount)
	h.bk(realm).update("Invoice", qid, {"Line": [line]})


def _voided(obj: dict) -> bool:
	return "voided" in str(obj.get("PrivateNote") or "").lower() and Decimal(str(obj.get("TotalAmt"))) == 0


def _live_invoices(h, realm, customer_qid) -> list[dict]:
	rows = h.bk(realm).query(f"select * from Invoice where CustomerRef = '{customer_qid}'").get("Invoice", [])
	return [r for r in rows if not _voided(r)]


def _open(h, realm, local_type=None, local_id=None):
	return h.store.list_conflicts(realm, status=C.OPEN, local_type=local_type, local_id=local_id)


def _books_agree(h, realm, co, local_type, local_id, entity) -> bool:
	"""Independent of the engine's own check: both books, read directly."""
	m = h.store.get_mapping(realm, local_type, local_id)
	local = h.ledger.get(co, local_type, local_id)
	remote = h.bk(realm).read(entity, m.qbo_id) if m else None
	if local["state"] == "cancelled":
		return remote is None or _voided(remote)
	if remote is None or _voided(remote):
		return False
	if Decimal(str(remote["TotalAmt"])) != local["total"]:
		return False
	if local_type == C.INVOICE:
		return Decimal(str(remote["Balance"])) == local["outstanding"]
	return True


def _cancel_parked_under_an_edit(h, realm, co=CO):
	"""The bookkeeper edits the invoice's hours in QBO; before any pull, ERPNext cancels the invoice: the
	void meets her edit (5010, re-read, edit found) and is parked under her edit's review item."""
	cust, item, inv = _pushed_invoice(h, realm, co)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	_bookkeeper_sets_first_line(h, realm, qid, qty=12, amount="960.00")
	h.ledger.cancel(co, C.INVOICE, inv)
	h.engine.push(realm)
	[item_] = _open(h, realm, C.INVOICE, inv)
	assert item_.kind == "transaction_edited"
	assert "cancelled in ERPNext" in item_.reason and "Keep ERPNext" in item_.reason
	_plain(item_.reason)
	[parked] = [e for e in h.store.list_outbox(realm, local_id=inv) if e.state == C.PARKED]
	assert parked.action == "cancel" and parked.conflict_id == item_.id
	return cust, item, inv, qid, item_


def test_amending_after_a_bookkeeper_edit_updates_the_same_qbo_invoice(harness, realm):
	"""The user follows the advice (cancel and amend in ERPNext): QBO keeps ONE live invoice for the sale,
	updated with a fresh SyncToken, and the review item closes by itself."""
	h = harness
	cust, item, inv = _pushed_invoice(h, realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	_bookkeeper_sets_first_line(h, realm, qid, qty=12, amount="960.00")
	h.engine.pull(realm)
	[edited] = _open(h, realm)
	assert edited.kind == "transaction_edited"
	h.ledger.cancel(CO, C.INVOICE, inv)
	h.engine.push(realm)  # the cancel is parked under her edit
	[parked_under] = _open(h, realm)
	assert "cancelled in ERPNext" in parked_under.reason and "amend it in ERPNext" in parked_under.reason
	_plain(parked_under.reason)
	amended = h.ledger.amend(CO, C.INVOICE, inv, lines=[{"item": item, "qty": "12", "rate": "80.00"}])
	h.engine.push(realm)

	cust_qid = h.qbo_id(realm, C.CUSTOMER, cust)
	[live] = _live_invoices(h, realm, cust_qid)
	assert live["Id"] == qid and Decimal(str(live["TotalAmt"])) == Decimal("960.00")
	assert live["DocNumber"] == amended and int(live["SyncToken"]) >= 2
	assert h.store.get_mapping(realm, C.INVOICE, amended).qbo_id == qid
	assert h.store.get_mapping(realm, C.INVOICE, inv) is None
	local = h.ledger.get(CO, C.INVOICE, amended)
	assert local["amended_from"] == inv and local["state"] == "submitted"
	assert h.ledger.get(CO, C.INVOICE, inv)["state"] == "cancelled"
	assert local["outstanding"] == Decimal(str(live["Balance"])) == Decimal("960.00")
	assert _open(h, realm) == []
	closed = h.store.get_conflict(edited.id)
	assert closed.status == C.RESOLVED and closed.resolution == C.RESOLUTION_AMENDED
	assert any("superseded by amendment " + amended in (e.last_error or "")
		for e in h.store.list_outbox(realm, local_id=inv))
	updates = [a for a in h.store.list_audit(realm) if a.operation == "update" and a.local_id == amended]
	assert [a.error_code for a in updates] == [None]  # fresh SyncToken: no 5010
	assert [a for a in h.store.list_audit(realm) if a.operation == "void"] == []


def test_amending_without_a_bookkeeper_edit_voids_the_original_and_creates_the_amendment(harness, realm):
	"""Without a pending edit ERPNext's trail (cancelled original, new amendment) is mirrored: void + new."""
	h = harness
	cust, item, inv = _pushed_invoice(h, realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	h.ledger.cancel(CO, C.INVOICE, inv)
	amended = h.ledger.amend(CO, C.INVOICE, inv, lines=[{"item": item, "qty": "11", "rate": "80.00"}])
	h.engine.push(realm)
	assert _voided(h.bk(realm).read("Invoice", qid))
	[live] = _live_invoices(h, realm, h.qbo_id(realm, C.CUSTOMER, cust))
	assert live["Id"] != qid and live["DocNumber"] == amended and Decimal(str(live["TotalAmt"])) == Decimal("880.00")
	assert _open(h, realm) == []


def test_cancelling_a_payment_that_came_from_qbo_asks_and_never_voids_it_as_a_side_effect(harness, realm):
	h = harness
	cust, _item, inv = _pushed_invoice(h, realm)
	inv_qid = h.qbo_id(realm, C.INVOICE, inv)
	pay = h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "300.00", [inv_qid])
	h.engine.pull(realm)
	m = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"])
	assert m is not None and m.origin == C.ORIGIN_QBO
	h.ledger.cancel(CO, C.PAYMENT, m.local_id)  # e.g. needed to amend the paid invoice
	h.engine.push(realm)

	remote = h.bk(realm).read("Payment", pay["Id"])
	assert not _voided(remote) and Decimal(str(remote["TotalAmt"])) == Decimal("300.00")  # her payment stands
	assert [a for a in h.store.list_audit(realm) if a.operation == "void"] == []
	[question] = _open(h, realm, C.PAYMENT, m.local_id)
	assert question.kind == "qbo_born_cancel"
	assert "recorded in QuickBooks and cancelled in ERPNext; it is still live in QuickBooks" in question.reason
	assert C.ACTION_LABELS[C.ACTION_VOID_IN_QBO] in question.reason and C.ACTION_VOID_IN_QBO in question.actions
	_plain(question.reason)

	h.engine.resolve_conflict(question.id, C.ACTION_VOID_IN_QBO, by="controller")
	assert _voided(h.bk(realm).read("Payment", pay["Id"]))
	assert Decimal(str(h.bk(realm).read("Invoice", inv_qid)["Balance"])) == h.ledger.outstanding(CO, C.INVOICE, inv)
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("800.00")
	assert _open(h, realm) == []


def test_cancelling_a_qbo_born_payment_follows_when_the_realm_policy_says_so(harness):
	h = harness
	realm = h.new_realm(qbo_born_cancel_policy=C.FOLLOW)
	cust, _item, inv = _pushed_invoice(h, realm)
	pay = h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "300.00", [h.qbo_id(realm, C.INVOICE, inv)])
	h.engine.pull(realm)
	local_pay = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"]).local_id
	h.ledger.cancel(CO, C.PAYMENT, local_pay)
	h.engine.push(realm)
	assert _voided(h.bk(realm).read("Payment", pay["Id"]))
	assert _open(h, realm) == []


def test_keep_qbo_on_a_cancelled_qbo_born_payment_brings_it_back_against_the_amended_invoice(harness, realm):
	"""The paid-invoice amendment: cancel her payment (question), cancel + amend the edited invoice (updates
	the same QBO invoice), then Keep QuickBooks on the payment: ERPNext books it again, against the
	amendment, and both books agree to the cent."""
	h = harness
	cust, item, inv = _pushed_invoice(h, realm)
	inv_qid = h.qbo_id(realm, C.INVOICE, inv)
	_bookkeeper_sets_first_line(h, realm, inv_qid, qty=12, amount="960.00")
	pay = h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "300.00", [inv_qid])
	h.engine.pull(realm)
	old_pay = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"]).local_id
	h.ledger.cancel(CO, C.PAYMENT, old_pay)
	h.ledger.cancel(CO, C.INVOICE, inv)
	amended = h.ledger.amend(CO, C.INVOICE, inv, lines=[{"item": item, "qty": "12", "rate": "80.00"}])
	h.engine.push(realm)
	[question] = _open(h, realm)
	assert question.kind == "qbo_born_cancel" and question.local_id == old_pay

	h.engine.resolve_conflict(question.id, C.ACTION_KEEP_QBO, by="controller")
	new_pay = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"]).local_id
	assert new_pay != old_pay and h.ledger.get(CO, C.PAYMENT, old_pay)["state"] == "cancelled"
	assert h.ledger.get(CO, C.PAYMENT, new_pay)["applications"][0]["doc_key"] == amended
	remote_inv = h.bk(realm).read("Invoice", inv_qid)
	assert Decimal(str(remote_inv["Balance"])) == h.ledger.outstanding(CO, C.INVOICE, amended) == Decimal("660.00")
	assert not _voided(h.bk(realm).read("Payment", pay["Id"]))
	assert _open(h, realm) == []


def test_keep_erpnext_on_a_cancel_parked_under_an_edit_voids_and_never_overwrites_her_edit(harness, realm):
	h = harness
	_cust, _item, inv, qid, edited = _cancel_parked_under_an_edit(h, realm)
	h.engine.resolve_conflict(edited.id, C.ACTION_KEEP_LOCAL, by="controller")
	assert _voided(h.bk(realm).read("Invoice", qid))
	assert h.ledger.get(CO, C.INVOICE, inv)["state"] == "cancelled"
	assert [a.operation for a in h.store.list_audit(realm) if a.local_id == inv and a.operation == "update"] == []
	voids = [a for a in h.store.list_audit(realm) if a.local_id == inv and a.operation == "void"]
	assert voids[-1].error_code is None  # re-read first: the fresh SyncToken is accepted
	assert all(e.state == C.DONE for e in h.store.list_outbox(realm, local_id=inv))
	assert _open(h, realm) == []


def test_dismissing_a_cancel_parked_under_an_edit_leaves_the_difference_in_review(harness, realm):
	h = harness
	_cust, _item, inv, qid, edited = _cancel_parked_under_an_edit(h, realm)
	h.engine.resolve_conflict(edited.id, C.ACTION_DISMISS, by="controller")
	assert not _voided(h.bk(realm).read("Invoice", qid)) and h.ledger.get(CO, C.INVOICE, inv)["state"] == "cancelled"
	[differ] = _open(h, realm, C.INVOICE, inv)
	assert differ.kind == "books_differ"
	assert "cancelled in ERPNext but still live in QuickBooks" in differ.reason
	assert set(differ.actions) == {C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_QBO, C.ACTION_ACCEPT_DIFFERENCE}
	_plain(differ.reason)
	h.engine.resolve_conflict(differ.id, C.ACTION_DISMISS, by="controller")  # still different: it stays
	assert [c.id for c in _open(h, realm)] == [differ.id]
	h.engine.resolve_conflict(differ.id, C.ACTION_ACCEPT_DIFFERENCE, by="controller")
	assert _open(h, realm) == []
	accepted = h.store.get_conflict(differ.id)
	assert accepted.status == C.RESOLVED and accepted.resolution == C.RESOLUTION_ACCEPTED_DIFFERENCE


@pytest.mark.parametrize("action", [C.ACTION_KEEP_LOCAL, C.ACTION_DISMISS])
def test_the_same_holds_for_a_payment_cancel_parked_under_an_edit(harness, realm, action):
	h = harness
	cust, _item, inv = _pushed_invoice(h, realm)
	pay = h.ledger.record_payment(CO, cust, "300.00", [{"doc_type": "invoice", "doc_key": inv, "amount": "300.00"}],
		"2026-11-05", reference="ACH-7")
	h.engine.push(realm)
	pay_qid = h.qbo_id(realm, C.PAYMENT, pay)
	h.bk(realm).update("Payment", pay_qid, {"PaymentRefNum": "ACH-7 / corrected"})
	h.ledger.cancel(CO, C.PAYMENT, pay)
	h.engine.push(realm)
	[edited] = _open(h, realm, C.PAYMENT, pay)
	assert edited.kind == "transaction_edited"

	h.engine.resolve_conflict(edited.id, action, by="controller")
	remote = h.bk(realm).read("Payment", pay_qid)
	if action == C.ACTION_KEEP_LOCAL:
		assert _voided(remote) and _open(h, realm) == []
		assert h.bk(realm).read("Payment", pay_qid)["PaymentRefNum"] == "ACH-7 / corrected"  # never overwritten
	else:
		assert not _voided(remote)
		[differ] = _open(h, realm, C.PAYMENT, pay)
		assert differ.kind == "books_differ" and "cancelled in ERPNext but still live in QuickBooks" in differ.reason
		_plain(differ.reason)


def test_keep_qbo_on_a_cancelled_invoice_brings_qbos_version_back_and_never_calls_it_submitted(harness, realm):
	h = harness
	_cust, _item, inv, qid, edited = _cancel_parked_under_an_edit(h, realm)
	h.engine.resolve_conflict(edited.id, C.ACTION_KEEP_QBO, by="controller")
	m = h.store.get_mapping_by_qbo(realm, "Invoice", qid)
	assert m.local_id != inv
	restored = h.ledger.get(CO, C.INVOICE, m.local_id)
	remote = h.bk(realm).read("Invoice", qid)
	assert restored["state"] == "submitted" and restored["total"] == Decimal("960.00")
	assert not _voided(remote) and Decimal(str(remote["Balance"])) == restored["outstanding"]
	assert h.ledger.get(CO, C.INVOICE, inv)["state"] == "cancelled"  # the cancelled one stays cancelled
	assert _open(h, realm) == []
	for c in h.store.list_conflicts(realm):
		assert "submitted" not in c.reason or c.kind != "amend_local"
		_plain(c.reason)


def test_keep_qbo_on_an_edited_live_invoice_names_the_next_step_with_button_labels(harness, realm):
	h = harness
	_cust, _item, inv = _pushed_invoice(h, realm)
	_bookkeeper_sets_first_line(h, realm, h.qbo_id(realm, C.INVOICE, inv), qty=7, amount="560.00")
	h.engine.pull(realm)
	[edited] = _open(h, realm)
	h.engine.resolve_conflict(edited.id, C.ACTION_KEEP_QBO, by="controller")
	[follow_up] = _open(h, realm)
	assert follow_up.kind == "amend_local" and "Keep ERPNext" in follow_up.reason
	_plain(follow_up.reason)
	h.engine.resolve_conflict(follow_up.id, C.ACTION_DISMISS, by="controller")
	[differ] = _open(h, realm)  # dismissing does not make the books agree
	assert differ.kind == "books_differ" and "total 800.00 in ERPNext, 560.00 in QuickBooks" in differ.reason
	_plain(differ.reason)


def test_every_action_ends_with_both_books_agreeing_or_with_an_item_saying_what_differs(harness):
	"""Each action offered on a cancel parked under a bookkeeper edit (plus Dismiss), each in its own realm."""
	h = harness
	actions = [C.ACTION_KEEP_QBO, C.ACTION_KEEP_LOCAL, C.ACTION_DISMISS, C.ACTION_RETRY]
	for i, action in enumerate(actions):
		co = f"Review Co {i}"
		realm = h.new_realm(company=co)
		_cust, _item, inv, qid, edited = _cancel_parked_under_an_edit(h, realm, co)
		if action not in edited.actions + [C.ACTION_DISMISS]:
			edited.actions = edited.actions + [action]  # Retry: offered on other items; it must hold here too
			h.store.save_conflict(edited)
		h.engine.resolve_conflict(edited.id, action, by="controller")
		h.engine.push(realm)
		mapped = h.store.get_mapping_by_qbo(realm, "Invoice", qid).local_id
		agree = _books_agree(h, realm, co, C.INVOICE, mapped, "Invoice")
		items = _open(h, realm, C.INVOICE, mapped) + _open(h, realm, C.INVOICE, inv)
		assert agree or items, f"{action}: books differ and nothing in review"
		for c in items:
			_plain(c.reason)
			assert "submitted" not in c.reason or h.ledger.get(co, C.INVOICE, c.local_id)["state"] == "submitted"
