"""Costs that grow with the data (issue 9), proven by behaviour, never by timing: the reference ledger answers
matches and outstanding amounts from its indexes (not by reading every row), the JSON encoder makes one
stdlib call per body, and an empty CDC poll keeps a small audit row."""
from __future__ import annotations

import json
from decimal import Decimal

from nexora_qbo.qbo import jsonutil
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.sqlite_ledger import SqliteLedger
from nexora_qbo.sync.sqlite_store import SqliteStore

CO = "Nexora Staffing Inc"


def _counting_loads(monkeypatch):
	"""Count how many ledger documents are decoded (R.loads of a stored row)."""
	calls = {"n": 0}
	real = R.loads

	def loads(text):
		calls["n"] += 1
		return real(text)

	monkeypatch.setattr(R, "loads", loads)
	return calls


def test_matching_and_naming_an_imported_customer_do_not_read_every_customer(tmp_path, monkeypatch):
	store = SqliteStore(str(tmp_path / "l.db"))
	ledger = SqliteLedger(store)
	for i in range(200):
		ledger.create_customer(CO, f"Customer {i:03d}", email=f"c{i}@x.example")
	calls = _counting_loads(monkeypatch)
	assert ledger.find_match(CO, C.CUSTOMER, {"display_name": "Someone Else", "email": "c150@x.example"}) == "Customer 150"
	assert ledger.find_match(CO, C.CUSTOMER, {"display_name": "customer 007"}) == "Customer 007"
	assert ledger.find_match(CO, C.CUSTOMER, {"display_name": "Nobody", "email": "n@x.example"}) is None
	new_id = ledger.upsert_from_qbo(CO, C.CUSTOMER, None, {"display_name": "Customer 010", "email": "other@x.example"})
	assert new_id == "Customer 010 - 1"
	assert calls["n"] < 10  # a scan would decode all 200 rows per call
	store.close()


def test_an_invoice_read_does_not_read_every_payment_and_its_outstanding_stays_exact(tmp_path, monkeypatch):
	store = SqliteStore(str(tmp_path / "l.db"))
	ledger = SqliteLedger(store)
	cust = ledger.create_customer(CO, "Payer", email="p@x.example")
	item = ledger.create_item(CO, "Hours", rate="10.00")
	invs = [ledger.submit_invoice(CO, cust, [{"item": item, "qty": "1", "rate": "100.00"}], "2026-11-02")
		for _ in range(60)]
	for inv in invs[:50]:
		ledger.record_payment(CO, cust, "30.00", [{"doc_type": C.INVOICE, "doc_key": inv, "amount": "30.00"}], "2026-11-03")
	cn = ledger.submit_credit_note(CO, cust, [{"item": item, "qty": "1", "rate": "20.00"}], "2026-11-04",
		against_invoice=invs[0])
	calls = _counting_loads(monkeypatch)
	assert ledger.get(CO, C.INVOICE, invs[0])["outstanding"] == Decimal("50.00")
	assert ledger.get(CO, C.INVOICE, invs[55])["outstanding"] == Decimal("100.00")
	assert calls["n"] <= 4  # the invoice itself, not the 50 payments and the credit note
	assert ledger.get(CO, C.CREDIT_MEMO, cn)["outstanding"] == Decimal("0.00")
	store.close()


def test_indexes_are_built_for_a_ledger_written_before_they_existed(tmp_path):
	store = SqliteStore(str(tmp_path / "l.db"))
	ledger = SqliteLedger(store)
	cust = ledger.create_customer(CO, "Old Customer", email="old@x.example")
	with store.db.transaction() as conn:  # what a database from before the indexes looks like
		conn.execute("DELETE FROM ledger_key")
		conn.execute("DELETE FROM ledger_meta")
	again = SqliteLedger(store)
	assert again.find_match(CO, C.CUSTOMER, {"display_name": "x", "email": "old@x.example"}) == cust
	store.close()


def test_the_json_encoder_calls_the_stdlib_once_per_body_and_keeps_decimals_exact(monkeypatch):
	calls = {"n": 0}
	real = json.dumps

	def dumps(*a, **k):
		calls["n"] += 1
		return real(*a, **k)

	monkeypatch.setattr(jsonutil.json, "dumps", dumps)
	body = {"Line": [{"Amount": Decimal("10.10"), "Detail": {"Qty": Decimal("3"), "Note": "a \u00e9 \"q\""}}
		for _ in range(20)], "TotalAmt": Decimal("202.00"), "Flag": True, "Other": None, "Rate": 1.5}
	text = jsonutil.dumps(body)
	assert calls["n"] == 1
	assert jsonutil.loads(text) == body
	assert '"Amount":10.10' in text and '"TotalAmt":202.00' in text


def test_an_empty_cdc_poll_keeps_its_audit_row_but_not_the_full_answer(harness, realm, sandbox):
	h = harness
	h.engine.pull(realm)
	sandbox.advance_clock(minutes=60)  # past the pull's look-back overlap
	h.engine.pull(realm)
	sandbox.advance_clock(minutes=60)
	before = len(h.store.list_audit(realm))
	h.engine.pull(realm)  # nothing changed since the last poll
	rows = [r for r in h.store.list_audit(realm)[before:] if r.operation == "cdc"]
	assert rows and rows[-1].outcome == "ok" and rows[-1].http_status == 200  # the row is kept
	assert json.loads(rows[-1].response_payload)["CDCResponse"] == C.CDC_EMPTY_NOTE
	assert len(rows[-1].response_payload) < 100
	cust = h.renew_bookkeeper(realm).create("Customer", {"DisplayName": "Fresh From QBO"})
	h.engine.pull(realm)
	full = [r for r in h.store.list_audit(realm) if r.operation == "cdc"][-1]
	assert "Fresh From QBO" in full.response_payload and cust["Id"] in full.response_payload
