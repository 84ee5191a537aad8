"""Batch creates (issue 9): one request per document on a first attempt, batches of at most 30 with a
deterministic requestid, and no duplicate after a lost, throttled or interrupted batch. Real HTTP to the
sandbox with the real client, as everywhere in tests/sync."""
from __future__ import annotations

import pytest
from sync_testkit import Harness

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.batch import batch_request_id

CO = "Nexora Staffing Inc"


class Crash(BaseException):
	"""Stands for the process dying right after QBO answered the batch, before the engine saved anything."""


def _invoices(h, realm, n, name="Batch Staffing"):
	cust = h.ledger.create_customer(CO, name, email=f"ap@{name.split()[0].lower()}.example")
	item = h.ledger.create_item(CO, f"{name} Hours", rate="50.00", income_account="Sales - NX")
	h.engine.export_master(realm, C.CUSTOMER, cust)
	h.engine.export_master(realm, C.ITEM, item)
	h.engine.push(realm)
	invs = [h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": str(k + 1), "rate": "50.00"}], "2026-11-02")
		for k in range(n)]
	return cust, item, invs


def _since(h, realm, before):
	return h.store.list_audit(realm)[before:]


def _in_qbo(h, realm, inv):
	return h.bk(realm).query(f"select * from Invoice where DocNumber = '{inv}'").get("Invoice", [])


def test_a_first_attempt_sends_exactly_one_request_per_document(harness, realm):
	h = harness
	_, _, (inv,) = _invoices(h, realm, 1)
	before = len(h.store.list_audit(realm))
	assert h.engine.push(realm)["done"] == 1
	rows = _since(h, realm, before)
	assert [(r.operation, r.local_id) for r in rows] == [("create", inv)]  # no stable-key lookup first


def test_creates_go_in_batches_of_at_most_30_with_a_short_deterministic_requestid(harness, realm):
	h = harness
	_, _, invs = _invoices(h, realm, 35)
	before = len(h.store.list_audit(realm))
	assert h.engine.push(realm)["done"] == 35
	rows = _since(h, realm, before)
	assert [r.operation for r in rows] == ["batch", "batch"]
	sizes = [r.request_payload.count('"bId"') for r in rows]
	assert sizes == [30, 5]
	assert all(len(r.request_id) <= 36 for r in rows) and rows[0].request_id != rows[1].request_id
	assert all(len(_in_qbo(h, realm, inv)) == 1 and h.store.get_mapping(realm, C.INVOICE, inv) for inv in invs)


def test_a_lost_batch_answer_is_settled_with_one_query_and_never_duplicates(harness, realm, sandbox):
	h = harness
	_, _, invs = _invoices(h, realm, 4)
	sandbox.set_faults(realm, script=["lost_response"] * 3)  # the client's 3 attempts, all answers lost
	counts = h.engine.push(realm)
	assert counts["failed"] == 4 and all(h.store.get_mapping(realm, C.INVOICE, i) is None for i in invs)
	batches = [r for r in h.store.list_audit(realm) if r.operation == "batch"]
	assert len(batches) == 3 and len({r.request_id for r in batches}) == 1  # every retry: the same requestid
	sandbox.set_faults(realm, script=[])
	sandbox.advance_clock(minutes=5)
	before = len(h.store.list_audit(realm))
	assert h.engine.push(realm)["done"] == 4
	rows = _since(h, realm, before)
	assert [r.operation for r in rows if r.operation in ("query", "batch", "create")] == ["query"]  # one per batch
	assert all(len(_in_qbo(h, realm, i)) == 1 and h.store.get_mapping(realm, C.INVOICE, i) for i in invs)


def test_a_throttled_batch_is_retried_with_the_same_requestid_without_duplicates(harness, realm, sandbox):
	h = harness
	_, _, invs = _invoices(h, realm, 3)
	sandbox.set_faults(realm, script=["throttle"])
	assert h.engine.push(realm)["done"] == 3
	batches = [r for r in h.store.list_audit(realm) if r.operation == "batch"]
	assert [r.outcome for r in batches] == ["ThrottleError", "ok"] and len({r.request_id for r in batches}) == 1
	members = sorted(h.store.list_outbox(realm, local_type=C.INVOICE), key=lambda e: int(e.id))
	assert batches[0].request_id == batch_request_id(realm, members)  # derived from the members, not random
	assert all(len(_in_qbo(h, realm, i)) == 1 for i in invs)


