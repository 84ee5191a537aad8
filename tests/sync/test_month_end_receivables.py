"""Issue 13, real receivables, as cases of the month-end scenario (SQLite ledger, sandbox over HTTP).

Each test plays the base month of tests/sync/test_month_end.py in one entity, adds one receivables case,
and asserts with the same independent checker (month_end_checker.py) that each invoice's QBO Balance equals
its ERPNext outstanding and each customer's QBO Balance equals ERPNext's, to the cent, with the app's own
tie-out at 0 unexplained. Each fails without its change (see the issue-13 note in sync/README.md)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from month_end_checker import check_month_end, ledger_income, ledger_refunds_out, qbo_income, qbo_refunds_out
from test_month_end import ENTITIES, _assert_month_ties, play_base_month

from nexora_qbo.sync import constants as C

D = Decimal


def _month(h, **accounts):
	company, tag = ENTITIES[0]
	realm = h.new_realm(company)
	if accounts:
		s = h.store.get_settings(realm)
		s.account_map.update(accounts)
		h.store.save_settings(s)
	return realm, company, play_base_month(h, realm, company, tag)


def _ties(h, realm, company):
	check, result = _assert_month_ties(h, realm, company)
	assert check.differences == [], check.differences
	assert result.differences == []
	return check, result


def _open(h, realm, conflicts_kind=None):
	return [c for c in h.store.list_conflicts(realm, status=C.OPEN) if conflicts_kind in (None, c.kind)]


# ---------------------------------------------------------------------------------------- short-pays
def test_short_pay_with_a_deduction_closes_the_invoice_in_both_books(harness):
	"""A client pays 850 of a 900 invoice and the 50 is written off (Payment Entry Deduction): ERPNext shows
	the invoice paid; QBO must too (a credit memo for the deduction, applied by the same payment)."""
	h = harness
	accounts = h.seeds.get  # noqa: F841 (keeps the harness API visible)
	realm, company, month = _month(h)
	seed_accounts = h.seeds[realm]["accounts"]
	s = h.store.get_settings(realm)
	s.account_map["Write Off - NX"] = seed_accounts["Discounts given"]
	h.store.save_settings(s)
	led = h.ledger
	a = month["customers"][0]
	inv = led.submit_invoice(company, a, [{"item": month["item"], "qty": "20", "rate": "45.00"}], "2026-11-21")
	h.engine.sync(realm)
	led.record_payment(company, a, "850.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "900.00"}],
		"2026-11-22", deductions=[{"account": "Write Off - NX", "amount": "50.00"}])
	assert led.outstanding(company, C.INVOICE, inv) == 0
	h.engine.sync(realm)
	h.engine.sync(realm)
	assert D(str(h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["Balance"])) == 0
	_ties(h, realm, company)
	assert _open(h, realm) == []
	# the deduction's credit memo posts to the mapped write-off account and is not a second local credit note
	assert not [n for n in led.list_all(company, C.CREDIT_MEMO) if "deduction" in n.lower()]


def test_short_pay_recorded_in_qbo_comes_back_with_its_credit(harness):
	"""The bookkeeper records the same shape in QBO: a credit memo for the disputed hours and one payment that
	applies the invoice in full, the credit memo and the money received."""
	h = harness
	realm, company, month = _month(h)
	led, bk = h.ledger, h.bk(realm)
	a = month["customers"][0]
	inv = led.submit_invoice(company, a, [{"item": month["item"], "qty": "20", "rate": "45.00"}], "2026-11-21")
	h.engine.sync(realm)
	cust, inv_q = h.qbo_id(realm, C.CUSTOMER, a), h.qbo_id(realm, C.INVOICE, inv)
	cm = bk.create("CreditMemo", {"CustomerRef": {"value": cust}, "TxnDate": "2026-11-22", "Line": [{"Amount": D("45.00"),
		"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": h.qbo_id(realm, C.ITEM,
		month["item"])}, "Qty": 1, "UnitPrice": D("45.00")}}]})
	bk.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": D("855.00"), "TxnDate": "2026-11-22", "Line": [
		{"Amount": D("900.00"), "LinkedTxn": [{"TxnId": inv_q, "TxnType": "Invoice"}]},
		{"Amount": D("45.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	h.engine.sync(realm)
	h.engine.sync(realm)
	assert led.outstanding(company, C.INVOICE, inv) == 0
	_ties(h, realm, company)


# ---------------------------------------------------------------------------------- later allocations
def test_unapplied_payment_applied_later_in_qbo_is_allocated_in_erpnext(harness):
	"""B's 55 on account is applied to B's second invoice in QBO weeks later: ERPNext allocates it too (no
	review item that says the payment was changed)."""
	h = harness
	realm, company, month = _month(h)
	b, b2 = month["customers"][1], month["invoices"][4]
	pay = next(p for p in h.ledger.list_all(company, C.PAYMENT)
		if h.ledger.get(company, C.PAYMENT, p)["unapplied"] == D("55.00"))
	bk = h.bk(realm)
	q = h.qbo_id(realm, C.PAYMENT, pay)
	bk.update("Payment", q, {"TotalAmt": D("55.00"), "Line": [{"Amount": D("55.00"),
		"LinkedTxn": [{"TxnId": h.qbo_id(realm, C.INVOICE, b2), "TxnType": "Invoice"}]}]})
	h.engine.sync(realm)
	assert h.ledger.get(company, C.PAYMENT, pay)["unapplied"] == 0
	assert _open(h, realm) == []
	_ties(h, realm, company)
	_ = b


def test_erpnext_reconciliation_of_a_payment_and_a_credit_note_is_applied_in_qbo(harness):
	"""Payment Reconciliation in ERPNext: B's 55 on account and B's standalone 45 credit note are allocated
	to B's second invoice; QBO applies the payment's money and the credit memo to the same invoice."""
	h = harness
	realm, company, month = _month(h)
	led = h.ledger
	b, b2 = month["customers"][1], month["invoices"][4]
	pay = next(p for p in led.list_all(company, C.PAYMENT) if led.get(company, C.PAYMENT, p)["unapplied"] == D("55.00"))
	cn = next(n for n in led.list_all(company, C.CREDIT_MEMO) if led.get(company, C.CREDIT_MEMO, n)["customer"] == b)
	led.reconcile(company, pay, [{"doc_type": C.INVOICE, "doc_key": b2, "amount": "55.00"}])
	led.record_payment(company, b, "0", [{"doc_type": C.INVOICE, "doc_key": b2, "amount": "45.00"},
		{"doc_type": C.CREDIT_MEMO, "doc_key": cn, "amount": "45.00"}], "2026-11-25")
	h.engine.sync(realm)
	h.engine.sync(realm)
	bk = h.bk(realm)
	assert D(str(bk.read("Payment", h.qbo_id(realm, C.PAYMENT, pay))["UnappliedAmt"])) == 0
	assert D(str(bk.read("Invoice", h.qbo_id(realm, C.INVOICE, b2))["Balance"])) == led.outstanding(company, C.INVOICE, b2)
	assert led.outstanding(company, C.INVOICE, b2) == D("70.00")  # 270 - 100 (QBO payment) - 55 - 45
	_ties(h, realm, company)


def test_credit_memo_applied_later_in_qbo_comes_back(harness):
	h = harness
	realm, company, month = _month(h)
	led, bk = h.ledger, h.bk(realm)
	a, a3 = month["customers"][0], month["invoices"][2]
	cust = h.qbo_id(realm, C.CUSTOMER, a)
	cm = next(o for o in bk.query("select * from CreditMemo").get("CreditMemo", [])
		if o["CustomerRef"]["value"] == cust and D(str(o.get("Balance"))) == D("90.00"))
	bk.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": D("0"), "TxnDate": "2026-11-26", "Line": [
		{"Amount": D("90.00"), "LinkedTxn": [{"TxnId": h.qbo_id(realm, C.INVOICE, a3), "TxnType": "Invoice"}]},
		{"Amount": D("90.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	h.engine.sync(realm)
	assert led.outstanding(company, C.INVOICE, a3) == D("270.00")
	_ties(h, realm, company)


# ---------------------------------------------------------------------------------------- discounts
def test_invoice_discount_both_ways_totals_agree(harness):
	"""ERPNext's additional discount reaches QBO as a discount line (same total, no "totals differ" item);
	QBO's percent discount comes back as ERPNext's discount amount."""
	h = harness
	realm, company, month = _month(h)
	led, bk = h.ledger, h.bk(realm)
	a = month["customers"][0]
	inv = led.submit_invoice(company, a, [{"item": month["item"], "qty": "10", "rate": "45.00"}], "2026-11-23",
		discount_amount="45.50")
	assert led.get(company, C.INVOICE, inv)["total"] == D("404.50")
	h.engine.sync(realm)
	assert D(str(bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["TotalAmt"])) == D("404.50")
	assert _open(h, realm, "totals_differ") == []
	created = bk.create("Invoice", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, a)}, "TxnDate": "2026-11-24",
		"Line": [{"Amount": D("450.00"), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {
			"value": h.qbo_id(realm, C.ITEM, month["item"])}, "Qty": 10, "UnitPrice": D("45.00")}},
			{"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}]})
	h.engine.sync(realm)
	m = h.store.get_mapping_by_qbo(realm, "Invoice", created["Id"])
	local = led.get(company, C.INVOICE, m.local_id)
	assert (local["discount_amount"], local["total"]) == (D("45.00"), D("405.00"))
	h.engine.sync(realm)
	assert _open(h, realm) == []
	_ties(h, realm, company)


# ----------------------------------------------------------------------------------- where money sits
def test_qbo_payment_lands_in_the_mapped_deposit_account_with_reference_and_method(harness):
	h = harness
	company, tag = ENTITIES[0]
	realm = h.new_realm(company)
	accounts = h.seeds[realm]["accounts"]
	s = h.store.get_settings(realm)
	s.account_map.update({"Undeposited Funds - NX": accounts["Undeposited Funds"], "Bank - NX": accounts["Checking"]})
	bk = h.bk(realm)
	methods = {o["Name"]: o["Id"] for o in bk.query("select * from PaymentMethod").get("PaymentMethod", [])}
	s.payment_method_map.update({"Wire Transfer": methods["ACH"], "Cheque": methods["Check"]})
	h.store.save_settings(s)
	month = play_base_month(h, realm, company, tag)
	a, a3 = month["customers"][0], month["invoices"][2]
	cust, inv_q = h.qbo_id(realm, C.CUSTOMER, a), h.qbo_id(realm, C.INVOICE, a3)
	wire = bk.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": D("100.00"), "TxnDate": "2026-11-27",
		"DepositToAccountRef": {"value": accounts["Checking"]}, "PaymentRefNum": "ACH-778",
		"PaymentMethodRef": {"value": methods["ACH"]}, "Line": [{"Amount": D("100.00"), "LinkedTxn": [{"TxnId": inv_q,
		"TxnType": "Invoice"}]}]})
	cheque = bk.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": D("60.00"), "TxnDate": "2026-11-28",
		"PaymentRefNum": "1042", "PaymentMethodRef": {"value": methods["Check"]},
		"Line": [{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": inv_q, "TxnType": "Invoice"}]}]})
	h.engine.sync(realm)
	got = {}
	for q in (wire, cheque):
		p = h.ledger.get(company, C.PAYMENT, h.store.get_mapping_by_qbo(realm, "Payment", q["Id"]).local_id)
		got[q["Id"]] = (p["deposit_account"], p["reference"], p["payment_method"])
	assert got == {wire["Id"]: ("Bank - NX", "ACH-778", "Wire Transfer"),
		cheque["Id"]: ("Undeposited Funds - NX", "1042", "Cheque")}
	_ties(h, realm, company)
	assert check_month_end(bk, h.store, h.ledger, realm, company).uncovered == []


# ------------------------------------------------------------------------------------------ customers
def test_customer_made_inactive_in_qbo_with_open_ar_becomes_one_review_item(harness):
	"""Anvil still owes 1520 in both books when the bookkeeper makes it inactive in QBO: ERPNext keeps it
	active (its receivable is still collected) and one review item says so and what to do."""
	h = harness
	realm, company, month = _month(h)
	a = month["customers"][0]
	h.bk(realm).deactivate("Customer", h.qbo_id(realm, C.CUSTOMER, a))
	h.engine.sync(realm)
	h.engine.sync(realm)
	assert h.ledger.get(company, C.CUSTOMER, a)["active"] is True
	items = _open(h, realm, "inactive_with_open_ar")
	assert [(c.local_id, c.status) for c in items] == [(a, C.OPEN)]
	assert "1520.00" in items[0].reason and "Dismiss" in items[0].reason
	check = check_month_end(h.bk(realm), h.store, h.ledger, realm, company)
	assert check.uncovered == []
	# a customer with nothing open follows QBO as before
	c = h.ledger.create_customer(company, "Cedar Dental NX", email="ap@cedar.example")
	inv = h.ledger.submit_invoice(company, c, [{"item": month["item"], "qty": "1", "rate": "45.00"}], "2026-11-26")
	h.engine.sync(realm)
	h.ledger.record_payment(company, c, "45.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "45.00"}],
		"2026-11-27")
	h.engine.sync(realm)
	h.bk(realm).deactivate("Customer", h.qbo_id(realm, C.CUSTOMER, c))
	h.engine.sync(realm)
	assert h.ledger.get(company, C.CUSTOMER, c)["active"] is False
	assert len(_open(h, realm, "inactive_with_open_ar")) == 1


def test_erpnext_edit_of_a_customer_held_active_never_reactivates_it_in_qbo(harness):
	"""While the "inactive with open AR" item is open, an ERPNext edit of the customer (a new email) reaches
	QBO without sending "active" back: the bookkeeper's deactivation stands until a person decides."""
	h = harness
	realm, company, month = _month(h)
	a = month["customers"][0]
	bk = h.bk(realm)
	qid = h.qbo_id(realm, C.CUSTOMER, a)
	bk.deactivate("Customer", qid)
	h.engine.sync(realm)
	assert len(_open(h, realm, "inactive_with_open_ar")) == 1
	h.ledger.update_customer(company, a, email="billing@anvil.example")
	h.engine.sync(realm)
	h.engine.sync(realm)
	q = bk.read("Customer", qid)
	assert q["Active"] is False
	assert q["PrimaryEmailAddr"]["Address"] == "billing@anvil.example"
	assert len(_open(h, realm, "inactive_with_open_ar")) == 1
	assert h.ledger.get(company, C.CUSTOMER, a)["active"] is True
	check = check_month_end(bk, h.store, h.ledger, realm, company)
	assert check.uncovered == []


