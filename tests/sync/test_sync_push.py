"""Outbound behaviours of the engine, against the sandbox over real HTTP with the real client."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sync_testkit import Harness

from nexora_qbo.sync import constants as C

CO = "Nexora Staffing Inc"


class Crash(BaseException):
	"""Stands for the process dying (SIGKILL) right after QBO answered, before the engine saved anything."""


def _customer_and_invoice(h, realm, name="Gulf Coast Welding"):
	led = h.ledger
	cust = led.create_customer(CO, name, email=f"ap@{name.split()[0].lower()}.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	item = led.create_item(CO, f"{name} Hours", rate="55.00", income_account="Sales - NX")
	h.engine.export_master(realm, C.ITEM, item)  # this realm's Company uses it
	inv = led.submit_invoice(CO, cust, [{"item": item, "qty": "10", "rate": "55.00", "description": "Week 45"}],
		"2026-11-02", due_date="2026-12-02")
	return cust, item, inv


def _audit(h, realm, **match):
	return [a for a in h.store.list_audit(realm) if all(getattr(a, k) == v for k, v in match.items())]


def test_create_reuses_requestid_and_recovers_a_lost_response(harness, realm, sandbox):
	"""The response of the invoice create is lost 3 times (the client gives up): the entry fails with a
	backoff, the retry later reuses the SAME requestid and the invoice exists exactly once in QBO. (A single
	request; the same for a batch is in test_sync_batch.py.)"""
	h = harness
	h.engine.pusher.batching = False
	cust, item, inv = _customer_and_invoice(h, realm)
	h.engine.push(realm, limit=2)  # customer and item only
	sandbox.set_faults(realm, script=["lost_response"] * 3)  # the create (a first attempt sends no lookup)
	counts = h.engine.push(realm)
	entry = h.store.list_outbox(realm, local_type=C.INVOICE)[0]
	assert counts["failed"] == 1 and entry.state == C.FAILED and entry.next_attempt_at > h.clock.now()
	assert h.store.get_mapping(realm, C.INVOICE, inv) is None
	assert len(h.bk(realm).query(f"select * from Invoice where DocNumber = '{inv}'").get("Invoice", [])) == 1
	sandbox.advance_clock(minutes=5)
	sandbox.set_faults(realm, script=[])
	counts = h.engine.push(realm)
	assert counts["done"] == 1
	assert len(h.bk(realm).query(f"select * from Invoice where DocNumber = '{inv}'").get("Invoice", [])) == 1
	creates = _audit(h, realm, operation="create", local_id=inv)
	assert len(creates) == 3 and len({a.request_id for a in creates}) == 1 and len(creates[0].request_id) <= 50
	assert h.store.get_mapping(realm, C.INVOICE, inv) is not None


def test_crash_after_send_is_recovered_by_requestid_replay_without_duplicate(sandbox, tmp_path):
	"""A payment (no stable key to look up) is created in QBO, then the worker dies before saving the mapping:
	the restarted worker finds the entry in_flight, re-sends the same requestid and QBO replays the original."""
	h = Harness(sandbox, tmp_path)
	realm = h.new_realm()
	cust, item, inv = _customer_and_invoice(h, realm)
	h.engine.push(realm)
	pay = h.ledger.record_payment(CO, cust, "200.00", [{"doc_type": "invoice", "doc_key": inv, "amount": "200.00"}],
		"2026-11-10", reference="ACH-1")
	original = h.client_for

	def dying_client_for(realm_id, on_exchange):
		def hook(ex):
			on_exchange(ex)
			if ex.operation == "create" and ex.entity == "Payment":
				raise Crash()
		return original(realm_id, hook)

	h.engine.client_for = dying_client_for
	h.engine._clients.clear()
	with pytest.raises(Crash):
		h.engine.push(realm)
	assert h.store.list_outbox(realm, local_type=C.PAYMENT)[0].state == C.IN_FLIGHT
	h.close()
	restarted = Harness(sandbox, tmp_path)  # same database files, a new process would look like this
	restarted.tokens = h.tokens
	counts = restarted.engine.push(realm)
	assert counts["done"] == 1
	qbo_payments = h.bk(realm).query("select * from Payment").get("Payment", [])
	assert len(qbo_payments) == 1
	assert restarted.store.get_mapping(realm, C.PAYMENT, pay).qbo_id == qbo_payments[0]["Id"]
	creates = _audit(restarted, realm, operation="create", local_id=pay)
	assert len(creates) == 2 and creates[0].request_id == creates[1].request_id
	assert sandbox.stats(realm)["replays"] >= 1
	restarted.close()


def test_unchanged_payload_is_not_sent(harness, realm):
	h = harness
	cust = h.ledger.create_customer(CO, "Quiet Customer", email="q@quiet.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	h.engine.push(realm)
	h.engine.record_change(realm, C.CUSTOMER, cust, "update")
	h.ledger.update_customer(CO, cust, phone=None)  # a save that changes nothing
	before = len(h.store.list_audit(realm))
	counts = h.engine.push(realm)
	assert counts["done"] >= 1
	assert len(h.store.list_audit(realm)) == before  # not a single HTTP exchange
	assert all(e.state == C.DONE for e in h.store.list_outbox(realm))


def test_stale_synctoken_rereads_merges_and_retries(harness, realm):
	"""The bookkeeper changed the phone in QBO; we change the email locally. The update with the old SyncToken
	gets 5010; the engine re-reads, merges (phone from QBO, email from us) and retries with the fresh token."""
	h = harness
	cust = h.ledger.create_customer(CO, "Stale Co", email="old@stale.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	h.engine.push(realm)
	qid = h.qbo_id(realm, C.CUSTOMER, cust)
	h.bk(realm).update("Customer", qid, {"PrimaryPhone": {"FreeFormNumber": "512-555-0199"}})
	h.ledger.update_customer(CO, cust, email="new@stale.example")
	h.engine.push(realm)
	remote = h.bk(realm).read("Customer", qid)
	assert remote["PrimaryEmailAddr"]["Address"] == "new@stale.example"
	assert remote["PrimaryPhone"]["FreeFormNumber"] == "512-555-0199"
	local = h.ledger.get(CO, C.CUSTOMER, cust)
	assert local["phone"] == "512-555-0199" and local["email"] == "new@stale.example"
	updates = _audit(h, realm, operation="update", local_id=cust)
	assert [a.error_code for a in updates] == ["5010", None]
	assert updates[1].sync_token_sent == "1" and updates[0].sync_token_sent == "0"
	assert _audit(h, realm, operation="read", local_id=cust, direction=C.OUTBOUND)
	assert h.store.list_conflicts(realm) == []  # one-sided changes: nothing to resolve


def test_transient_failure_is_retried_later_and_permanent_one_is_parked_with_a_reason(harness, realm, sandbox):
	h = harness
	cust, item, inv = _customer_and_invoice(h, realm)
	sandbox.set_faults(realm, script=["error503"] * 3)
	h.engine.push(realm, limit=1)
	entry = h.store.list_outbox(realm, local_type=C.CUSTOMER)[0]
	assert entry.state == C.FAILED and "ServerError" in entry.last_error
	sandbox.advance_clock(minutes=5)
	h.engine.push(realm, limit=2)
	assert h.store.get_mapping(realm, C.CUSTOMER, cust) and h.store.get_mapping(realm, C.ITEM, item)
	# the bookkeeper makes the item inactive: QBO refuses the invoice (610); a person must act
	h.bk(realm).deactivate("Item", h.qbo_id(realm, C.ITEM, item))
	h.engine.push(realm)
	entry = h.store.list_outbox(realm, local_type=C.INVOICE)[0]
	assert entry.state == C.PARKED
	conflict = h.store.get_conflict(entry.conflict_id)
	assert conflict.kind == "rejected" and "inactive" in conflict.reason and C.ACTION_RETRY in conflict.actions
	# reactivate in QBO, then retry from the review item: it goes through
	h.bk(realm).update("Item", h.qbo_id(realm, C.ITEM, item), {"Active": True, "Name": "Gulf Coast Welding Hours"})
	h.engine.resolve_conflict(conflict.id, C.ACTION_RETRY, by="jane")
	assert h.engine.push(realm)["done"] == 1
	assert h.store.get_mapping(realm, C.INVOICE, inv) is not None


def test_local_cancel_voids_invoice_and_payment_and_deletes_credit_memo(harness, realm):
	h = harness
	cust, item, inv = _customer_and_invoice(h, realm)
	inv2 = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": 2, "rate": "55.00"}], "2026-11-03")
	cn = h.ledger.submit_credit_note(CO, cust, [{"item": item, "qty": 1, "rate": "55.00"}], "2026-11-04",
		against_invoice=inv2)
	pay = h.ledger.record_payment(CO, cust, "100.00", [{"doc_type": "invoice", "doc_key": inv, "amount": "100.00"}],
		"2026-11-05")
	h.engine.push(realm)
	h.ledger.cancel(CO, C.PAYMENT, pay)
	h.ledger.cancel(CO, C.INVOICE, inv)
	h.ledger.cancel(CO, C.CREDIT_MEMO, cn)
	counts = h.engine.push(realm)
	assert counts["done"] == 3, h.store.list_outbox(realm)
	bk = h.bk(realm)
	voided_inv = bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	assert voided_inv["PrivateNote"] == "Voided" and Decimal(voided_inv["TotalAmt"]) == 0
	voided_pay = bk.read("Payment", h.qbo_id(realm, C.PAYMENT, pay))
	assert voided_pay["PrivateNote"] == "Voided"
	assert bk.query("select * from CreditMemo").get("CreditMemo", []) == []
	assert h.store.get_mapping(realm, C.INVOICE, inv).status == C.VOIDED
	assert h.store.get_mapping(realm, C.CREDIT_MEMO, cn).status == C.DELETED
	assert [a.operation for a in _audit(h, realm, local_id=inv) if a.operation != "read"][-1] == "void"


def test_line_amount_is_half_up_per_line_and_tax_total_is_carried(harness, realm):
	h = harness
	cust = h.ledger.create_customer(CO, "Rounding Co")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	item = h.ledger.create_item(CO, "Odd Rate", rate="33.335")
	h.engine.export_master(realm, C.ITEM, item)  # this realm's Company uses it
	inv = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "3", "rate": "33.335"}], "2026-11-02",
		tax_total="8.25")
	h.engine.push(realm)
	remote = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
	assert Decimal(str(line["Amount"])) == Decimal("100.01")  # 100.005 half-up
	assert Decimal(str(remote["TxnTaxDetail"]["TotalTax"])) == Decimal("8.25")
	assert Decimal(str(remote["TotalAmt"])) == h.ledger.get(CO, C.INVOICE, inv)["total"] == Decimal("108.26")


def test_synctoken_bumped_by_a_qbo_payment_is_not_an_edit_void_retries_with_fresh_token(harness, realm):
	"""A payment applied then removed in QBO bumps the invoice SyncToken twice without changing its content:
	the local cancel gets 5010, re-reads, sees no bookkeeper edit and voids with the fresh token."""
	h = harness
	cust, item, inv = _customer_and_invoice(h, realm)
	h.engine.push(realm)
	bk = h.bk(realm)
	qinv = h.qbo_id(realm, C.INVOICE, inv)
	pay = bk.receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "100.00", [qinv])
	bk.delete("Payment", pay["Id"])
	assert bk.read("Invoice", qinv)["SyncToken"] == "2"
	h.ledger.cancel(CO, C.INVOICE, inv)
	assert h.engine.push(realm)["done"] == 1
	voids = _audit(h, realm, operation="void", local_id=inv)
	assert [(a.sync_token_sent, a.error_code) for a in voids] == [("0", "5010"), ("2", None)]
	assert bk.read("Invoice", qinv)["PrivateNote"] == "Voided"
	assert h.store.list_conflicts(realm) == []


def test_local_credit_note_against_an_invoice_is_applied_in_qbo_and_not_booked_twice(harness, realm):
	h = harness
	cust, item, inv = _customer_and_invoice(h, realm)
	cn = h.ledger.submit_credit_note(CO, cust, [{"item": item, "qty": 2, "rate": "55.00"}], "2026-11-06",
		against_invoice=inv)
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("440.00")
	h.engine.push(realm)
	bk = h.bk(realm)
	assert Decimal(str(bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["Balance"])) == Decimal("440.00")
	cm = bk.read("CreditMemo", h.qbo_id(realm, C.CREDIT_MEMO, cn))
	assert Decimal(str(cm["RemainingCredit"])) == Decimal("0.00")
	counts = h.engine.pull(realm)
	assert counts.get("mirror") == 1
	assert h.ledger.list_all(CO, C.PAYMENT) == []  # the application is QBO's mirror, not a new payment
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("440.00")
	assert h.store.list_conflicts(realm) == []


def test_disabling_and_deleting_masters_deactivates_them_in_qbo_without_a_rename_ping_pong(harness, realm):
	h = harness
	cust = h.ledger.create_customer(CO, "Seasonal Co", email="s@seasonal.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	item = h.ledger.create_item(CO, "Seasonal Hours", rate="30.00")
	h.engine.export_master(realm, C.ITEM, item)  # this realm's Company uses it
	h.engine.push(realm)
	h.ledger.update_customer(CO, cust, active=False)
	h.engine.record_change(realm, C.ITEM, item, "delete")
	assert h.engine.push(realm)["done"] == 2
	bk = h.bk(realm)
	qcust = bk.read("Customer", h.qbo_id(realm, C.CUSTOMER, cust))
	assert qcust["Active"] is False and qcust["DisplayName"].startswith("Seasonal Co")
	assert bk.read("Item", h.qbo_id(realm, C.ITEM, item))["Active"] is False
	assert h.store.get_mapping(realm, C.ITEM, item).status == C.INACTIVE
	h.engine.pull(realm)
	assert h.ledger.get(CO, C.CUSTOMER, cust)["display_name"] == "Seasonal Co"
	h.ledger.update_customer(CO, cust, active=True)
	h.engine.push(realm)
	qcust = bk.read("Customer", h.qbo_id(realm, C.CUSTOMER, cust))
	assert qcust["Active"] is True and qcust["DisplayName"] == "Seasonal Co"
	assert h.store.list_conflicts(realm) == []


def test_a_total_qbo_computes_differently_is_put_in_review_not_accepted_silently(harness, realm):
	"""ERPNext may round 3.5 x 62.11 = 217.385 to 217.38 (banker's rounding); QBO requires each line's Amount to be
	Qty*UnitPrice rounded half-up, so its TotalAmt lands on 217.39. The push succeeds, and the cent shows."""
	h = harness
	cust = h.ledger.create_customer(CO, "Rounding Clinic", email="ap@rounding.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	item = h.ledger.create_item(CO, "Odd Overtime", rate="62.11")
	h.engine.export_master(realm, C.ITEM, item)  # this realm's Company uses it
	odd = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "3.5", "rate": "62.11", "amount": "217.38"}],
		"2026-11-10")
	even = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "4", "rate": "62.11"}], "2026-11-10")

	assert h.engine.push(realm)["parked"] == 0

	[review] = h.store.list_conflicts(realm, status=C.OPEN)
	assert review.kind == "totals_differ" and review.local_id == odd
	assert "217.39 where ERPNext has 217.38" in review.reason
	assert h.store.get_mapping(realm, C.INVOICE, odd) is not None  # the document itself did sync
	assert h.store.get_mapping(realm, C.INVOICE, even) is not None


def test_the_invoice_tax_template_is_sent_as_its_qbo_tax_code_with_the_total_tax(harness, sandbox):
	"""US automated sales tax keeps a client's tax only as TxnTaxCodeRef + TotalTax together (qbo-api.md §9)."""
	h = harness
	realm = h.new_realm(tax_code_map={"CA Sales Tax - NX": "2"})
	cust = h.ledger.create_customer(CO, "Taxable Events Co", email="ap@taxable.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	item = h.ledger.create_item(CO, "Event Staff Hours", rate="40.00")
	h.engine.export_master(realm, C.ITEM, item)  # this realm's Company uses it
	inv = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "10", "rate": "40.00", "taxable": True}],
		"2026-11-12", tax_total="33.00", tax_code="CA Sales Tax - NX")

	h.engine.push(realm)

	detail = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["TxnTaxDetail"]
	assert detail["TxnTaxCodeRef"]["value"] == "2"
	assert Decimal(str(detail["TotalTax"])) == Decimal("33.00")
	assert h.store.list_conflicts(realm, status=C.OPEN) == []  # QBO's total equals ours: 433.00
