"""Month-end truth for two entities (SQLite ledger, sandbox over HTTP): a month is played in each, then an
independent checker (month_end_checker.py, not sync/tieout.py) asserts that each invoice's QBO Balance equals
its ERPNext outstanding to the cent, each customer's QBO Balance equals ERPNext's, and every remaining
difference has an open review item; the app's own tie-out agrees and counts 0 unexplained.

The base month is `play_base_month`; the cases of issue 7 (review actions, go-live, masters per realm, clock
defects) each add their own test on top of it, so each fails without its fix."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from month_end_checker import check_month_end

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.tieout import format_tie_out

ENTITIES = (("Nexora Staffing Inc", "NX"), ("Nexora Staffing West LLC", "NW"))
MONTH_END = date(2026, 11, 30)


def play_base_month(h, realm: str, company: str, tag: str) -> dict:
	"""Customers and an item, five invoices, a partial payment and a payment on account here, a credit note
	against an invoice and a standalone one, a payment over two invoices recorded by the bookkeeper in QBO,
	and a credit memo created in QBO; pulls and pushes as the scheduler would run them."""
	led = h.ledger
	item = led.create_item(company, f"Staffing Hours {tag}", rate="45.00", income_account="Sales - NX")
	a = led.create_customer(company, f"Anvil Logistics {tag}", email=f"ap@anvil-{tag.lower()}.example")
	b = led.create_customer(company, f"Birch Clinics {tag}", email=f"ap@birch-{tag.lower()}.example")

	def inv(cust, qty, day):
		return led.submit_invoice(company, cust, [{"item": item, "qty": qty, "rate": "45.00"}], f"2026-11-{day:02d}")

	a1, a2, a3 = inv(a, "40", 2), inv(a, "12", 5), inv(a, "8", 9)  # 1800, 540, 360
	b1, b2 = inv(b, "20", 3), inv(b, "6", 12)  # 900, 270
	h.engine.sync(realm)
	led.record_payment(company, a, "1000.00", [{"doc_type": C.INVOICE, "doc_key": a1, "amount": "1000.00"}],
		"2026-11-15")
	led.submit_credit_note(company, a, [{"item": item, "qty": "2", "rate": "45.00"}], "2026-11-16",
		against_invoice=a2)
	led.submit_credit_note(company, b, [{"item": item, "qty": "1", "rate": "45.00"}], "2026-11-17")
	led.record_payment(company, b, "55.00", [], "2026-11-18")
	h.engine.sync(realm)
	bk = h.bk(realm)
	bk.receive_payment(h.qbo_id(realm, C.CUSTOMER, b), "1000.00", [h.qbo_id(realm, C.INVOICE, b1),
		h.qbo_id(realm, C.INVOICE, b2)])
	bk.create("CreditMemo", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, a)}, "TxnDate": "2026-11-20",
		"Line": [{"Amount": Decimal("90.00"), "DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": h.qbo_id(realm, C.ITEM, item)}, "Qty": 2,
				"UnitPrice": Decimal("45.00")}}]})
	h.engine.sync(realm)
	h.engine.sync(realm)
	return {"item": item, "customers": [a, b], "invoices": [a1, a2, a3, b1, b2]}


def _assert_month_ties(h, realm, company):
	check = check_month_end(h.bk(realm), h.store, h.ledger, realm, company)
	assert check.uncovered == [], check.uncovered
	result = h.engine.tie_out(realm, MONTH_END)
	assert result.unexplained_count == 0, format_tie_out(result)
	assert sum(1 for r in result.documents if r.differs) == sum(1 for d in check.differences if d.level == "document")
	return check, result


def test_base_month_ties_in_both_entities(harness):
	h = harness
	played = {}
	for company, tag in ENTITIES:
		realm = h.new_realm(company)
		played[realm] = (company, play_base_month(h, realm, company, tag))
	for realm, (company, month) in played.items():
		check, result = _assert_month_ties(h, realm, company)
		assert check.differences == [] and result.differences == []
		a, b = month["customers"]
		# A: 800 + (540 - 90) + 360 - 90 (QBO credit memo) = 1520; B: 900 + 270 - 1000 - 45 - 55 = 70
		assert {c.customer: c.qbo for c in result.customers} == {a: Decimal("1520.00"), b: Decimal("70.00")}
		assert result.totals()["home"]["erpnext"] == Decimal("1590.00")
		assert check.customers == 2 and check.documents >= 9


def test_checker_sees_a_difference_and_requires_a_review_item_for_it(harness):
	"""The checker itself: a payment applied in QBO that the pull has not brought in yet is a difference
	without a review item until the tie-out opens one."""
	h = harness
	company, tag = ENTITIES[0]
	realm = h.new_realm(company)
	month = play_base_month(h, realm, company, tag)
	a = month["customers"][0]
	a3 = month["invoices"][2]
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, a), "100.00", [h.qbo_id(realm, C.INVOICE, a3)])
	check = check_month_end(h.bk(realm), h.store, h.ledger, realm, company)
	assert {d.what for d in check.uncovered} == {f"invoice {a3}", f"customer {a}"}
	result = h.engine.tie_out(realm, MONTH_END)
	assert result.unexplained_count == 1
	assert check_month_end(h.bk(realm), h.store, h.ledger, realm, company).uncovered == []
	h.engine.sync(realm)
	check, result = _assert_month_ties(h, realm, company)
	assert check.differences == [] and h.store.list_conflicts(realm, status=C.OPEN) == []