# ------------------------------------------------------------------------------------- customer merge
def _duplicate_with_an_invoice(h, realm, company, month):
	"""A duplicate of Birch (keyed twice in ERPNext) with an open 90 invoice, synced to QBO."""
	led = h.ledger
	dup = led.create_customer(company, "Birch Clinics (dup)", email="ap2@birch.example")
	inv = led.submit_invoice(company, dup, [{"item": month["item"], "qty": "2", "rate": "45.00"}], "2026-11-24")
	h.engine.sync(realm)
	return dup, inv


def _assert_merged(h, realm, company, month, dup, inv):
	b = month["customers"][1]
	led, bk = h.ledger, h.bk(realm)
	assert led.get(company, C.CUSTOMER, dup) is None
	assert led.get(company, C.INVOICE, inv)["customer"] == b
	assert h.store.get_mapping(realm, C.CUSTOMER, dup) is None
	assert _open(h, realm) == [], [(c.kind, c.local_id, c.reason) for c in _open(h, realm)]
	q_b = bk.read("Customer", h.qbo_id(realm, C.CUSTOMER, b))
	assert D(str(q_b["Balance"])) == sum((r["outstanding"] for r in led.open_balances(company)
		if r["customer"] == b), D(0))
	_ties(h, realm, company)


def test_customer_merge_in_qbo_seen_by_cdc_merges_here_without_review_items(harness):
	"""The bookkeeper merges the duplicate into Birch in QBO. CDC shows the duplicate deleted and its invoice
	moved: ERPNext merges the customers too (no "deleted in QuickBooks" item, no item per invoice)."""
	h = harness
	realm, company, month = _month(h)
	dup, inv = _duplicate_with_an_invoice(h, realm, company, month)
	b = month["customers"][1]
	h.bk(realm).merge("Customer", h.qbo_id(realm, C.CUSTOMER, dup), h.qbo_id(realm, C.CUSTOMER, b))
	h.engine.sync(realm)
	h.engine.sync(realm)
	_assert_merged(h, realm, company, month, dup, inv)


