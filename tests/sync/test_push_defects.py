"""Issue 7 §5, the three push defects, each reproduced with the sandbox's fault injection over real HTTP."""
from __future__ import annotations

from decimal import Decimal

from nexora_qbo.sync import constants as C

CO = "Nexora Staffing Inc"


def _audit(h, realm, **match):
	return [a for a in h.store.list_audit(realm) if all(getattr(a, k) == v for k, v in match.items())]


def test_a_credit_note_whose_invoice_met_a_transient_failure_is_applied_once_the_invoice_lands(harness, realm, sandbox):
	"""The invoice's create meets one transient failure (503 until the client gives up); the credit note
	against it must not go out unapplied: it waits for (and brings along) its invoice, then is applied, so
	QBO's invoice Balance equals ERPNext's outstanding."""
	h = harness
	led = h.ledger
	cust = led.create_customer(CO, "Gulf Coast Welding", email="ap@gulf.example")
	item = led.create_item(CO, "Welder Hours", rate="55.00", income_account="Sales - NX")
	h.engine.push(realm)
	inv = led.submit_invoice(CO, cust, [{"item": item, "qty": "10", "rate": "55.00"}], "2026-11-02")
	cn = led.submit_credit_note(CO, cust, [{"item": item, "qty": "2", "rate": "55.00"}], "2026-11-03",
		against_invoice=inv)
	sandbox.set_faults(realm, script=["none"] + ["error503"] * 3)  # the invoice's lookup, then its create
	h.engine.push(realm)
	sandbox.set_faults(realm, script=[])
	sandbox.advance_clock(minutes=5)
	h.engine.push(realm)

	inv_qid = h.qbo_id(realm, C.INVOICE, inv)
	remote_inv = h.bk(realm).read("Invoice", inv_qid)
	remote_cm = h.bk(realm).read("CreditMemo", h.qbo_id(realm, C.CREDIT_MEMO, cn))
	assert led.outstanding(CO, C.INVOICE, inv) == Decimal("440.00")
	assert Decimal(str(remote_inv["Balance"])) == Decimal("440.00")
	assert Decimal(str(remote_cm.get("RemainingCredit", remote_cm.get("Balance")))) == Decimal(0)
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	assert len(h.bk(realm).query(f"select * from Invoice where DocNumber = '{inv}'").get("Invoice", [])) == 1


def test_one_rejected_customer_with_three_waiting_invoices_makes_one_review_item(harness, realm, sandbox):
	"""QBO refuses the customer (a QBO vendor holds the name: names are unique across customers, vendors and
	employees). Its three invoices wait, naming the customer's review item; six rounds later there is still
	ONE item and ONE create request."""
	h = harness
	h.bk(realm).create("Vendor", {"DisplayName": "Harbor Freightways"})
	cust = h.ledger.create_customer(CO, "Harbor Freightways", email="ap@harbor.example")
	item = h.ledger.create_item(CO, "Driver Hours", rate="40.00", income_account="Sales - NX")
	invs = [h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "8", "rate": "40.00"}], f"2026-11-0{i + 1}")
		for i in range(3)]
	for _ in range(6):
		h.engine.sync(realm)
		sandbox.advance_clock(hours=2)

	items = h.store.list_conflicts(realm)
	assert len(items) == 1, [(c.kind, c.local_id) for c in items]
	[rejected] = items
	assert rejected.kind == "rejected" and rejected.local_id == cust and rejected.status == C.OPEN
	customer_creates = [a for a in _audit(h, realm, operation="create") if a.qbo_entity == "Customer"]
	assert len(customer_creates) == 1
	assert _audit(h, realm, operation="create", qbo_entity="Invoice") == []
	for inv in invs:
		[entry] = h.store.list_outbox(realm, local_type=C.INVOICE, local_id=inv)
		assert entry.state == C.FAILED and f"item {rejected.id}" in entry.last_error and cust in entry.last_error

	# retried and rejected again: the same item is refreshed, nothing more
	h.engine.resolve_conflict(rejected.id, C.ACTION_RETRY, by="jane")
	h.engine.push(realm)
	assert [c.id for c in h.store.list_conflicts(realm)] == [rejected.id]
	assert h.store.get_conflict(rejected.id).status == C.OPEN
	assert len([a for a in _audit(h, realm, operation="create") if a.qbo_entity == "Customer"]) == 2


