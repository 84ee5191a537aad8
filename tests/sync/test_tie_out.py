"""The AR tie-out (invariant 9) against the sandbox over real HTTP: both books compared per open document, per
customer and in total; every difference carries its cause; an unexplained one is a review item that a later
tie-out resolves once the books agree; QBO is read by pages, never one request per document."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.report import format_report
from nexora_qbo.sync.tieout import format_tie_out

CO = "Nexora Staffing Inc"
NOV30 = date(2026, 11, 30)


def _customer(h, realm, name, **fields):
	cust = h.ledger.create_customer(CO, name, email=f"ap@{name.split()[0].lower()}.example", **fields)
	return cust


def _item(h):
	return h.ledger.create_item(CO, "Staffing Hours", rate="50.00", income_account="Sales - NX")


def _invoice(h, cust, item, qty, day=3, **kw):
	return h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": qty, "rate": "50.00"}], f"2026-11-{day:02d}", **kw)


def _month(h, realm):
	"""A small clean month: invoices, a partial payment here, a payment in QBO, a credit note against an
	invoice, a standalone credit note and an unapplied payment on account."""
	item = _item(h)
	acme = _customer(h, realm, "Acme Rigging")
	bolt = _customer(h, realm, "Bolt Electrical")
	i1 = _invoice(h, acme, item, "10")  # 500
	i2 = _invoice(h, acme, item, "4", day=5)  # 200
	i3 = _invoice(h, bolt, item, "8", day=6)  # 400
	h.engine.push(realm)
	h.ledger.record_payment(CO, acme, "300.00", [{"doc_type": C.INVOICE, "doc_key": i1, "amount": "300.00"}],
		"2026-11-10")
	h.ledger.submit_credit_note(CO, acme, [{"item": item, "qty": "1", "rate": "50.00"}], "2026-11-11",
		against_invoice=i2)
	h.ledger.submit_credit_note(CO, bolt, [{"item": item, "qty": "2", "rate": "50.00"}], "2026-11-12")
	h.ledger.record_payment(CO, bolt, "75.00", [], "2026-11-13")  # on account
	h.engine.push(realm)
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, bolt), "150.00", [h.qbo_id(realm, C.INVOICE, i3)])
	h.engine.pull(realm)
	h.engine.push(realm)
	return {"item": item, "acme": acme, "bolt": bolt, "invoices": [i1, i2, i3]}


def _diff(result, local_id):
	rows = [r for r in result.differences if r.local_id == local_id]
	assert rows, f"no difference for {local_id}: {[r.label for r in result.differences]}"
	return rows[0]


def test_a_clean_month_ties_to_the_cent_and_is_kept_per_day(harness, realm):
	h = harness
	m = _month(h, realm)
	result = h.engine.tie_out(realm, NOV30)
	assert result.differences == [], format_tie_out(result)
	totals = result.totals()
	# acme: 200 + (200 - 50) = 350; bolt: (400 - 150) - 100 - 75 = 75
	assert totals["home"]["erpnext"] == totals["home"]["qbo"] == Decimal("425.00")
	assert {c.customer: c.erpnext for c in result.customers} == {m["acme"]: Decimal("350.00"),
		m["bolt"]: Decimal("75.00")}
	assert {c.customer: c.qbo for c in result.customers} == {m["acme"]: Decimal("350.00"),
		m["bolt"]: Decimal("75.00")}
	types = sorted(r.local_type for r in result.documents)
	assert types == [C.CREDIT_MEMO, C.INVOICE, C.INVOICE, C.INVOICE, C.PAYMENT]
	text = format_tie_out(result)
	assert "Unexplained: 0" in text and "agree to the cent" in text and "425.00" in text
	[kept] = h.store.list_tie_outs(realm, NOV30, NOV30)
	assert kept["counts"]["unexplained"] == 0 and kept["totals"]["home"]["qbo"] == Decimal("425.00")
	# re-running the day replaces it; another day is kept beside it
	h.engine.tie_out(realm, NOV30)
	h.engine.tie_out(realm, date(2026, 11, 29))
	assert [s["as_of"] for s in h.store.list_tie_outs(realm)] == ["2026-11-29", "2026-11-30"]
	report = h.engine.report(realm, 2026, 11)
	assert report["tie_out"]["as_of"] == "2026-11-30"
	assert [p["as_of"] for p in report["tie_out_trend"]] == ["2026-11-29", "2026-11-30"]
	assert "Month-end AR tie-out (2026-11-30)" in format_report(report)


def test_a_change_still_waiting_in_the_outbox_is_the_cause(harness, realm):
	h = harness
	item = _item(h)
	cust = _customer(h, realm, "Crane Hire")
	inv = _invoice(h, cust, item, "10")
	h.engine.push(realm)
	pay = h.ledger.record_payment(CO, cust, "200.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "200.00"}],
		"2026-11-09")  # not pushed yet
	late = _invoice(h, cust, item, "2", day=10)  # not pushed yet
	result = h.engine.tie_out(realm, NOV30)
	row = _diff(result, late)
	assert row.cause == C.CAUSE_WAITING and "waiting to be sent" in row.explanation
	row = _diff(result, inv)
	assert row.erpnext == Decimal("300.00") and row.qbo == Decimal("500.00")
	assert row.cause == C.CAUSE_RELATED_WAITING and pay in row.explanation
	assert result.unexplained_count == 0
	assert [r for r in result.customers if r.differs][0].cause == C.CAUSE_DOCUMENTS
	h.engine.push(realm)
	assert h.engine.tie_out(realm, NOV30).differences == []


def test_an_open_review_item_on_the_document_is_named_as_the_cause(harness, realm):
	h = harness
	item = _item(h)
	cust = _customer(h, realm, "Delta Pumps")
	inv = _invoice(h, cust, item, "10")
	h.engine.push(realm)
	h.engine.pull(realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	remote = h.bk(realm).read("Invoice", qid)
	line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
	line["SalesItemLineDetail"]["Qty"] = 12
	line["Amount"] = Decimal("600.00")
	h.bk(realm).update("Invoice", qid, {"Line": [line]})
	h.engine.pull(realm)
	[item_open] = h.store.list_conflicts(realm, status=C.OPEN)
	result = h.engine.tie_out(realm, NOV30)
	row = _diff(result, inv)
	assert (row.erpnext, row.qbo) == (Decimal("500.00"), Decimal("600.00"))
	assert row.cause == C.CAUSE_REVIEW_ITEM and row.conflict_id == item_open.id
	assert f"Review item {item_open.id}" in row.explanation
	assert result.unexplained_count == 0
	assert [c.kind for c in h.store.list_conflicts(realm, status=C.OPEN)] == ["transaction_edited"]


def test_a_record_not_mapped_on_either_side_is_the_cause(harness, realm):
	h = harness
	item = _item(h)
	cust = _customer(h, realm, "Echo Freight")
	_invoice(h, cust, item, "2")
	h.engine.push(realm)
	qcust = h.qbo_id(realm, C.CUSTOMER, cust)
	qitem = h.qbo_id(realm, C.ITEM, item)
	created = h.bk(realm).create("Invoice", {"CustomerRef": {"value": qcust}, "TxnDate": "2026-11-20", "Line": [
		{"Amount": Decimal("80.00"), "DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": qitem}, "Qty": 1, "UnitPrice": Decimal("80.00")}}]})
	# an ERPNext invoice whose intent was lost (the daily sweep would queue it again)
	lost = _invoice(h, cust, item, "1", day=21)
	for e in h.store.list_outbox(realm, local_id=lost):
		e.state = C.DONE
		h.store.save_outbox(e)
	result = h.engine.tie_out(realm, NOV30)
	qbo_only = [r for r in result.differences if r.qbo_id == str(created["Id"]) and r.local_id is None]
	assert qbo_only and qbo_only[0].cause == C.CAUSE_NOT_MAPPED and "never brought into ERPNext" in qbo_only[0].explanation
	row = _diff(result, lost)
	assert row.cause == C.CAUSE_NOT_MAPPED and "never reached QuickBooks" in row.explanation
	assert result.unexplained_count == 0


def test_a_document_before_the_go_live_date_is_the_cause(harness):
	h = harness
	realm = h.new_realm(sync_start_date=date(2026, 11, 1))
	item = _item(h)
	cust = _customer(h, realm, "Foxtrot Labs")
	_invoice(h, cust, item, "2")
	h.engine.push(realm)
	old = h.bk(realm).create("Invoice", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, cust)},
		"TxnDate": "2026-10-15", "Line": [{"Amount": Decimal("120.00"), "DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": h.qbo_id(realm, C.ITEM, item)}}}]})
	h.engine.pull(realm)  # dated before the start date: not imported
	result = h.engine.tie_out(realm, NOV30)
	[row] = [r for r in result.documents if r.differs]
	assert row.qbo_id == str(old["Id"]) and row.cause == C.CAUSE_BEFORE_GO_LIVE
	assert "2026-11-01" in row.explanation and "opening balance" in row.explanation
	[cust_row] = [r for r in result.customers if r.differs]
	assert cust_row.difference == Decimal("-120.00") and cust_row.cause == C.CAUSE_DOCUMENTS
	assert result.unexplained_count == 0


def test_a_currency_revaluation_in_erpnext_is_the_cause(harness):
	h = harness
	realm = h.new_realm("Nexora Europe", multicurrency=True)
	co = "Nexora Europe"
	cust = h.ledger.create_customer(co, "Berlin Zeitarbeit GmbH", currency="EUR")
	item = h.ledger.create_item(co, "Consulting Days", rate="800.00", income_account="Sales - NX")
	inv = h.ledger.submit_invoice(co, cust, [{"item": item, "qty": "2", "rate": "800.00"}], "2026-11-04",
		currency="EUR", exchange_rate="1.0825")
	h.engine.push(realm)
	assert h.engine.tie_out(realm, NOV30).differences == []
	h.ledger.revalue(co, C.INVOICE, inv, "1.1000")
	result = h.engine.tie_out(realm, NOV30)
	row = _diff(result, inv)
	assert row.difference == 0 and row.erpnext == Decimal("1600.00")
	assert (row.erpnext_home, row.qbo_home) == (Decimal("1760.00"), Decimal("1732.00"))
	assert row.cause == C.CAUSE_REVALUATION and "No action is needed" in row.explanation
	assert result.totals()["home"]["difference"] == Decimal("28.00")
	assert result.totals()["by_currency"]["EUR"]["difference"] == Decimal("0.00")
	assert result.unexplained_count == 0


def test_an_unexplained_difference_opens_one_review_item_that_a_later_tie_out_resolves(harness, realm):
	h = harness
	item = _item(h)
	cust = _customer(h, realm, "Granite Works")
	inv = _invoice(h, cust, item, "10")
	h.engine.push(realm)
	h.engine.pull(realm)
	# a payment applied straight in QuickBooks; the pull that would bring it in has not run yet
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "120.00", [h.qbo_id(realm, C.INVOICE, inv)])
	result = h.engine.tie_out(realm, NOV30)
	row = _diff(result, inv)
	assert row.cause == C.CAUSE_UNEXPLAINED and result.unexplained_count == 1
	[item_open] = h.store.list_conflicts(realm, status=C.OPEN)
	assert item_open.kind == C.UNEXPLAINED_DIFFERENCE and item_open.local_id == inv
	assert item_open.actions == [C.ACTION_RETRY, C.ACTION_ACCEPT_DIFFERENCE]
	assert "500.00" in item_open.reason and "380.00" in item_open.reason
	assert "Retry" in item_open.reason and "Accept the difference" in item_open.reason
	assert row.conflict_id == item_open.id
	# the customer's difference is its document's: no second item
	assert [r.cause for r in result.customers if r.differs] == [C.CAUSE_DOCUMENTS]
	h.engine.tie_out(realm, NOV30)  # refreshed, not duplicated
	assert [c.id for c in h.store.list_conflicts(realm, status=C.OPEN)] == [item_open.id]
	h.engine.pull(realm)
	fixed = h.engine.tie_out(realm, NOV30)
	assert fixed.differences == [] and fixed.unexplained_count == 0
	done = h.store.get_conflict(item_open.id)
	assert done.status == C.RESOLVED and done.resolved_by == "tie-out"
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	assert h.store.list_tie_outs(realm, NOV30, NOV30)[0]["counts"]["unexplained"] == 0


def test_retry_on_an_unexplained_difference_catches_up_and_resolves_it(harness, realm):
	h = harness
	item = _item(h)
	cust = _customer(h, realm, "Harbor Staffing")
	inv = _invoice(h, cust, item, "4")
	h.engine.push(realm)
	h.engine.pull(realm)
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "200.00", [h.qbo_id(realm, C.INVOICE, inv)])
	h.engine.tie_out(realm, NOV30)
	[item_open] = h.store.list_conflicts(realm, status=C.OPEN)
	h.engine.resolve_conflict(item_open.id, C.ACTION_RETRY, by="jane@agency")
	done = h.store.get_conflict(item_open.id)
	assert done.status == C.RESOLVED and done.resolved_by == "jane@agency"
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("0.00")


def test_an_edit_made_straight_into_the_ledger_is_unexplained_at_document_level(harness, realm):
	h = harness
	item = _item(h)
	cust = _customer(h, realm, "Iron Gate Security")
	inv = _invoice(h, cust, item, "6")
	h.engine.push(realm)
	row = h.ledger._row(CO, C.INVOICE, inv)
	from nexora_qbo.sync import records as R

	data = R.loads(row["data"])
	data["total"] = Decimal("330.00")
	h.store.db.execute("UPDATE ledger_doc SET data=? WHERE company=? AND local_type=? AND local_id=?",
		(R.dumps(data), CO, C.INVOICE, inv))
	result = h.engine.tie_out(realm, NOV30)
	assert result.unexplained_count == 1 and _diff(result, inv).difference == Decimal("30.00")
	assert len(h.store.list_conflicts(realm, status=C.OPEN)) == 1
	data["total"] = Decimal("300.00")
	h.store.db.execute("UPDATE ledger_doc SET data=? WHERE company=? AND local_type=? AND local_id=?",
		(R.dumps(data), CO, C.INVOICE, inv))
	assert h.engine.tie_out(realm, NOV30).unexplained_count == 0
	assert h.store.list_conflicts(realm, status=C.OPEN) == []


def _requests_of_a_tie_out(h, realm, n_invoices):
	item = _item(h)
	cust = _customer(h, realm, "Juniper Care")
	invs = [_invoice(h, cust, item, "1", day=1 + i % 28) for i in range(n_invoices)]
	h.engine.push(realm)
	# half of them paid in ERPNext and pushed: open on neither side; and QBO never sees a local-only payment
	for inv in invs[: n_invoices // 2]:
		h.ledger.record_payment(CO, cust, "50.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "50.00"}],
			"2026-11-28")
	h.engine.push(realm)
	# the other half paid in QBO by one payment not pulled yet: open in ERPNext only, read back by `Id IN`
	rest = invs[n_invoices // 2 :]
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), str(50 * len(rest)),
		[h.qbo_id(realm, C.INVOICE, i) for i in rest])
	before = len(h.store.list_audit(realm))
	result = h.engine.tie_out(realm, NOV30, persist=False)
	rows = h.store.list_audit(realm)[before:]
	assert result.requests == len(rows)
	assert {r.operation for r in rows} == {"query"}
	return result, rows


def test_a_tie_out_reads_qbo_by_pages_not_by_document(sandbox, tmp_path):
	from sync_testkit import Harness

	counts = []
	for n, sub in ((2, "a"), (24, "b")):
		(tmp_path / sub).mkdir()
		h = Harness(sandbox, tmp_path / sub)
		realm = h.new_realm()
		result, rows = _requests_of_a_tie_out(h, realm, n)
		assert sorted(r.local_id for r in result.differences if r.level == "document") == sorted(
			h.ledger.list_all("Nexora Staffing Inc", C.INVOICE)[n // 2 :])
		assert all(r.qbo == 0 and r.erpnext == Decimal("50.00") for r in result.differences if r.level == "document")
		counts.append(len(rows))
		h.close()
	# open invoices, open credit memos, payments, customers and the `Id IN` chunk: one page each
	assert counts[0] == counts[1] == 5


def _unexplained_item(h, realm, customer_name: str):
	"""A pushed invoice that the bookkeeper's QBO payment (not pulled yet) leaves apart: one unexplained item."""
	item = _item(h)
	cust = _customer(h, realm, customer_name)
	inv = _invoice(h, cust, item, "10")
	h.engine.push(realm)
	h.engine.pull(realm)
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "100.00", [h.qbo_id(realm, C.INVOICE, inv)])
	h.engine.tie_out(realm, NOV30)
	[item_open] = h.store.list_conflicts(realm, status=C.OPEN)
	return cust, inv, item_open