def test_customer_merge_webhook_with_deleted_id_merges_here(harness):
	"""The same merge announced by QBO's webhook ("Merge", deletedId), in both payload formats as the
	sandbox sends them and our parser reads them, then the next CDC pull: still no review item."""
	from nexora_qbo.qbo.webhooks import parse_events
	from nexora_qbo.sandbox.webhooks import build_payload

	h = harness
	realm, company, month = _month(h)
	dup, inv = _duplicate_with_an_invoice(h, realm, company, month)
	b = month["customers"][1]
	q_dup, q_b = h.qbo_id(realm, C.CUSTOMER, dup), h.qbo_id(realm, C.CUSTOMER, b)
	h.bk(realm).merge("Customer", q_dup, q_b)
	now = h.clock.now()
	for fmt in ("legacy", "cloudevents"):
		events = parse_events(build_payload(fmt, realm, [("Customer", q_b, "Merge", now, q_dup)]))
		assert [(e.operation, e.entity_id, e.deleted_id) for e in events] == [("Merge", q_b, q_dup)]
	counts = h.engine.pull_events(realm, events)
	assert counts.get("merged") == 1, counts
	h.engine.sync(realm)
	_assert_merged(h, realm, company, month, dup, inv)


def test_customer_merged_into_one_erpnext_does_not_know_re_points_the_mapping(harness):
	"""The bookkeeper creates "Birch Clinics Group" in QBO and merges the duplicate into it before ERPNext saw
	it: the duplicate's ERPNext customer is now linked to the QBO customer that stays (re-pointed mapping);
	its invoice keeps it, and QBO's name comes in as an edit."""
	h = harness
	realm, company, month = _month(h)
	dup, inv = _duplicate_with_an_invoice(h, realm, company, month)
	bk = h.bk(realm)
	group = bk.create("Customer", {"DisplayName": "Birch Clinics Group"})
	bk.merge("Customer", h.qbo_id(realm, C.CUSTOMER, dup), group["Id"])
	h.engine.sync(realm)
	h.engine.sync(realm)
	assert h.qbo_id(realm, C.CUSTOMER, dup) == group["Id"]
	assert h.ledger.get(company, C.CUSTOMER, dup)["display_name"] == "Birch Clinics Group"
	assert h.ledger.get(company, C.INVOICE, inv)["customer"] == dup
	assert _open(h, realm) == [], [(c.kind, c.local_id, c.reason) for c in _open(h, realm)]
	_ties(h, realm, company)


# ------------------------------------------------------------------------------------ bank deposits
UF, BANK, FEES = "Undeposited Funds - NX", "Bank - NX", "Bank Charges - NX"
CASH = [UF, BANK, FEES]


def _deposit_month(h, map_fees=True):
	"""The base month in a realm whose Undeposited Funds, bank and bank-fee accounts are mapped."""
	from month_end_checker import check_cash  # noqa: F401 (the checker these cases use)

	company, tag = ENTITIES[0]
	realm = h.new_realm(company)
	acc = h.seeds[realm]["accounts"]
	fee = h.bk(realm).create("Account", {"Name": "Bank Service Charges", "AccountType": "Expense"})["Id"]
	s = h.store.get_settings(realm)
	s.account_map.update({UF: acc["Undeposited Funds"], BANK: acc["Checking"]})
	if map_fees:
		s.account_map[FEES] = fee
	h.store.save_settings(s)
	return realm, company, play_base_month(h, realm, company, tag), fee


def _cash_ties(h, realm, company, expected: dict):
	"""Both books show the same cash in the same account: the checker's sums from QBO's own transactions, the
	ledger's balances and the sandbox's Account.CurrentBalance all agree, and equal `expected`."""
	from month_end_checker import check_cash

	cash = check_cash(h.bk(realm), h.store, h.ledger, realm, company, CASH)
	assert cash.differences == {}, cash.differences
	assert cash.erpnext == {a: D(v) for a, v in expected.items()}
	s = h.store.get_settings(realm)
	for local in (UF, BANK):
		assert D(str(h.bk(realm).read("Account", s.account_map[local])["CurrentBalance"])) == cash.qbo[local]
	return cash