def test_a_worker_dying_after_the_batch_was_sent_recovers_without_duplicates(sandbox, tmp_path):
	h = Harness(sandbox, tmp_path)
	realm = h.new_realm()
	_, _, invs = _invoices(h, realm, 3)
	original = h.client_for

	def dying_client_for(realm_id, on_exchange):
		def hook(ex):
			on_exchange(ex)
			if ex.operation == "batch":
				raise Crash()
		return original(realm_id, hook)

	h.engine.client_for = dying_client_for
	h.engine._clients.clear()
	with pytest.raises(Crash):
		h.engine.push(realm)
	assert {e.state for e in h.store.list_outbox(realm, local_type=C.INVOICE)} == {C.IN_FLIGHT}
	h.close()
	restarted = Harness(sandbox, tmp_path)
	restarted.tokens = h.tokens
	assert restarted.engine.push(realm)["done"] == 3
	assert all(len(_in_qbo(h, realm, i)) == 1 and restarted.store.get_mapping(realm, C.INVOICE, i) for i in invs)
	assert [r.operation for r in restarted.store.list_audit(realm)].count("batch") == 1
	restarted.close()


def test_a_fault_inside_a_batch_lands_where_the_same_single_fault_lands(harness, realm):
	"""One invoice of the batch uses an item made inactive in QuickBooks (610 for that item only): it is parked
	with the same review item a single request gets; the others are created."""
	h = harness
	cust, item, _ = _invoices(h, realm, 0)
	bad_item = h.ledger.create_item(CO, "Retired Hours", rate="10.00", income_account="Sales - NX")
	h.engine.export_master(realm, C.ITEM, bad_item)
	h.engine.push(realm)
	h.bk(realm).deactivate("Item", h.qbo_id(realm, C.ITEM, bad_item))
	h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "1", "rate": "50.00"}], "2026-11-03")
	bad = h.ledger.submit_invoice(CO, cust, [{"item": bad_item, "qty": "1", "rate": "10.00"}], "2026-11-03")
	h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": "2", "rate": "50.00"}], "2026-11-03")
	counts = h.engine.push(realm)
	assert counts["done"] == 2 and counts["parked"] == 1
	assert [r.operation for r in h.store.list_audit(realm)].count("batch") == 1
	(c,) = h.store.list_conflicts(realm, status=C.OPEN, local_type=C.INVOICE, local_id=bad)
	assert c.kind == "rejected" and c.actions == [C.ACTION_RETRY, C.ACTION_DISMISS]
	assert c.reason.startswith(f"QuickBooks refused the invoice {bad} because something it uses")
	# the same fault on a single request: the same review item
	h.engine.pusher.batching = False
	h.engine.resolve_conflict(c.id, C.ACTION_RETRY, by="jane")
	h.engine.push(realm)
	(again,) = h.store.list_conflicts(realm, status=C.OPEN, local_type=C.INVOICE, local_id=bad)
	assert again.id == c.id and again.kind == c.kind and again.actions == c.actions
	assert again.reason.split(" QuickBooks said:")[0] == c.reason.split(" QuickBooks said:")[0]


def test_a_pull_after_lost_batch_answers_settles_them_with_one_query_per_batch(harness, realm, sandbox):
	"""Before a pull imports anything, creates whose answers were lost are settled: ONE DocNumber IN query for
	the batch links what QBO already has (no stable-key lookup per document, no second create)."""
	h = harness
	_, _, invs = _invoices(h, realm, 4)
	sandbox.set_faults(realm, script=["lost_response"] * 3)
	assert h.engine.push(realm)["failed"] == 4
	sandbox.set_faults(realm, script=[])
	before = len(h.store.list_audit(realm))
	h.engine.pull(realm)
	rows = [r for r in _since(h, realm, before) if r.direction == C.OUTBOUND]
	assert [(r.operation, r.qbo_entity) for r in rows] == [("query", "Invoice")]
	assert all(len(_in_qbo(h, realm, i)) == 1 and h.store.get_mapping(realm, C.INVOICE, i) for i in invs)
	assert {e.state for e in h.store.list_outbox(realm, local_type=C.INVOICE)} == {C.DONE}