def test_accepting_an_unexplained_difference_accepts_exactly_those_amounts(harness, realm):
	h = harness
	cust, inv, item_open = _unexplained_item(h, realm, "Kestrel Air")
	h.engine.resolve_conflict(item_open.id, C.ACTION_ACCEPT_DIFFERENCE, by="jane@agency")
	result = h.engine.tie_out(realm, NOV30)
	row = _diff(result, inv)
	assert row.cause == C.CAUSE_ACCEPTED and "jane@agency" in row.explanation and result.unexplained_count == 0
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	# the amounts change: unexplained again, a new item
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "50.00", [h.qbo_id(realm, C.INVOICE, inv)])
	assert h.engine.tie_out(realm, NOV30).unexplained_count == 1
	assert [c.kind for c in h.store.list_conflicts(realm, status=C.OPEN)] == [C.UNEXPLAINED_DIFFERENCE]


def test_dismissing_an_unexplained_difference_never_hides_it(harness, realm):
	"""Dismiss is not acceptance: the difference is still in review after it (invariant 10)."""
	h = harness
	_cust, inv, item_open = _unexplained_item(h, realm, "Osprey Freight")
	h.engine.resolve_conflict(item_open.id, C.ACTION_DISMISS, by="jane@agency")
	result = h.engine.tie_out(realm, NOV30)
	assert _diff(result, inv).cause != C.CAUSE_ACCEPTED
	assert h.store.list_conflicts(realm, status=C.OPEN, local_id=inv), "the difference left review"