def _qbo_deposit(h, realm, payment_ids, fee_account, fee, bank_id):
	bk = h.bk(realm)
	lines = [{"Amount": D(str(bk.read("Payment", p)["TotalAmt"])), "LinkedTxn": [{"TxnId": p, "TxnType": "Payment",
		"TxnLineId": "0"}]} for p in payment_ids]
	lines.append({"Amount": D(fee), "DetailType": "DepositLineDetail", "DepositLineDetail": {"AccountRef": {
		"value": fee_account}}})
	return bk.create("Deposit", {"DepositToAccountRef": {"value": bank_id}, "TxnDate": "2026-11-30", "Line": lines})


def test_qbo_bank_deposit_with_a_fee_moves_the_money_in_erpnext_and_follows_edits(harness):
	"""The bookkeeper deposits Anvil's 1000 (sent from ERPNext) and Birch's 1000 (recorded in QBO) to the bank,
	net of a 12.50 bank fee: ERPNext moves the same money out of Undeposited Funds, the fee to its expense
	account; her later edit of the fee and her deletion of the deposit are followed."""
	h = harness
	realm, company, month, fee = _deposit_month(h)
	led, bk = h.ledger, h.bk(realm)
	_cash_ties(h, realm, company, {UF: "2055.00", BANK: "0.00", FEES: "0.00"})
	qbo_pays = [p["Id"] for p in bk.query("select * from Payment").get("Payment", []) if D(str(p["TotalAmt"])) == 1000]
	assert len(qbo_pays) == 2
	dep = _qbo_deposit(h, realm, qbo_pays, fee, "-12.50", h.seeds[realm]["accounts"]["Checking"])
	h.engine.sync(realm)
	m = h.store.get_mapping_by_qbo(realm, "Deposit", dep["Id"])
	local = led.get(company, C.DEPOSIT, m.local_id)
	assert local["total"] == D("1987.50") and local["fees"] == [{"account": FEES, "amount": D("-12.50")}]
	assert sorted(p["doc_key"] for p in local["payments"]) == sorted(
		h.store.get_mapping_by_qbo(realm, "Payment", q).local_id for q in qbo_pays)
	_ties(h, realm, company)
	_cash_ties(h, realm, company, {UF: "55.00", BANK: "1987.50", FEES: "12.50"})
	assert _open(h, realm) == []
	# the bookkeeper corrects the fee in QBO: followed here
	dep = bk.read("Deposit", dep["Id"])
	lines = [ln for ln in dep["Line"] if ln.get("LinkedTxn")] + [{"Amount": D("-15.00"), "DetailType": "DepositLineDetail",
		"DepositLineDetail": {"AccountRef": {"value": fee}}}]
	bk.update("Deposit", dep["Id"], {"Line": lines})
	h.engine.sync(realm)
	_cash_ties(h, realm, company, {UF: "55.00", BANK: "1985.00", FEES: "15.00"})
	assert _open(h, realm) == []
	# and deletes it: the money is back in Undeposited Funds in both books
	bk.delete("Deposit", dep["Id"])
	h.engine.sync(realm)
	assert led.get(company, C.DEPOSIT, h.store.get_mapping_by_qbo(realm, "Deposit", dep["Id"]).local_id)["state"] == "cancelled"
	_cash_ties(h, realm, company, {UF: "2055.00", BANK: "0.00", FEES: "0.00"})
	_ties(h, realm, company)
	assert _open(h, realm) == []


def test_erpnext_deposit_with_a_fee_becomes_a_qbo_deposit_of_the_qbo_payments(harness):
	"""ERPNext deposits a payment received today (not in QBO yet: the deposit waits for it, then links it) and
	Anvil's 1000 from the month, less a 20.00 card fee: QBO gets one Deposit linking both QBO payments, the
	payments leave Undeposited Funds there too; cancelling the deposit in ERPNext deletes it in QBO."""
	h = harness
	realm, company, month, fee = _deposit_month(h)
	led, bk = h.ledger, h.bk(realm)
	a = month["customers"][0]
	inv = led.submit_invoice(company, a, [{"item": month["item"], "qty": "20", "rate": "45.00"}], "2026-11-27")
	new_pay = led.record_payment(company, a, "900.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "900.00"}],
		"2026-11-28", deposit_account=UF)
	old_pay = next(p for p in led.list_all(company, C.PAYMENT) if led.get(company, C.PAYMENT, p)["total"] == 1000
		and h.store.get_mapping(realm, C.PAYMENT, p).origin != C.ORIGIN_QBO)
	dep = led.record_deposit(company, BANK, [old_pay, new_pay], "2026-11-29", fees=[{"account": FEES, "amount": "-20.00"}])
	h.engine.sync(realm)
	q = bk.read("Deposit", h.qbo_id(realm, C.DEPOSIT, dep))
	assert D(str(q["TotalAmt"])) == D("1880.00")
	assert sorted(lt["TxnId"] for ln in q["Line"] for lt in ln.get("LinkedTxn") or []) == sorted(
		[h.qbo_id(realm, C.PAYMENT, old_pay), h.qbo_id(realm, C.PAYMENT, new_pay)])
	assert bk.read("Payment", h.qbo_id(realm, C.PAYMENT, new_pay))["LinkedTxn"] == [{"TxnId": q["Id"], "TxnType": "Deposit"}]
	h.engine.sync(realm)
	assert _open(h, realm) == []
	_ties(h, realm, company)
	_cash_ties(h, realm, company, {UF: "1055.00", BANK: "1880.00", FEES: "20.00"})
	led.cancel(company, C.DEPOSIT, dep)
	h.engine.sync(realm)
	assert bk.query(f"select * from Deposit where Id = '{q['Id']}'").get("Deposit", []) == []
	_cash_ties(h, realm, company, {UF: "2955.00", BANK: "0.00", FEES: "0.00"})
	_ties(h, realm, company)


def test_deposit_with_an_unmapped_fee_account_is_a_review_item_in_both_directions(harness):
	"""Nothing is dropped and no account is guessed: an unmapped fee account stops the deposit with one review
	item naming it and the next step; once mapped, "Retry" books it and both books agree."""
	h = harness
	realm, company, month, fee = _deposit_month(h, map_fees=False)
	bk = h.bk(realm)
	qbo_pays = [p["Id"] for p in bk.query("select * from Payment").get("Payment", []) if D(str(p["TotalAmt"])) == 1000]
	dep = _qbo_deposit(h, realm, qbo_pays[:1], fee, "-12.50", h.seeds[realm]["accounts"]["Checking"])
	h.engine.sync(realm)
	items = _open(h, realm)
	assert [(c.kind, c.qbo_entity, c.qbo_id) for c in items] == [("missing_reference", "Deposit", dep["Id"])]
	assert f"account {fee}" in items[0].reason and "not mapped" in items[0].reason and "Retry" in items[0].reason
	assert h.store.get_mapping_by_qbo(realm, "Deposit", dep["Id"]) is None
	from month_end_checker import check_cash

	assert set(check_cash(bk, h.store, h.ledger, realm, company, CASH).differences) == {UF, BANK}
	s = h.store.get_settings(realm)
	s.account_map[FEES] = fee
	h.store.save_settings(s)
	h.engine.resolve_conflict(items[0].id, C.ACTION_RETRY, "bookkeeper")
	assert _open(h, realm) == []
	_cash_ties(h, realm, company, {UF: "1055.00", BANK: "987.50", FEES: "12.50"})
	# the other way: an ERPNext deposit whose fee account QBO does not know waits in review, never sent without it
	led = h.ledger
	other = h.store.get_mapping_by_qbo(realm, "Payment", qbo_pays[1]).local_id
	local_dep = led.record_deposit(company, BANK, [other], "2026-11-30", fees=[{"account": "Card Fees - NX", "amount": "-5.00"}])
	h.engine.sync(realm)
	items = _open(h, realm)
	assert [(c.kind, c.local_id) for c in items] == [("missing_reference", local_dep)]
	assert "Card Fees - NX" in items[0].reason and "Retry" in items[0].reason
	assert h.store.get_mapping(realm, C.DEPOSIT, local_dep) is None


