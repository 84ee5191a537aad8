"""Pure unit tests: canonical records, merge rules, payload builders, requestids, outbox coalescing, lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities import ENTITIES
from nexora_qbo.sync.errors import LockBusy
from nexora_qbo.sync.merge import merge_master, transaction_changes
from nexora_qbo.sync.outbox import record_change, request_id
from nexora_qbo.sync.ports import RealmSettings
from nexora_qbo.sync.runtime import FileRealmLock, ManualClock
from nexora_qbo.sync.sqlite_store import SqliteStore


class FakeResolver:
	"""Reference translation without an engine: local id <-> "Q" + local id."""

	def __init__(self):
		self.settings = RealmSettings(realm_id="R1", company="Co", default_income_account_id="1",
			default_deposit_account_id="4", account_map={"Sales": "1", "Other": "9"})

	def qbo_ref(self, local_type, local_id):
		return f"Q{local_id}"

	def local_ref(self, qbo_entity, qbo_id):
		return qbo_id.removeprefix("Q")


def _invoice(**kw):
	base = {"doc_number": "SINV-1", "customer": "C1", "txn_date": "2026-11-02", "currency": "USD",
		"lines": [{"item": "I1", "qty": "3", "rate": "33.335", "description": "Week 45"}], "tax_total": "0"}
	base.update(kw)
	return base


def test_money_is_half_up_per_line_and_totals_are_carried():
	rec = R.normalize(C.INVOICE, _invoice(tax_total="1.10"))
	assert rec["lines"][0]["amount"] == Decimal("100.01")
	assert rec["total"] == Decimal("101.11")
	assert R.normalize(C.INVOICE, _invoice(total="101.12"))["total"] == Decimal("101.12")  # never recomputed
	assert R.money(2.675) == Decimal("2.68") and R.money("0.005") == Decimal("0.01")


def test_invoice_payload_has_line_amounts_and_no_subtotal_round_trip():
	spec, r = ENTITIES[C.INVOICE], FakeResolver()
	payload = spec.to_qbo(_invoice(), r)
	assert payload["CustomerRef"] == {"value": "QC1"}
	assert payload["Line"][0]["Amount"] == Decimal("100.01")
	assert payload["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": "QI1"}
	assert payload["TxnTaxDetail"] == {"TotalTax": Decimal("0.00")}
	read_back = dict(payload, Id="5", SyncToken="2", TotalAmt=Decimal("100.01"), Balance=Decimal(40),
		Line=payload["Line"] + [{"Amount": Decimal("100.01"), "DetailType": "SubTotalLineDetail"}],
		LinkedTxn=[{"TxnId": "9", "TxnType": "Payment"}])
	canonical = spec.from_qbo(read_back, r)
	assert len(canonical["lines"]) == 1 and canonical["outstanding"] == Decimal("40.00")
	assert R.content(C.INVOICE, canonical) == R.content(C.INVOICE, _invoice())


def test_sparse_update_carries_only_allow_listed_keys_of_changed_fields():
	spec, r = ENTITIES[C.CUSTOMER], FakeResolver()
	body = spec.sparse_update({"display_name": "A", "email": "a@x.example", "phone": "1"}, ["phone"], r, "7", "3")
	assert body == {"Id": "7", "SyncToken": "3", "sparse": True, "PrimaryPhone": {"FreeFormNumber": "1"}}


def test_payment_payload_links_invoices_and_credit_memos():
	spec, r = ENTITIES[C.PAYMENT], FakeResolver()
	rec = {"customer": "C1", "txn_date": "2026-11-10", "total": "0", "currency": "USD", "applications": [
		{"doc_type": "invoice", "doc_key": "I1", "amount": "50"}, {"doc_type": "credit_memo", "doc_key": "M1", "amount": "50"}]}
	payload = spec.to_qbo(rec, r)
	assert payload["DepositToAccountRef"] == {"value": "4"}
	assert [ln["LinkedTxn"][0]["TxnType"] for ln in payload["Line"]] == ["CreditMemo", "Invoice"]
	assert R.normalize(C.PAYMENT, rec)["unapplied"] == Decimal("0.00")
	back = spec.from_qbo(dict(payload, Id="1", SyncToken="0", UnappliedAmt=0), r)
	assert R.content(C.PAYMENT, back) == R.content(C.PAYMENT, rec)


def test_master_merge_one_sided_both_sided_and_first_contact():
	base = {"display_name": "Acme", "email": "a@acme.example", "phone": "1"}
	local = dict(base, email="new@acme.example", phone="2")
	remote = dict(base, notes="VIP", phone="3")
	res = merge_master(C.CUSTOMER, base, local, remote)
	assert res.local_only == ["email"] and res.remote_only == ["notes"]
	assert res.both == [{"field": "phone", "base": "1", "local": "2", "qbo": "3"}]
	assert res.merged["phone"] == "3" and res.merged["email"] == "new@acme.example" and res.merged["notes"] == "VIP"
	first = merge_master(C.CUSTOMER, None, {"display_name": "Acme", "phone": "2"}, {"display_name": "Acme", "notes": "x"})
	assert first.local_only == ["phone"] and first.remote_only == ["notes"] and not first.both


def test_payment_bookkeeping_is_not_a_transaction_edit_but_a_line_change_is():
	spec, r = ENTITIES[C.INVOICE], FakeResolver()
	payload = spec.to_qbo(_invoice(), r)
	base = spec.from_qbo(dict(payload, Id="5", SyncToken="0", TotalAmt="100.01", Balance="100.01"), r)
	paid = spec.from_qbo(dict(payload, Id="5", SyncToken="1", TotalAmt="100.01", Balance="0",
		LinkedTxn=[{"TxnId": "2", "TxnType": "Payment"}]), r)
	assert transaction_changes(C.INVOICE, base, paid) == []
	edited_lines = [dict(payload["Line"][0], Amount=Decimal("120.00"),
		SalesItemLineDetail=dict(payload["Line"][0]["SalesItemLineDetail"], Qty=4, UnitPrice=Decimal(30)))]
	edited = spec.from_qbo(dict(payload, Line=edited_lines, Id="5", SyncToken="2", TotalAmt="120.00"), r)
	assert {c["field"] for c in transaction_changes(C.INVOICE, base, edited)} == {"lines", "total"}


def test_match_keys_ignore_deleted_suffix_and_never_use_erpnext_duplicate_names():
	assert R.match_keys(C.CUSTOMER, {"display_name": "Thrifty Meats (deleted)"}) == [("name", "thrifty meats")]
	assert R.match_keys(C.CUSTOMER, {"display_name": "Acme - 1"}) == []
	assert R.match_keys(C.CUSTOMER, {"display_name": "Acme", "email": "AP@Acme.example"})[0] == ("email", "ap@acme.example")
	assert R.match_keys(C.INVOICE, {"doc_number": "1001", "customer": "C1"}) == [("doc", "C1|1001")]


def test_request_id_is_deterministic_short_and_changes_with_generation():
	a = request_id("9341234567890123", C.INVOICE, "ACC-SINV-2026-00001", "create", 1)
	assert a == request_id("9341234567890123", C.INVOICE, "ACC-SINV-2026-00001", "create", 1)
	assert a != request_id("9341234567890123", C.INVOICE, "ACC-SINV-2026-00001", "create", 2)
	assert a != request_id("9341234567890124", C.INVOICE, "ACC-SINV-2026-00001", "create", 1)
	assert len(a) <= 50 and len(request_id("r" * 40, C.PAYMENT, "x" * 140, "update", 12345, "a9s2")) <= 50


def test_record_change_coalesces_only_never_attempted_intents(tmp_path):
	store = SqliteStore(str(tmp_path / "s.db"))
	now = ManualClock().now()
	first = record_change(store, "R1", C.CUSTOMER, "C1", "create", now)
	assert record_change(store, "R1", C.CUSTOMER, "C1", "update", now).id == first.id
	first.attempts, first.state = 1, C.FAILED
	store.save_outbox(first)
	second = record_change(store, "R1", C.CUSTOMER, "C1", "update", now)
	assert second.id != first.id and second.generation == 2
	assert record_change(store, "R1", C.CUSTOMER, "C1", "update", now).id == second.id
	with pytest.raises(ValueError):
		record_change(store, "R1", "sales_order", "X", "create", now)


HOLDER = """
import sys, time
from nexora_qbo.sync.runtime import FileRealmLock
lock = FileRealmLock(sys.argv[1])
with lock.hold("R1"):
	print("held", flush=True)
	time.sleep(60)
"""


def test_realm_lock_holds_across_processes_and_is_released_when_the_holder_is_killed(tmp_path):
	proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
	try:
		assert proc.stdout.readline().strip() == "held"
		lock = FileRealmLock(str(tmp_path))
		with pytest.raises(LockBusy), lock.hold("R1", timeout=0.2):
			pass
		with lock.hold("R2", timeout=0.2):  # another realm is not blocked
			pass
		os.kill(proc.pid, signal.SIGKILL)
		proc.wait(5)
		start = time.monotonic()
		with lock.hold("R1", timeout=5):
			assert time.monotonic() - start < 5
	finally:
		if proc.poll() is None:
			proc.kill()
			proc.wait(5)
