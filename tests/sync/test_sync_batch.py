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


# ------------------------------------------------------------------------------------------- batched updates
def _customers(h, realm, n, prefix="Upd"):
	custs = [h.ledger.create_customer(CO, f"{prefix} Staffing {k:02d}", email=f"ap{k}@{prefix.lower()}.example")
		for k in range(n)]
	for cust in custs:
		h.engine.export_master(realm, C.CUSTOMER, cust)
	h.engine.push(realm)
	return custs


def _new_emails(h, custs):
	for k, cust in enumerate(custs):
		h.ledger.update_customer(CO, cust, email=f"billing{k}@new.example")


def test_updates_go_in_batches_of_at_most_30(harness, realm):
	h = harness
	custs = _customers(h, realm, 35)
	_new_emails(h, custs)
	before = len(h.store.list_audit(realm))
	assert h.engine.push(realm)["done"] == 35
	rows = _since(h, realm, before)
	assert [r.operation for r in rows] == ["batch", "batch"]
	assert [r.request_payload.replace(" ", "").count('"operation":"update"') for r in rows] == [30, 5]
	assert all(len(r.request_id) <= 36 for r in rows)
	for k, cust in enumerate(custs):
		remote = h.bk(realm).read("Customer", h.qbo_id(realm, C.CUSTOMER, cust))
		assert remote["PrimaryEmailAddr"]["Address"] == f"billing{k}@new.example"
		assert h.store.get_mapping(realm, C.CUSTOMER, cust).sync_token == remote["SyncToken"]


def _stale_outcome(h, realm, custs):
	"""Everything a person could see afterwards: both books, the review queue, the outbox."""
	books = []
	for cust in custs:
		remote = h.bk(realm).read("Customer", h.qbo_id(realm, C.CUSTOMER, cust))
		local = h.ledger.get(CO, C.CUSTOMER, cust)
		books.append((cust, remote["PrimaryEmailAddr"]["Address"], (remote.get("PrimaryPhone") or {}).get("FreeFormNumber"),
			local["email"], local.get("phone")))
	review = sorted((c.local_id, c.kind, c.status, c.reason, tuple(c.actions)) for c in h.store.list_conflicts(realm))
	outbox = sorted((e.local_id, e.action, e.state) for e in h.store.list_outbox(realm, local_type=C.CUSTOMER))
	return books, review, outbox


def _stale_scenario(h, realm):
	"""30 customers; the bookkeeper changed two in QuickBooks (one's email, which we change too; one's phone);
	then every email is changed here and pushed."""
	custs = _customers(h, realm, 30)
	clash, other = custs[4], custs[17]
	h.bk(realm).update("Customer", h.qbo_id(realm, C.CUSTOMER, clash), {"PrimaryEmailAddr": {"Address": "kim@books.example"}})
	h.bk(realm).update("Customer", h.qbo_id(realm, C.CUSTOMER, other), {"PrimaryPhone": {"FreeFormNumber": "512-555-0142"}})
	_new_emails(h, custs)
	before = len(h.store.list_audit(realm))
	h.engine.push(realm)
	return custs, clash, other, _since(h, realm, before)