# ---------------------------------------------------------------------------------- foreign currency
INVOICE_DAY, PAYMENT_DAY = "2026-11-21", "2026-11-25"
INVOICE_RATE, PAYMENT_RATE = D("1.08"), D("1.10")  # USD per EUR, the rate source's rates of the two days


def _eur_month(h, rate_source):
	"""The base month in a multicurrency realm with the given rate source, plus a EUR customer."""
	company, tag = ENTITIES[0]
	# the sync start date keeps the month's rate days in reach however far other tests moved the sandbox clock
	realm = h.new_realm(company, multicurrency=True, rate_source=rate_source, sync_start_date=date(2026, 11, 1))
	month = play_base_month(h, realm, company, tag)
	rhein = h.ledger.create_customer(company, f"Rhein Zeitarbeit {tag}", currency="EUR", email="ap@rhein.example")
	return realm, company, month, rhein


def _assert_ties_in_both_currencies(h, realm, company, rhein):
	from month_end_checker import check_home

	_ties(h, realm, company)
	home = check_home(h.bk(realm), h.store, h.ledger, realm, company)
	assert home.differences == [], home.differences
	result = h.engine.tie_out(realm)
	rows = [r for r in result.documents if r.customer == rhein]
	assert rows and all((r.difference, r.difference_home) == (0, 0) for r in rows), rows
	cust = next(c for c in result.customers if c.local_id == rhein)
	assert (cust.erpnext, cust.qbo, cust.erpnext_home, cust.qbo_home) == (D("150.00"), D("150.00"), D("162.00"),
		D("162.00"))
	assert result.totals()["home"]["difference"] == 0
	return result


def _gains_agree(h, realm, company, pay_local, expected):
	qbo_pay = h.qbo_id(realm, C.PAYMENT, pay_local)
	gains = {p["Id"]: D(str(p["ExchangeGainLoss"])) for p in h.bk(realm).exchange_gains()["Payments"]}
	assert h.ledger.exchange_gain_loss(company, pay_local) == gains[qbo_pay] == expected


def test_foreign_invoice_paid_at_another_rate_erpnext_rate_source(harness):
	"""ERPNext's Currency Exchange is the realm's rate source: the EUR invoices go out at its 1.08, its rate of
	the payment day (1.10) reaches QuickBooks' rate table, so the payment the bookkeeper records in QuickBooks
	(no rate typed) is at 1.10 too; both books realize the same 24.00 gain and tie in EUR and in USD."""
	h = harness
	realm, company, month, rhein = _eur_month(h, C.RATE_SOURCE_ERPNEXT)
	led, bk = h.ledger, h.bk(realm)
	led.set_exchange_rate(company, "EUR", INVOICE_DAY, INVOICE_RATE)
	led.set_exchange_rate(company, "EUR", PAYMENT_DAY, PAYMENT_RATE)
	line = lambda qty: [{"item": month["item"], "qty": qty, "rate": "45.00"}]  # noqa: E731
	inv1 = led.submit_invoice(company, rhein, line("20"), INVOICE_DAY, currency="EUR")  # 900 EUR = 972 USD
	inv2 = led.submit_invoice(company, rhein, line("10"), INVOICE_DAY, currency="EUR")  # 450 EUR = 486 USD
	h.engine.sync(realm)
	q1 = bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv1))
	assert (D(str(q1["ExchangeRate"])), D(str(q1["HomeTotalAmt"]))) == (INVOICE_RATE, D("972.00"))
	rate = bk._call("GET", "/exchangerate", params={"sourcecurrencycode": "EUR", "asofdate": PAYMENT_DAY})
	assert D(str(rate["ExchangeRate"]["Rate"])) == PAYMENT_RATE
	pay = bk.create("Payment", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, rhein)}, "TotalAmt": D("1200.00"),
		"TxnDate": PAYMENT_DAY, "Line": [
			{"Amount": D("900.00"), "LinkedTxn": [{"TxnId": q1["Id"], "TxnType": "Invoice"}]},
			{"Amount": D("300.00"), "LinkedTxn": [{"TxnId": h.qbo_id(realm, C.INVOICE, inv2), "TxnType": "Invoice"}]}]})
	assert D(str(pay["ExchangeRate"])) == PAYMENT_RATE
	h.engine.sync(realm)
	local = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"]).local_id
	assert led.get(company, C.PAYMENT, local)["exchange_rate"] == PAYMENT_RATE
	# 900 x (1.10 - 1.08) + 300 x (1.10 - 1.08)
	_gains_agree(h, realm, company, local, D("24.00"))
	_assert_ties_in_both_currencies(h, realm, company, rhein)


def test_foreign_invoice_paid_at_another_rate_qbo_rate_source(harness):
	"""QuickBooks' rate of the day is the realm's rate source: a sync brings its 1.08 and 1.10 into ERPNext's
	Currency Exchange before the documents are made there; the invoices and the ERPNext payment take them, go
	out with them, and both books realize the same 24.00 gain and tie in EUR and in USD."""
	h = harness
	realm, company, month, rhein = _eur_month(h, C.RATE_SOURCE_QBO)
	led, bk = h.ledger, h.bk(realm)
	bk.set_exchange_rate("EUR", INVOICE_DAY, INVOICE_RATE)
	bk.set_exchange_rate("EUR", PAYMENT_DAY, PAYMENT_RATE)
	h.engine.sync(realm)
	assert (led.exchange_rate(company, "EUR", INVOICE_DAY, exact=True),
		led.exchange_rate(company, "EUR", PAYMENT_DAY, exact=True)) == (INVOICE_RATE, PAYMENT_RATE)
	line = lambda qty: [{"item": month["item"], "qty": qty, "rate": "45.00"}]  # noqa: E731
	inv1 = led.submit_invoice(company, rhein, line("20"), INVOICE_DAY, currency="EUR")
	inv2 = led.submit_invoice(company, rhein, line("10"), INVOICE_DAY, currency="EUR")
	h.engine.sync(realm)
	pay = led.record_payment(company, rhein, "1200.00", [{"doc_type": C.INVOICE, "doc_key": inv1, "amount": "900.00"},
		{"doc_type": C.INVOICE, "doc_key": inv2, "amount": "300.00"}], PAYMENT_DAY, currency="EUR")
	assert led.get(company, C.PAYMENT, pay)["exchange_rate"] == PAYMENT_RATE
	h.engine.sync(realm)
	q = bk.read("Payment", h.qbo_id(realm, C.PAYMENT, pay))
	assert (D(str(q["ExchangeRate"])), D(str(q["HomeTotalAmt"]))) == (PAYMENT_RATE, D("1320.00"))
	_gains_agree(h, realm, company, pay, D("24.00"))
	_assert_ties_in_both_currencies(h, realm, company, rhein)
	# a EUR invoice the bookkeeper makes in QuickBooks at a typed rate: that rate becomes ERPNext's for its day
	created = bk.create("Invoice", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, rhein)}, "TxnDate": "2026-11-27",
		"ExchangeRate": D("1.095"), "Line": [{"Amount": D("45.00"), "DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": h.qbo_id(realm, C.ITEM, month["item"])}, "Qty": 1,
			"UnitPrice": D("45.00")}}]})
	h.engine.sync(realm)
	assert led.exchange_rate(company, "EUR", "2026-11-27", exact=True) == D("1.095")
	m = h.store.get_mapping_by_qbo(realm, "Invoice", created["Id"])
	assert led.get(company, C.INVOICE, m.local_id)["exchange_rate"] == D("1.095")