def test_a_lost_answer_on_an_update_is_not_taken_for_a_bookkeeper_edit_on_the_retry(harness, realm, sandbox):
	"""Keep ERPNext sends the ERPNext lines back; QBO applies the update but every answer is lost. The retry
	first asks QBO for the record (one query, as for a batch whose answer was lost), finds its SyncToken moved
	on with exactly what we sent, adopts it (no 5010 on a stale SyncToken) and finishes: no new review item."""
	h = harness
	_, qid, inv = _edited_invoice(h, realm)
	[edited] = h.store.list_conflicts(realm, status=C.OPEN)
	sandbox.set_faults(realm, script=["none"] + ["lost_response"] * 3)  # the re-read, then the update (x3)
	h.engine.resolve_conflict(edited.id, C.ACTION_KEEP_LOCAL, by="controller")
	[entry] = [e for e in h.store.list_outbox(realm, local_id=inv) if e.action == "update"]
	assert entry.state == C.FAILED
	assert Decimal(str(h.bk(realm).read("Invoice", qid)["TotalAmt"])) == Decimal("800.00")  # QBO applied it
	sandbox.set_faults(realm, script=[])
	sandbox.advance_clock(minutes=5)
	before = len(h.store.list_audit(realm))
	h.engine.push(realm)
	assert h.store.get_outbox(entry.id).state == C.DONE
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	retry = [a for a in h.store.list_audit(realm)[before:] if a.direction == C.OUTBOUND]
	assert retry[0].operation == "query" and retry[0].qbo_entity == "Invoice"  # asked first: no blind re-send
	assert [a.error_code for a in retry] == [None] * len(retry)  # so no 5010 taken for a bookkeeper's edit
	assert h.engine.pull(realm).get("held") is None
	assert h.store.list_conflicts(realm, status=C.OPEN) == []


def test_a_lost_answer_on_an_update_seen_first_by_the_pull_is_adopted_not_held(harness, realm, sandbox):
	"""Same lost answer, but the next pull sees our applied update before the retry: QBO's content is
	ERPNext's, so it is our own write, not a bookkeeper edit; the retry then sends nothing."""
	h = harness
	_, qid, inv = _edited_invoice(h, realm)
	[edited] = h.store.list_conflicts(realm, status=C.OPEN)
	sandbox.set_faults(realm, script=["none"] + ["lost_response"] * 3)
	h.engine.resolve_conflict(edited.id, C.ACTION_KEEP_LOCAL, by="controller")
	sandbox.set_faults(realm, script=[])
	sandbox.advance_clock(minutes=5)
	assert h.engine.pull(realm).get("held") is None
	assert h.store.list_conflicts(realm, status=C.OPEN) == []
	h.engine.push(realm)
	assert all(e.state == C.DONE for e in h.store.list_outbox(realm, local_id=inv))
	assert Decimal(str(h.bk(realm).read("Invoice", qid)["TotalAmt"])) == Decimal("800.00")
	assert h.store.list_conflicts(realm, status=C.OPEN) == []


def _edited_invoice(h, realm):
	cust = h.ledger.create_customer(CO, "Bluewater Clinics", email="ap@bluewater.example")
	item = h.ledger.create_item(CO, "Nurse Hours", rate="80.00", income_account="Sales - NX")
	inv = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "10", "rate": "80.00"}], "2026-11-02")
	h.engine.push(realm)
	h.engine.pull(realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	remote = h.bk(realm).read("Invoice", qid)
	line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
	line["SalesItemLineDetail"]["Qty"] = 12
	line["Amount"] = Decimal("960.00")
	h.bk(realm).update("Invoice", qid, {"Line": [line]})
	h.engine.pull(realm)
	return cust, qid, inv
