"""Issue 13, real receivables, as cases of the month-end scenario (SQLite ledger, sandbox over HTTP).

Each test plays the base month of tests/sync/test_month_end.py in one entity, adds one receivables case,
and asserts with the same independent checker (month_end_checker.py) that each invoice's QBO Balance equals
its ERPNext outstanding and each customer's QBO Balance equals ERPNext's, to the cent, with the app's own
tie-out at 0 unexplained. Each fails without its change (see the issue-13 note in sync/README.md)."""
from __future__ import annotations

from decimal import Decimal

from month_end_checker import check_month_end
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