def test_home_amount_rounded_per_line_is_a_flagged_difference_not_a_silent_one(harness):
	"""ERPNext adds each line's rounded home amount (1674.12 + 237.72 = 1911.84); QuickBooks rounds
	TotalAmt x ExchangeRate once (1748.04 x 1.0937 = 1911.83). The tie-out shows the cent on the invoice with
	its cause, rounding, and on the customer as the sum of its documents: never as "no difference", never as a
	revaluation, never as an unexplained review item."""
	h = harness
	realm, company, month, rhein = _eur_month(h, C.RATE_SOURCE_ERPNEXT)
	led = h.ledger
	led.create_item(company, "Overtime Hours NX", rate="62.10", income_account="Sales - NX")
	inv = led.submit_invoice(company, rhein, [{"item": month["item"], "qty": "37", "rate": "41.37"},
		{"item": "Overtime Hours NX", "qty": "3.5", "rate": "62.10"}], INVOICE_DAY, currency="EUR",
		exchange_rate="1.0937")
	h.engine.sync(realm)
	q = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	assert (D(str(q["TotalAmt"])), D(str(q["HomeTotalAmt"]))) == (D("1748.04"), D("1911.83"))
	result = h.engine.tie_out(realm)
	row = next(r for r in result.documents if r.local_id == inv)
	assert (row.erpnext, row.qbo, row.erpnext_home, row.qbo_home) == (D("1748.04"), D("1748.04"), D("1911.84"),
		D("1911.83"))
	assert row.cause == C.CAUSE_HOME_ROUNDING and "0.01" in row.explanation and "round" in row.explanation
	cust = next(c for c in result.customers if c.local_id == rhein)
	assert (cust.difference, cust.difference_home, cust.cause) == (0, D("0.01"), C.CAUSE_DOCUMENTS)
	assert result.unexplained_count == 0
	assert result.totals()["home"]["difference"] == D("0.01")
	assert _open(h, realm) == []


# ------------------------------------------------------------- customer merge without webhook or transactions
def _duplicate_without_transactions(h, realm, company, month, email):
	"""Birch keyed a second time in ERPNext (same e-mail) and sent to QuickBooks, never billed."""
	dup = h.ledger.create_customer(company, "Birch Clinic (second entry)", email=email)
	h.engine.export_master(realm, C.CUSTOMER, dup)
	h.engine.sync(realm)
	h.qbo_id(realm, C.CUSTOMER, dup)
	return dup


def _assert_merged_without_items(h, realm, company, month, dup):
	b = month["customers"][1]
	assert h.ledger.get(company, C.CUSTOMER, dup) is None
	assert h.ledger.get(company, C.CUSTOMER, b) is not None
	assert h.store.get_mapping(realm, C.CUSTOMER, dup) is None
	assert _open(h, realm) == [], [(c.kind, c.local_id, c.reason) for c in _open(h, realm)]
	_ties(h, realm, company)


def test_merge_of_a_customer_without_transactions_seen_only_by_cdc_merges_here(harness):
	"""No webhook, and no transaction that moved: CDC shows only the duplicate's deleted stub. QuickBooks never
	deletes a customer, so it was merged; the one active customer with its e-mail address is the survivor."""
	h = harness
	realm, company, month = _month(h)
	b = month["customers"][1]
	email = h.ledger.get(company, C.CUSTOMER, b)["email"]
	dup = _duplicate_without_transactions(h, realm, company, month, email)
	h.bk(realm).merge("Customer", h.qbo_id(realm, C.CUSTOMER, dup), h.qbo_id(realm, C.CUSTOMER, b))
	counts = h.engine.pull(realm)
	assert counts.get("merged") == 1, counts
	_assert_merged_without_items(h, realm, company, month, dup)


def test_merge_found_only_by_the_id_sweep_past_the_cdc_window_merges_here(harness, sandbox):
	"""The sync was off for more than QuickBooks' 30-day CDC window: the merged duplicate is simply no longer
	found by the Id sweep. Still a merge (never a deletion), followed the same way."""
	h = harness
	realm, company, month = _month(h)
	b = month["customers"][1]
	email = h.ledger.get(company, C.CUSTOMER, b)["email"]
	dup = _duplicate_without_transactions(h, realm, company, month, email)
	h.bk(realm).merge("Customer", h.qbo_id(realm, C.CUSTOMER, dup), h.qbo_id(realm, C.CUSTOMER, b))
	sandbox.advance_clock(days=31)
	h.renew_bookkeeper(realm)
	counts = h.engine.pull(realm)
	assert counts.get("swept_merged") == 1, counts
	_assert_merged_without_items(h, realm, company, month, dup)


def test_merge_without_evidence_of_the_survivor_is_not_guessed(harness):
	"""Nothing identifies the survivor (another name, another e-mail, no transaction): nothing is merged in
	ERPNext; one review item says the customer is gone from QuickBooks."""
	h = harness
	realm, company, month = _month(h)
	b = month["customers"][1]
	dup = _duplicate_without_transactions(h, realm, company, month, "someone@else.example")
	h.bk(realm).merge("Customer", h.qbo_id(realm, C.CUSTOMER, dup), h.qbo_id(realm, C.CUSTOMER, b))
	h.engine.pull(realm)
	assert h.ledger.get(company, C.CUSTOMER, dup) is not None
	assert [(c.kind, c.local_id) for c in _open(h, realm)] == [("remote_delete", dup)]


