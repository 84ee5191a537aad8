"""Issue 7 §3: an unapplied QBO payment that came in at go-live as an opening credit, later applied in QBO.

The go-live books only the unapplied amount (an opening credit on the customer). When the bookkeeper later
applies that credit to an invoice in QBO, the pull books exactly that application in ERPNext (the opening
credit's new allocation), not the payment's pre-go-live lines, and both books still tie to the cent.
"""
from __future__ import annotations

from decimal import Decimal

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import golive as G

from test_go_live import CO, _assert_first_tie_out_is_zero, _books_before_go_live, _line


def _go_live(h, realm):
	h.engine.apply_go_live(realm, h.engine.go_live_preview(realm))


def _apply(bk, payment_id, lines):
	return bk.update("Payment", payment_id, {"Line": [{"Amount": Decimal(a), "LinkedTxn": [{"TxnId": i,
		"TxnType": t}]} for i, t, a in lines]})


def test_a_later_qbo_application_of_the_opening_credit_books_it_against_the_invoice(harness, sandbox):
	h = harness
	realm, docs, _acme, _clinic = _books_before_go_live(h, sandbox)
	_go_live(h, realm)
	pay = h.store.get_mapping_by_qbo(realm, "Payment", docs["acme_unapplied"]["Id"])
	credit = h.ledger.get(CO, C.PAYMENT, pay.local_id)
	assert credit["opening"] is True and credit["unapplied"] == Decimal("30.00") and credit["applications"] == []
	assert pay.origin == C.ORIGIN_QBO  # born in QBO: an ERPNext cancel asks before voiding it there
	_assert_first_tie_out_is_zero(h, realm)
	# the bookkeeper applies the 30.00 credit to Acme's open invoice 1001 in QBO
	_apply(h.bk(realm), docs["acme_unapplied"]["Id"], [(docs["acme_inv"]["Id"], "Invoice", "30.00")])
	h.engine.pull(realm)
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	inv = h.store.get_mapping_by_qbo(realm, "Invoice", docs["acme_inv"]["Id"]).local_id
	credit = h.ledger.get(CO, C.PAYMENT, pay.local_id)
	assert credit["unapplied"] == Decimal("0.00")
	assert credit["applications"] == [{"doc_type": C.INVOICE, "doc_key": inv, "amount": Decimal("30.00")}]
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("420.00")
	_assert_first_tie_out_is_zero(h, realm)


def test_the_pre_go_live_lines_of_a_partly_applied_payment_are_not_booked_again(harness, sandbox):
	"""A payment of 100.00 paid invoice 1003 (90.00, fully paid before the go-live, so never in ERPNext) and
	left 10.00 unapplied. Later the 10.00 is applied to a new invoice: only that 10.00 is booked."""
	h = harness
	realm, docs, _acme, _clinic = _books_before_go_live(h, sandbox)
	bk, seed = h.bk(realm), h.seeds[realm]
	lone = seed["customers"]["Lone Star Manufacturing"]
	before = docs["lone_inv"]["TxnDate"]
	part = bk.create("Payment", {"CustomerRef": {"value": lone}, "TotalAmt": Decimal("100.00"), "TxnDate": before,
		"Line": [{"Amount": Decimal("90.00"), "LinkedTxn": [{"TxnId": docs["lone_inv"]["Id"], "TxnType": "Invoice"}]}]})
	plan = h.engine.go_live_preview(realm)
	assert {r.qbo_id: r.amount for r in plan.rows if r.action == G.OPENING}[part["Id"]] == Decimal("10.00")
	h.engine.apply_go_live(realm, plan)
	assert h.store.get_mapping_by_qbo(realm, "Invoice", docs["lone_inv"]["Id"]) is None  # paid: never came in
	new_inv = bk.create("Invoice", {"CustomerRef": {"value": lone}, "TxnDate": sandbox.clock.now().date().isoformat(),
		"DocNumber": "2001", "Line": [_line(seed, "50.00")]})
	h.engine.pull(realm)
	_apply(bk, part["Id"], [(docs["lone_inv"]["Id"], "Invoice", "90.00"), (new_inv["Id"], "Invoice", "10.00")])
	h.engine.pull(realm)
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	local_new = h.store.get_mapping_by_qbo(realm, "Invoice", new_inv["Id"]).local_id
	credit = h.ledger.get(CO, C.PAYMENT, h.store.get_mapping_by_qbo(realm, "Payment", part["Id"]).local_id)
	assert credit["applications"] == [{"doc_type": C.INVOICE, "doc_key": local_new, "amount": Decimal("10.00")}]
	assert credit["unapplied"] == Decimal("0.00")
	assert h.ledger.outstanding(CO, C.INVOICE, local_new) == Decimal("40.00")
	_assert_first_tie_out_is_zero(h, realm)


def test_a_change_that_is_not_an_application_is_held_for_review_with_the_next_step(harness, sandbox):
	h = harness
	realm, docs, _acme, _clinic = _books_before_go_live(h, sandbox)
	_go_live(h, realm)
	pay = h.store.get_mapping_by_qbo(realm, "Payment", docs["acme_unapplied"]["Id"])
	h.bk(realm).update("Payment", docs["acme_unapplied"]["Id"], {"TotalAmt": Decimal("45.00")})
	h.engine.pull(realm)
	(item,) = h.store.list_conflicts(realm, status=C.OPEN)
	assert item.local_id == pay.local_id and "Dismiss" in item.reason and "amount changed" in item.reason
	assert h.ledger.get(CO, C.PAYMENT, pay.local_id)["unapplied"] == Decimal("30.00")  # ERPNext untouched
