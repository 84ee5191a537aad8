"""Issue 7 §3: opening balances at go-live, previewed, corrected by a person, then run as confirmed.

The QBO company (sandbox seed: Acme Logistics, Bluebonnet Health, Lone Star Manufacturing) has open
invoices, a partly paid invoice, an unused credit memo and an unapplied payment dated before the go-live
date. ERPNext already has Acme (same email) and "Blue Bonnet Clinic", which a person knows is Bluebonnet.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import golive as G

CO = "Nexora Staffing Inc"


def _line(seed, amount, qty=1):
	return {"DetailType": "SalesItemLineDetail", "Amount": Decimal(amount), "SalesItemLineDetail": {
		"ItemRef": {"value": seed["items"]["Staffing Hours"]}, "Qty": qty, "UnitPrice": Decimal(amount) / qty}}


def _paid(bk, customer_id, amount, invoice_id, txn_date):
	return bk.create("Payment", {"CustomerRef": {"value": customer_id}, "TotalAmt": Decimal(amount),
		"TxnDate": txn_date, "Line": [{"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]})


def _books_before_go_live(h, sandbox):
	"""A realm going live today, its QBO history, and the ERPNext records that exist already."""
	today = sandbox.clock.now().date()
	realm = h.new_realm(sync_start_date=today)
	seed, bk = h.seeds[realm], h.bk(realm)
	before = (today - timedelta(days=20)).isoformat()
	cust = seed["customers"]
	docs = {
		"acme_inv": bk.create("Invoice", {"CustomerRef": {"value": cust["Acme Logistics"]}, "TxnDate": before,
			"DocNumber": "1001", "Line": [_line(seed, "450.00", 10)]}),
		"blue_inv": bk.create("Invoice", {"CustomerRef": {"value": cust["Bluebonnet Health"]}, "TxnDate": before,
			"DocNumber": "1002", "Line": [_line(seed, "300.00")]}),
		"lone_inv": bk.create("Invoice", {"CustomerRef": {"value": cust["Lone Star Manufacturing"]},
			"TxnDate": before, "DocNumber": "1003", "Line": [_line(seed, "90.00")]}),
		"lone_cm": bk.create("CreditMemo", {"CustomerRef": {"value": cust["Lone Star Manufacturing"]},
			"TxnDate": before, "DocNumber": "CM-7", "Line": [_line(seed, "40.00")]}),
	}
	paid = bk.create("Invoice", {"CustomerRef": {"value": cust["Acme Logistics"]}, "TxnDate": before,
		"DocNumber": "0999", "Line": [_line(seed, "120.00")]})
	_paid(bk, cust["Acme Logistics"], "120.00", paid["Id"], before)  # fully paid: nothing open
	_paid(bk, cust["Bluebonnet Health"], "100.00", docs["blue_inv"]["Id"], before)  # 200.00 still open
	docs["acme_unapplied"] = bk.create("Payment", {"CustomerRef": {"value": cust["Acme Logistics"]},
		"TotalAmt": Decimal("30.00"), "TxnDate": before, "Line": []})
	acme = h.ledger.create_customer(CO, "Acme Logistics", email="AP@acme-logistics.example")
	clinic = h.ledger.create_customer(CO, "Blue Bonnet Clinic", email="office@blue-bonnet-clinic.example")
	return realm, docs, acme, clinic


def _ledger_rows(h) -> int:
	return h.store.db.query("SELECT COUNT(*) AS n FROM ledger_doc")[0]["n"]


def _writes(h, realm) -> list:
	return [a for a in h.store.list_audit(realm) if a.operation not in ("query", "read", "cdc", "preferences")]


def test_the_preview_lists_what_would_happen_and_writes_nothing(harness, sandbox):
	h = harness
	realm, docs, acme, clinic = _books_before_go_live(h, sandbox)
	rows_before, audit_before = _ledger_rows(h), len(h.store.list_audit(realm))
	plan = h.engine.go_live_preview(realm)
	assert _ledger_rows(h) == rows_before
	assert h.store.list_mappings(realm) == [] and h.store.list_outbox(realm) == []
	assert h.store.get_cursor(realm) is None and h.store.list_events(realm) == []
	assert len(h.store.list_audit(realm)) > audit_before and _writes(h, realm) == []  # QBO was only read
	by_name = {(r.entity, r.qbo_name): r for r in plan.rows}
	acme_row = by_name[("Customer", "Acme Logistics")]
	assert acme_row.action == G.LINK and acme_row.local_id == acme and "same email" in acme_row.reason
	assert by_name[("Customer", "Bluebonnet Health")].action == G.IMPORT  # no local match by any stable key
	openings = {r.qbo_name: r.amount for r in plan.rows if r.action == G.OPENING}
	assert openings == {"1001": Decimal("450.00"), "1002": Decimal("200.00"), "1003": Decimal("90.00"),
		"CM-7": Decimal("40.00"), docs["acme_unapplied"]["Id"]: Decimal("30.00")}
	assert plan.opening_ar == {"Acme Logistics": Decimal("420.00"), "Bluebonnet Health": Decimal("200.00"),
		"Lone Star Manufacturing": Decimal("50.00")}
	text = G.format_plan(plan)
	assert "Opening receivables by customer" in text and "confirm" in text and "keep_" not in text


def test_the_confirmed_plan_runs_with_a_corrected_match_and_an_exclusion_and_the_first_tie_out_is_zero(
		harness, sandbox):
	h = harness
	realm, docs, acme, clinic = _books_before_go_live(h, sandbox)
	plan = G.GoLivePlan.from_dict(h.engine.go_live_preview(realm).to_dict())  # as a form would store it
	for row in plan.rows:
		if row.entity == "Customer" and row.qbo_name == "Bluebonnet Health":
			row.action, row.local_id = G.LINK, clinic  # the person knows better than the keys
		if row.entity == "Item" and row.qbo_name == "Hard Hat":
			row.action = G.EXCLUDE
	h.engine.apply_go_live(realm, plan)
	seed = h.seeds[realm]
	assert h.store.get_mapping_by_qbo(realm, "Customer", seed["customers"]["Bluebonnet Health"]).local_id == clinic
	assert h.store.get_mapping_by_qbo(realm, "Customer", seed["customers"]["Acme Logistics"]).local_id == acme
	assert h.store.get_mapping_by_qbo(realm, "Item", seed["items"]["Hard Hat"]) is None
	assert "Hard Hat" not in h.ledger.list_all(CO, C.ITEM)
	assert "Bluebonnet Health" not in h.ledger.list_all(CO, C.CUSTOMER)  # linked, not imported a second time
	# opening invoices carry QBO's balance as one line against the opening account, QBO's number kept
	m = h.store.get_mapping_by_qbo(realm, "Invoice", docs["blue_inv"]["Id"])
	blue = h.ledger.get(CO, C.INVOICE, m.local_id)
	assert blue["opening"] is True and blue["doc_number"] == "1002" and blue["customer"] == clinic
	assert blue["total"] == Decimal("200.00") and blue["outstanding"] == Decimal("200.00") and len(blue["lines"]) == 1
	assert h.store.list_outbox(realm, local_type=C.INVOICE) == []  # nothing of it goes back to QBO
	_assert_first_tie_out_is_zero(h, realm)
	# a later QBO payment against an opening invoice applies to it in ERPNext
	h.bk(realm).receive_payment(seed["customers"]["Acme Logistics"], "450.00", [docs["acme_inv"]["Id"]])
	h.engine.pull(realm)
	acme_inv = h.store.get_mapping_by_qbo(realm, "Invoice", docs["acme_inv"]["Id"]).local_id
	assert h.ledger.outstanding(CO, C.INVOICE, acme_inv) == Decimal("0.00")
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	_assert_first_tie_out_is_zero(h, realm)


def test_an_excluded_opening_document_stays_out(harness, sandbox):
	h = harness
	realm, docs, acme, clinic = _books_before_go_live(h, sandbox)
	plan = h.engine.go_live_preview(realm)
	for row in plan.rows:
		if row.action == G.OPENING and row.qbo_name == "1003":
			row.action = G.EXCLUDE
	counts = h.engine.apply_go_live(realm, plan)
	assert counts["excluded"] == 1 and counts["opening"] == 4
	assert h.store.get_mapping_by_qbo(realm, "Invoice", docs["lone_inv"]["Id"]) is None
	h.engine.pull(realm)  # the pull does not bring it in either: it is dated before the go-live date
	assert h.store.get_mapping_by_qbo(realm, "Invoice", docs["lone_inv"]["Id"]) is None


def _assert_first_tie_out_is_zero(h, realm):
	"""Independently of any report: every mapped open document's ERPNext outstanding equals QBO's Balance,
	and each customer's ERPNext balance equals QBO's Customer.Balance (read from the sandbox directly)."""
	bk = h.bk(realm)
	per_customer: dict[str, Decimal] = {}
	for local_type, entity in ((C.INVOICE, "Invoice"), (C.CREDIT_MEMO, "CreditMemo"), (C.PAYMENT, "Payment")):
		for m in h.store.list_mappings(realm, local_type):
			rec = h.ledger.get(CO, local_type, m.local_id)
			qbo = bk.read(entity, m.qbo_id)
			if local_type == C.PAYMENT:
				ours, theirs, sign = rec["unapplied"], G.open_balance(entity, qbo), -1
			else:
				ours, theirs, sign = rec["outstanding"], G.open_balance(entity, qbo), 1 if local_type == C.INVOICE else -1
			assert ours == theirs, f"{entity} {m.qbo_id}: ERPNext {ours} vs QuickBooks {theirs}"
			per_customer[rec["customer"]] = per_customer.get(rec["customer"], Decimal(0)) + sign * ours
	for m in h.store.list_mappings(realm, C.CUSTOMER):
		theirs = Decimal(str(bk.read("Customer", m.qbo_id)["Balance"])).quantize(Decimal("0.01"))
		assert per_customer.get(m.local_id, Decimal("0.00")) == theirs, m.local_id


def test_the_default_go_live_date_is_qbo_s_pacific_date_not_utc():
	"""At 03:00 UTC on 10 March it is still 9 March in QBO (Pacific): that is the day the go-live takes."""
	from datetime import date, datetime, timezone

	assert G.qbo_date(datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)) == date(2026, 3, 9)
	assert G.qbo_date(datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)) == date(2026, 3, 10)
	assert G.qbo_date(datetime(2026, 1, 10, 7, 59)) == date(2026, 1, 9)  # naive = UTC (the engine clock)


def test_the_preview_without_a_chosen_date_takes_qbo_s_date(harness, sandbox):
	h = harness
	realm = h.new_realm()
	plan = h.engine.go_live_preview(realm)
	assert plan.date_chosen is False and plan.go_live_date == G.qbo_date(sandbox.clock.now())