# ------------------------------------------------------------------------------------------- refunds
def _books_income_and_cash_tie(h, realm, company):
	"""Income and the cash refunded, computed independently on each side (month_end_checker.py), are equal."""
	qbo, local = qbo_income(h.bk(realm)), ledger_income(h.ledger, company)
	assert qbo == local, (qbo, local)
	s = h.store.get_settings(realm)
	out_local = {s.account_map.get(acct, acct): amount for acct, amount in ledger_refunds_out(h.ledger, company).items()}
	assert qbo_refunds_out(h.bk(realm)) == out_local
	return qbo


def _with_checking(h, realm):
	s = h.store.get_settings(realm)
	s.account_map["Checking - NX"] = h.seeds[realm]["accounts"]["Checking"]
	h.store.save_settings(s)
	return h.seeds[realm]["accounts"]["Checking"]


def test_refund_of_a_credit_note_made_in_erpnext_ties_and_leaves_income_alone(harness):
	"""ERPNext pays a credit note out (Payment Entry "Pay" to the customer, against the return invoice): QBO gets
	a journal entry (A/R for the customer, out of the mapped bank) linked to the credit memo by a zero payment,
	so the credit memo's balance is 0 there too, the customer ties, and income is what the credit note made it
	in both books (a refund receipt would take the revenue back a second time)."""
	h = harness
	realm, company, month = _month(h)
	checking = _with_checking(h, realm)
	led, bk = h.ledger, h.bk(realm)
	a = month["customers"][0]
	note = led.submit_credit_note(company, a, [{"item": month["item"], "qty": "2", "rate": "60.00"}], "2026-11-23")
	h.engine.sync(realm)
	income_before = _books_income_and_cash_tie(h, realm, company)
	refund = led.record_refund(company, a, "120.00", [{"doc_key": note, "amount": "120.00"}], "2026-11-24",
		reference="CHK 1042", paid_from="Checking - NX")
	assert led.get(company, C.CREDIT_MEMO, note)["outstanding"] == 0
	h.engine.sync(realm)
	h.engine.sync(realm)
	cm = bk.read("CreditMemo", h.qbo_id(realm, C.CREDIT_MEMO, note))
	assert D(str(cm["Balance"])) == 0
	je = bk.read("JournalEntry", h.qbo_id(realm, C.REFUND, refund))
	debit, credit = je["Line"]
	assert debit["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == h.qbo_id(realm, C.CUSTOMER, a)
	assert credit["JournalEntryLineDetail"]["AccountRef"]["value"] == checking and D(str(credit["Amount"])) == D("120.00")
	assert "CHK 1042" in debit["Description"]
	assert not bk.query("select * from RefundReceipt").get("RefundReceipt")
	assert _books_income_and_cash_tie(h, realm, company) == income_before  # the refund moved no income
	_ties(h, realm, company)
	assert _open(h, realm) == []
	# the linking payment and the journal entry are ours: the next pull books nothing twice
	counts = h.engine.pull(realm)
	assert counts.get("imported", 0) == 0 and counts.get("held", 0) == 0 and counts.get("parked", 0) == 0, counts
	assert led.list_all(company, C.REFUND) == [refund]
	assert not [p for p in led.list_all(company, C.PAYMENT) if any(x["doc_key"] == note
		for x in led.get(company, C.PAYMENT, p)["applications"])]
	_ties(h, realm, company)
	# the refund cancelled in ERPNext: the linking payment and the journal entry leave QBO, the credit is back
	led.cancel(company, C.REFUND, refund)
	assert led.get(company, C.CREDIT_MEMO, note)["outstanding"] == D("120.00")
	h.engine.sync(realm)
	assert D(str(bk.read("CreditMemo", h.qbo_id(realm, C.CREDIT_MEMO, note))["Balance"])) == D("120.00")
	assert not bk.query("select * from JournalEntry").get("JournalEntry")
	assert _open(h, realm) == []
	assert _books_income_and_cash_tie(h, realm, company) == income_before
	_ties(h, realm, company)


def test_refund_receipt_made_in_qbo_comes_back_as_a_paid_out_credit_note(harness):
	"""The bookkeeper refunds a sale in QBO with a refund receipt (item lines, out of Checking, cheque 77):
	ERPNext books a credit note with the same lines, paid out at once from the account mapped to Checking, so
	income, the bank and the customer's balance move the same in both books."""
	h = harness
	realm, company, month = _month(h)
	checking = _with_checking(h, realm)
	led, bk = h.ledger, h.bk(realm)
	a = month["customers"][1]
	cust, item = h.qbo_id(realm, C.CUSTOMER, a), h.qbo_id(realm, C.ITEM, month["item"])
	income_before = _books_income_and_cash_tie(h, realm, company)
	rr = bk.create("RefundReceipt", {"CustomerRef": {"value": cust}, "TxnDate": "2026-11-24", "PaymentRefNum": "CHK 77",
		"DepositToAccountRef": {"value": checking}, "Line": [{"Amount": D("90.00"), "DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 2, "UnitPrice": D("45.00")}}]})
	h.engine.sync(realm)
	m = h.store.get_mapping_by_qbo(realm, "RefundReceipt", rr["Id"])
	assert m is not None and m.origin == C.ORIGIN_QBO and m.local_type == C.REFUND_RECEIPT
	doc = led.get(company, C.REFUND_RECEIPT, m.local_id)
	assert (doc["total"], doc["paid_from"], doc["reference"], doc["outstanding"]) == (D("90.00"), "Checking - NX", "CHK 77", 0)
	assert _books_income_and_cash_tie(h, realm, company) == income_before - D("90.00")
	assert [(ln["item"], ln["qty"], ln["rate"]) for ln in doc["lines"]] == [(month["item"], D("2"), D("45"))]
	_ties(h, realm, company)
	assert _open(h, realm) == []
	h.engine.sync(realm)  # nothing twice
	assert led.list_all(company, C.REFUND_RECEIPT) == [m.local_id]
	assert led.list_all(company, C.REFUND) == []


def test_refund_of_credit_made_in_qbo_is_a_review_item_in_words(harness):
	"""The bookkeeper refunds a credit memo in QBO (a journal entry to A/R, then Receive payment linking it and the
	credit memo): the payment is not booked in ERPNext as money received; a review item says what to do."""
	h = harness
	realm, company, month = _month(h)
	checking = _with_checking(h, realm)
	bk = h.bk(realm)
	b = month["customers"][1]
	cust = h.qbo_id(realm, C.CUSTOMER, b)
	cn = next(n for n in h.ledger.list_all(company, C.CREDIT_MEMO) if h.ledger.get(company, C.CREDIT_MEMO, n)["customer"] == b)
	ar = bk.query("select * from Account where AccountType = 'Accounts Receivable'")["Account"][0]["Id"]
	je = bk.create("JournalEntry", {"TxnDate": "2026-11-24", "Line": [
		{"DetailType": "JournalEntryLineDetail", "Amount": D("45.00"), "JournalEntryLineDetail": {"PostingType": "Debit",
			"AccountRef": {"value": ar}, "Entity": {"Type": "Customer", "EntityRef": {"value": cust}}}},
		{"DetailType": "JournalEntryLineDetail", "Amount": D("45.00"), "JournalEntryLineDetail": {"PostingType": "Credit",
			"AccountRef": {"value": checking}}}]})
	bk.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": D("0"), "TxnDate": "2026-11-24", "Line": [
		{"Amount": D("45.00"), "LinkedTxn": [{"TxnId": je["Id"], "TxnType": "JournalEntry"}]},
		{"Amount": D("45.00"), "LinkedTxn": [{"TxnId": h.qbo_id(realm, C.CREDIT_MEMO, cn), "TxnType": "CreditMemo"}]}]})
	before = {p: h.ledger.get(company, C.PAYMENT, p) for p in h.ledger.list_all(company, C.PAYMENT)}
	h.engine.sync(realm)
	assert {p: h.ledger.get(company, C.PAYMENT, p) for p in h.ledger.list_all(company, C.PAYMENT)} == before
	assert h.ledger.get(company, C.CREDIT_MEMO, cn)["outstanding"] == D("45.00")  # ERPNext's book is untouched
	items = _open(h, realm)
	assert len(items) == 1 and "Payment Entry (Pay)" in items[0].reason, [i.reason for i in items]
	for word in ("amend_local", "keep_local", "JournalEntry", "{"):
		assert word not in items[0].reason
	check, _ = _assert_month_ties(h, realm, company)  # the difference it leaves is covered by that item
	assert check.uncovered == []


def test_refund_in_erpnext_of_no_credit_note_is_a_review_item_in_words(harness):
	"""An ERPNext refund of an unallocated advance has no credit memo to link in QBO: a review item, nothing sent."""
	h = harness
	realm, company, month = _month(h)
	a = month["customers"][0]
	refund = h.ledger.record_refund(company, a, "40.00", [], "2026-11-24", paid_from="Checking - NX")
	h.engine.sync(realm)
	assert h.store.get_mapping(realm, C.REFUND, refund) is None
	items = _open(h, realm)
	assert len(items) == 1 and "pays out no credit note" in items[0].reason
	assert not h.bk(realm).query("select * from JournalEntry").get("JournalEntry")


def test_erpnext_document_at_its_own_rate_under_qbo_rate_source_is_sent_at_it_and_shown(harness):
	"""QuickBooks is the rate source (1.08 on the invoice day), but the bookkeeper typed 1.0937 on an ERPNext EUR
	invoice. It goes to QuickBooks at 1.0937 (ERPNext booked it so; QuickBooks' copy then agrees with ERPNext's
	ledger in EUR and in USD), and one informational review item names both rates instead of passing silently."""
	h = harness
	realm, company, month, rhein = _eur_month(h, C.RATE_SOURCE_QBO)
	led, bk = h.ledger, h.bk(realm)
	bk.set_exchange_rate("EUR", INVOICE_DAY, INVOICE_RATE)
	h.engine.sync(realm)
	assert led.exchange_rate(company, "EUR", INVOICE_DAY, exact=True) == INVOICE_RATE
	inv = led.submit_invoice(company, rhein, [{"item": month["item"], "qty": "20", "rate": "45.00"}], INVOICE_DAY,
		currency="EUR", exchange_rate="1.0937")
	h.engine.sync(realm)
	q = bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	assert (D(str(q["ExchangeRate"])), D(str(q["HomeTotalAmt"]))) == (D("1.0937"), D("984.33"))
	items = [c for c in _open(h, realm) if c.local_id == inv]
	assert [c.kind for c in items] == [C.KIND_RATE_DIFFERS], [(c.kind, c.reason) for c in _open(h, realm)]
	reason = items[0].reason
	assert "sent at ERPNext's rate 1.0937" in reason and f"QuickBooks' rate for {INVOICE_DAY} is 1.08" in reason
	assert "agree" in reason and "amend_local" not in reason and "keep_local" not in reason
	assert C.CONFLICT_KIND_WORDS[C.KIND_RATE_DIFFERS]
	_ties(h, realm, company)
	result = h.engine.tie_out(realm)
	row = next(r for r in result.documents if r.local_id == inv)
	assert (row.erpnext, row.qbo, row.erpnext_home, row.qbo_home) == (D("900.00"), D("900.00"), D("984.33"),
		D("984.33"))
	assert result.unexplained_count == 0
	# a document at QuickBooks' own rate of its day opens nothing
	inv2 = led.submit_invoice(company, rhein, [{"item": month["item"], "qty": "2", "rate": "45.00"}], INVOICE_DAY,
		currency="EUR")
	h.engine.sync(realm)
	assert D(str(bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv2))["ExchangeRate"])) == INVOICE_RATE
	assert [c for c in _open(h, realm) if c.local_id == inv2] == []