def test_a_5010_inside_a_batch_of_updates_ends_exactly_as_on_a_single_request(sandbox, tmp_path):
	"""Same scenario twice: batched, and one request per update. The two stale items of the batch are
	re-read and merged as a single 5010 is: the both-sided email is held for review (her email stays in
	QuickBooks), the phone-only edit is merged and our email sent with the fresh SyncToken. Both end the same."""
	batched, single = Harness(sandbox, tmp_path, "batched.db"), Harness(sandbox, tmp_path, "single.db")
	try:
		r1 = batched.new_realm(conflict_policy=C.REVIEW)
		r2 = single.new_realm(conflict_policy=C.REVIEW)
		single.engine.pusher.batching = False
		custs, clash, other, rows = _stale_scenario(batched, r1)
		_, _, _, single_rows = _stale_scenario(single, r2)
		assert [r.operation for r in rows].count("batch") == 1 and "batch" not in [r.operation for r in single_rows]
		assert [r.operation for r in rows if r.direction == C.OUTBOUND] == ["batch", "read", "read", "update"]
		outcome = _stale_outcome(batched, r1, custs)
		assert outcome == _stale_outcome(single, r2, custs)
		books, review, outbox = outcome
		by_id = {b[0]: b for b in books}
		assert by_id[clash][1] == "kim@books.example"  # her edit is never overwritten
		assert by_id[other][1:4] == ("billing17@new.example", "512-555-0142", "billing17@new.example")
		assert [(r[0], r[1], r[2]) for r in review] == [(clash, "field_conflict", C.OPEN)]
		assert [(o[0], o[2]) for o in outbox if o[1] == "update" and o[2] != C.DONE] == [(clash, C.PARKED)]
	finally:
		batched.close()
		single.close()


def test_a_lost_batch_answer_on_updates_is_settled_with_one_query(harness, realm, sandbox):
	h = harness
	custs = _customers(h, realm, 4)
	_new_emails(h, custs)
	sandbox.set_faults(realm, script=["lost_response"] * 3)  # QBO applies the batch; every answer is lost
	assert h.engine.push(realm)["failed"] == 4
	batches = [r for r in h.store.list_audit(realm) if r.operation == "batch"]
	assert len(batches) == 3 and len({r.request_id for r in batches}) == 1
	sandbox.set_faults(realm, script=[])
	sandbox.advance_clock(minutes=5)
	before = len(h.store.list_audit(realm))
	assert h.engine.push(realm)["done"] == 4
	rows = [r for r in _since(h, realm, before) if r.direction == C.OUTBOUND]
	assert [(r.operation, r.qbo_entity) for r in rows] == [("query", "Customer")]  # one per batch, nothing re-sent
	assert h.store.list_conflicts(realm) == []  # our own lost write is not taken for a bookkeeper's edit
	for k, cust in enumerate(custs):
		remote = h.bk(realm).read("Customer", h.qbo_id(realm, C.CUSTOMER, cust))
		assert remote["PrimaryEmailAddr"]["Address"] == f"billing{k}@new.example"
		assert h.store.get_mapping(realm, C.CUSTOMER, cust).sync_token == remote["SyncToken"]


def test_a_worker_dying_after_a_batch_of_updates_was_sent_recovers_with_one_query(sandbox, tmp_path):
	h = Harness(sandbox, tmp_path)
	realm = h.new_realm()
	custs = _customers(h, realm, 3)
	_new_emails(h, custs)
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
	assert {e.state for e in h.store.list_outbox(realm, local_type=C.CUSTOMER) if e.action == "update"} == {C.IN_FLIGHT}
	h.close()
	restarted = Harness(sandbox, tmp_path)
	restarted.tokens = h.tokens
	before = len(restarted.store.list_audit(realm))
	assert restarted.engine.push(realm)["done"] == 3
	rows = [r for r in restarted.store.list_audit(realm)[before:] if r.direction == C.OUTBOUND]
	assert [r.operation for r in rows] == ["query"]
	assert restarted.store.list_conflicts(realm) == []
	for k, cust in enumerate(custs):
		remote = h.bk(realm).read("Customer", restarted.qbo_id(realm, C.CUSTOMER, cust))
		assert remote["PrimaryEmailAddr"]["Address"] == f"billing{k}@new.example"
	restarted.close()


def test_a_throttled_batch_of_updates_is_retried_with_the_same_requestid(harness, realm, sandbox):
	h = harness
	custs = _customers(h, realm, 3)
	_new_emails(h, custs)
	sandbox.set_faults(realm, script=["throttle"])
	assert h.engine.push(realm)["done"] == 3
	batches = [r for r in h.store.list_audit(realm) if r.operation == "batch"]
	assert [r.outcome for r in batches] == ["ThrottleError", "ok"] and len({r.request_id for r in batches}) == 1
	assert h.store.list_conflicts(realm) == []