def test_erpnext_payment_into_an_unmapped_account_is_a_review_item_never_qbo_default(harness):
	"""ERPNext received a payment into an account the realm does not map: sending it would put the money in
	QBO's default (Undeposited Funds) while ERPNext has it in that account, so the cash per account would differ
	in silence. It waits as one review item naming the account; once mapped, "Retry" sends it to that account
	and both books show the same cash in the same accounts."""
	h = harness
	realm, company, month, fee = _deposit_month(h)
	led, bk = h.ledger, h.bk(realm)
	petty = "Petty Cash - NX"
	a = month["customers"][0]
	inv = led.submit_invoice(company, a, [{"item": month["item"], "qty": "20", "rate": "45.00"}], "2026-11-27")
	pay = led.record_payment(company, a, "900.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "900.00"}],
		"2026-11-28", deposit_account=petty)
	h.engine.sync(realm)
	items = _open(h, realm)
	assert [(c.kind, c.local_type, c.local_id) for c in items] == [("missing_reference", C.PAYMENT, pay)]
	assert f"\u201c{petty}\u201d" in items[0].reason and "not mapped" in items[0].reason and "Retry" in items[0].reason
	assert h.store.get_mapping(realm, C.PAYMENT, pay) is None
	from month_end_checker import check_cash

	cash = check_cash(bk, h.store, h.ledger, realm, company, [UF, BANK, petty])
	assert cash.qbo[UF] == D("2055.00")  # not silently in Undeposited Funds
	assert cash.differences == {petty: (D("900.00"), D("0.00"))}
	q_petty = bk.create("Account", {"Name": "Petty Cash", "AccountType": "Bank"})["Id"]
	s = h.store.get_settings(realm)
	s.account_map[petty] = q_petty
	h.store.save_settings(s)
	h.engine.resolve_conflict(items[0].id, C.ACTION_RETRY, "bookkeeper")
	h.engine.sync(realm)
	assert _open(h, realm) == []
	assert bk.read("Payment", h.qbo_id(realm, C.PAYMENT, pay))["DepositToAccountRef"]["value"] == q_petty
	cash = check_cash(bk, h.store, h.ledger, realm, company, [UF, BANK, petty])
	assert cash.differences == {}, cash.differences
	assert cash.erpnext == {UF: D("2055.00"), BANK: D("0.00"), petty: D("900.00")}
	assert D(str(bk.read("Account", q_petty)["CurrentBalance"])) == D("900.00")
	_ties(h, realm, company)
