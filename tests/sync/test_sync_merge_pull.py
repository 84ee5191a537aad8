"""Inbound behaviours and the conflict policy, against the sandbox over real HTTP with the real client."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from nexora_qbo.qbo import WebhookEvent
from nexora_qbo.sync import constants as C

CO = "Nexora Staffing Inc"


def _pushed_customer(h, realm, name="Merge Co", **fields):
	cust = h.ledger.create_customer(CO, name, email=f"ap@{name.split()[0].lower()}.example", **fields)
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	h.engine.push(realm)
	h.engine.pull(realm)  # the cursor now stands after our own writes
	return cust, h.qbo_id(realm, C.CUSTOMER, cust)


def _pushed_invoices(h, realm, n=1, qty="10"):
	cust = h.ledger.create_customer(CO, "Bluewater Clinics", email="ap@bluewater.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	item = h.ledger.create_item(CO, "Nurse Hours", rate="80.00", income_account="Sales - NX")
	h.engine.export_master(realm, C.ITEM, item)  # this realm's Company uses it
	invs = [h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": qty, "rate": "80.00"}], f"2026-11-0{i + 1}")
		for i in range(n)]
	h.engine.push(realm)
	h.engine.pull(realm)
	return cust, item, invs


def _bookkeeper_sets_first_line(h, realm, qid, *, qty, amount):
	"""The bookkeeper changes the hours (and amount) of an invoice's first item line in QBO."""
	remote = h.bk(realm).read("Invoice", qid)
	line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
	line["SalesItemLineDetail"]["Qty"] = qty
	line["Amount"] = Decimal(amount)
	h.bk(realm).update("Invoice", qid, {"Line": [line]})


def test_bookkeeper_edit_of_a_customer_is_merged_field_by_field(harness, realm):
	h = harness
	cust, qid = _pushed_customer(h, realm)
	h.bk(realm).update("Customer", qid, {"CompanyName": "Merge Company LLC"})
	h.ledger.update_customer(CO, cust, phone="512-555-0142")  # not pushed yet
	h.engine.pull(realm)
	local = h.ledger.get(CO, C.CUSTOMER, cust)
	assert local["company_name"] == "Merge Company LLC" and local["phone"] == "512-555-0142"
	h.engine.push(realm)
	remote = h.bk(realm).read("Customer", qid)
	assert remote["CompanyName"] == "Merge Company LLC"
	assert remote["PrimaryPhone"]["FreeFormNumber"] == "512-555-0142"
	assert h.store.list_conflicts(realm) == []


def test_both_sided_change_keeps_qbo_value_and_records_an_auto_resolved_conflict(harness, realm):
	h = harness
	cust, qid = _pushed_customer(h, realm)
	h.bk(realm).update("Customer", qid, {"PrimaryPhone": {"FreeFormNumber": "512-555-0001"}})
	h.ledger.update_customer(CO, cust, phone="512-555-0002")
	h.engine.pull(realm)
	h.engine.push(realm)
	assert h.bk(realm).read("Customer", qid)["PrimaryPhone"]["FreeFormNumber"] == "512-555-0001"
	assert h.ledger.get(CO, C.CUSTOMER, cust)["phone"] == "512-555-0001"
	[conflict] = h.store.list_conflicts(realm)
	assert conflict.status == C.AUTO_RESOLVED and conflict.resolution == C.ACTION_KEEP_QBO
	assert conflict.diffs[0]["field"] == "phone" and "QuickBooks" in conflict.reason


def test_both_sided_change_is_held_for_review_when_the_realm_says_so(harness):
	h = harness
	realm = h.new_realm(conflict_policy=C.REVIEW)
	cust, qid = _pushed_customer(h, realm)
	h.bk(realm).update("Customer", qid, {"PrimaryPhone": {"FreeFormNumber": "512-555-0001"}, "Notes": "VIP"})
	h.ledger.update_customer(CO, cust, phone="512-555-0002")
	h.engine.pull(realm)
	h.engine.push(realm)
	assert h.bk(realm).read("Customer", qid)["PrimaryPhone"]["FreeFormNumber"] == "512-555-0001"
	assert h.ledger.get(CO, C.CUSTOMER, cust)["phone"] == "512-555-0002"
	assert h.ledger.get(CO, C.CUSTOMER, cust)["notes"] == "VIP"  # the one-sided QBO edit still flows
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	assert conflict.kind == "field_conflict" and C.ACTION_KEEP_LOCAL in conflict.actions
	assert any(e.state == C.PARKED for e in h.store.list_outbox(realm, local_id=cust))
	h.engine.resolve_conflict(conflict.id, C.ACTION_KEEP_LOCAL, by="jane@agency")
	h.engine.push(realm)
	assert h.bk(realm).read("Customer", qid)["PrimaryPhone"]["FreeFormNumber"] == "512-555-0002"
	assert h.store.get_conflict(conflict.id).resolved_by == "jane@agency"


def test_bookkeeper_edit_of_invoice_lines_becomes_a_review_item_and_nothing_is_overwritten(harness, realm):
	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	before_local = h.ledger.get(CO, C.INVOICE, inv)
	_bookkeeper_sets_first_line(h, realm, qid, qty=12, amount="960.00")
	h.engine.pull(realm)
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	assert conflict.kind == "transaction_edited" and "lines" in conflict.reason
	assert conflict.local_version["total"] == "800.00" and conflict.qbo_version["total"] == "960.00"
	assert h.ledger.get(CO, C.INVOICE, inv) == before_local
	h.engine.record_change(realm, C.INVOICE, inv, "update")  # even an explicit re-push must not overwrite
	h.engine.push(realm)
	assert Decimal(str(h.bk(realm).read("Invoice", qid)["TotalAmt"])) == Decimal("960.00")
	assert h.store.list_outbox(realm, local_id=inv)[-1].state == C.PARKED


def test_payment_applied_in_qbo_partial_and_multi_invoice_lands_locally(harness, realm):
	"""A QBO payment of 1200 over two 800 invoices (800 + 400): the local payment is created with both
	allocations and the outstanding amounts follow; the SyncToken bump on the invoices is NOT an edit."""
	h = harness
	cust, item, invs = _pushed_invoices(h, realm, n=2)
	q1, q2 = (h.qbo_id(realm, C.INVOICE, i) for i in invs)
	h.bk(realm).receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "1200.00", [q1, q2])
	counts = h.engine.pull(realm)
	assert counts.get("imported") == 1, counts
	[pay] = h.store.list_mappings(realm, C.PAYMENT)
	local_pay = h.ledger.get(CO, C.PAYMENT, pay.local_id)
	assert local_pay["total"] == Decimal("1200.00")
	assert {(a["doc_key"], a["amount"]) for a in local_pay["applications"]} == {
		(invs[0], Decimal("800.00")), (invs[1], Decimal("400.00"))}
	assert h.ledger.outstanding(CO, C.INVOICE, invs[0]) == Decimal("0.00")
	assert h.ledger.outstanding(CO, C.INVOICE, invs[1]) == Decimal("400.00")
	assert h.store.list_conflicts(realm) == []
	assert h.store.get_mapping(realm, C.INVOICE, invs[0]).sync_token == h.bk(realm).read("Invoice", q1)["SyncToken"]


def test_credit_memo_created_in_qbo_becomes_a_local_credit_note_and_its_application_follows(harness, realm):
	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	bk = h.bk(realm)
	qcust, qinv, qitem = (h.qbo_id(realm, t, i) for t, i in ((C.CUSTOMER, cust), (C.INVOICE, inv), (C.ITEM, item)))
	cm = bk.create("CreditMemo", {"CustomerRef": {"value": qcust}, "Line": [{"DetailType": "SalesItemLineDetail",
		"Amount": Decimal("160.00"), "SalesItemLineDetail": {"ItemRef": {"value": qitem}, "Qty": 2,
		"UnitPrice": Decimal("80.00")}}]})
	bk.create("Payment", {"CustomerRef": {"value": qcust}, "TotalAmt": Decimal(0), "Line": [
		{"Amount": Decimal("160.00"), "LinkedTxn": [{"TxnId": qinv, "TxnType": "Invoice"}]},
		{"Amount": Decimal("160.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	h.engine.pull(realm)
	cn_id = h.store.get_mapping_by_qbo(realm, "CreditMemo", cm["Id"]).local_id
	cn = h.ledger.get(CO, C.CREDIT_MEMO, cn_id)
	assert cn["total"] == Decimal("160.00") and cn["customer"] == cust and cn["lines"][0]["item"] == item
	assert h.ledger.outstanding(CO, C.CREDIT_MEMO, cn_id) == Decimal("0.00")
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("640.00")


def test_qbo_void_becomes_a_review_item_by_default(harness, realm):
	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	h.bk(realm).void("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	h.engine.pull(realm)
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	assert conflict.kind == "remote_void" and C.ACTION_ACCEPT_QBO in conflict.actions
	assert h.ledger.get(CO, C.INVOICE, inv)["state"] == "submitted"
	h.engine.resolve_conflict(conflict.id, C.ACTION_ACCEPT_QBO, by="jane")
	assert h.ledger.get(CO, C.INVOICE, inv)["state"] == "cancelled"


def test_qbo_void_is_followed_when_the_realm_says_so(harness):
	h = harness
	realm = h.new_realm(void_policy=C.FOLLOW)
	cust, item, [inv] = _pushed_invoices(h, realm)
	h.bk(realm).void("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	h.engine.pull(realm)
	assert h.ledger.get(CO, C.INVOICE, inv)["state"] == "cancelled"
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("0.00")
	[conflict] = h.store.list_conflicts(realm)
	assert conflict.status == C.AUTO_RESOLVED and conflict.kind == "remote_void"
	assert h.store.list_outbox(realm, local_id=inv)[-1].action == "create"  # following QBO queues no echo


def test_echoes_of_our_own_writes_are_skipped(harness, realm):
	h = harness
	cust = h.ledger.create_customer(CO, "Echo Co", email="e@echo.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)  # this realm's Company uses it
	h.engine.pull(realm)
	h.engine.push(realm)
	counts = h.engine.pull(realm)
	assert counts.get("echo") == 1 and not counts.get("updated") and not counts.get("imported")
	assert [e.action for e in h.store.list_events(realm) if e.local_id == cust] == ["created"]
	assert h.store.list_outbox(realm, local_id=cust)[-1].state == C.DONE
	assert len(h.store.list_outbox(realm, local_id=cust)) == 1


def test_cursor_overlaps_dedupes_and_never_advances_past_a_failed_fetch(harness, realm, sandbox):
	h = harness
	h.engine.pull(realm)
	cursor = h.store.get_cursor(realm)
	bk = h.bk(realm)
	new = bk.create("Customer", {"DisplayName": "Overlap Co"})
	sandbox.set_faults(realm, script=["error503"] * 3)
	counts = h.engine.pull(realm)
	assert counts == {"interrupted": 1}
	assert h.store.get_cursor(realm).changed_since == cursor.changed_since
	assert h.store.get_mapping_by_qbo(realm, "Customer", new["Id"]) is None
	assert h.engine.pull(realm).get("imported") == 1
	after = h.store.get_cursor(realm)
	assert after.changed_since > cursor.changed_since and after.seen.get(f"Customer:{new['Id']}") == new["SyncToken"]
	again = h.engine.pull(realm)  # the overlap window sees Overlap Co again: skipped by (Id, SyncToken)
	assert again.get("duplicate", 0) + again.get("echo", 0) >= 1 and not again.get("imported")
	assert h.ledger.list_all(CO, C.CUSTOMER).count("Overlap Co") == 1


def test_webhook_events_pull_the_named_records_of_their_realm_only(harness, realm):
	h = harness
	cust, qid = _pushed_customer(h, realm, name="Hooked Co")
	h.bk(realm).update("Customer", qid, {"Notes": "Prefers ACH"})
	now = datetime.now(timezone.utc)
	events = [WebhookEvent(realm, "Customer", qid, "Update", now),
		WebhookEvent("999999", "Customer", qid, "Update", now)]
	counts = h.engine.pull_events(realm, events)
	assert counts == {"updated": 1, "other_realm": 1}
	assert h.ledger.get(CO, C.CUSTOMER, cust)["notes"] == "Prefers ACH"


def test_a_webhook_delete_is_confirmed_by_a_read(harness, realm):
	"""A Delete event for a record that still exists in QBO (forged, or out of order) deletes nothing."""
	h = harness
	cust, qid = _pushed_customer(h, realm, name="Still Here Co")
	now = datetime.now(timezone.utc)
	counts = h.engine.pull_events(realm, [WebhookEvent(realm, "Customer", qid, "Delete", now, deleted_id=qid)])
	assert counts.get("delete_not_confirmed") == 1
	assert h.store.get_mapping(realm, C.CUSTOMER, cust).status == "active"
	assert h.ledger.get(CO, C.CUSTOMER, cust) is not None


def test_cursor_older_than_30_days_falls_back_to_queries_and_an_id_sweep_finds_deletions(harness, realm, sandbox):
	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	bk = h.bk(realm)
	bk.delete("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	sandbox.advance_clock(days=31)
	bk = h.renew_bookkeeper(realm)  # its access token expired with the 31 days
	late = bk.create("Customer", {"DisplayName": "Late Arrival Co"})
	cdc_before = len([a for a in h.store.list_audit(realm) if a.operation == "cdc"])
	counts = h.engine.pull(realm)
	assert counts.get("fallback") == 1
	assert len([a for a in h.store.list_audit(realm) if a.operation == "cdc"]) == cdc_before  # CDC not asked
	assert any(a.operation == "query" and "LastUpdatedTime" in (a.url or "") for a in h.store.list_audit(realm))
	assert h.store.get_mapping_by_qbo(realm, "Customer", late["Id"]) is not None
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	assert conflict.kind == "remote_delete" and conflict.local_id == inv
	assert h.store.get_mapping(realm, C.INVOICE, inv).status == C.DELETED
	assert h.store.get_cursor(realm).last_sweep_at is not None


def test_keep_qbo_takes_only_the_conflicting_fields_and_local_only_changes_still_go_out(harness):
	h = harness
	realm = h.new_realm(conflict_policy=C.REVIEW)
	cust, qid = _pushed_customer(h, realm, name="Choice Co")
	h.bk(realm).update("Customer", qid, {"PrimaryPhone": {"FreeFormNumber": "111"}})
	h.ledger.update_customer(CO, cust, phone="222", email="new@choice.example")
	h.engine.pull(realm)
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	h.engine.resolve_conflict(conflict.id, C.ACTION_KEEP_QBO, by="jane")
	h.engine.push(realm)
	remote = h.bk(realm).read("Customer", qid)
	assert remote["PrimaryPhone"]["FreeFormNumber"] == "111"
	assert remote["PrimaryEmailAddr"]["Address"] == "new@choice.example"
	local = h.ledger.get(CO, C.CUSTOMER, cust)
	assert local["phone"] == "111" and local["email"] == "new@choice.example"


def test_cursor_stays_put_when_the_deletion_sweep_is_interrupted_and_applied_records_are_not_redone(
		harness, realm, sandbox):
	h = harness
	h.engine.pull(realm)
	sandbox.advance_clock(days=31)
	bk = h.renew_bookkeeper(realm)
	new = bk.create("Customer", {"DisplayName": "Sweep Co"})
	cursor = h.store.get_cursor(realm)
	# the per-entity queries succeed (records applied), then the first Id-sweep query fails three times
	sandbox.set_faults(realm, script=["none"] * len(C.PULL_ENTITIES) + ["error503"] * 3)
	h.engine.pull(realm)
	assert h.store.get_mapping_by_qbo(realm, "Customer", new["Id"]) is not None
	after_failure = h.store.get_cursor(realm)
	assert after_failure.changed_since == cursor.changed_since and after_failure.last_sweep_at is None
	counts = h.engine.pull(realm)
	assert not counts.get("imported")
	assert h.store.get_cursor(realm).changed_since > cursor.changed_since
	assert h.ledger.list_all(CO, C.CUSTOMER).count("Sweep Co") == 1


def test_payment_deleted_in_qbo_is_followed_by_cdc_and_the_outstanding_goes_back_up(harness):
	h = harness
	realm = h.new_realm(void_policy=C.FOLLOW)
	cust, item, [inv] = _pushed_invoices(h, realm)
	bk = h.bk(realm)
	pay = bk.receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "300.00", [h.qbo_id(realm, C.INVOICE, inv)])
	h.engine.pull(realm)
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("500.00")
	bk.delete("Payment", pay["Id"])
	h.engine.pull(realm)
	local_pay = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"])
	assert local_pay.status == C.DELETED
	assert h.ledger.get(CO, C.PAYMENT, local_pay.local_id)["state"] == "cancelled"
	assert h.ledger.outstanding(CO, C.INVOICE, inv) == Decimal("800.00")


def test_inbound_record_that_cannot_be_booked_is_parked_with_a_reason_and_retried(harness):
	from datetime import date

	h = harness
	realm = h.new_realm(sync_start_date=date(2026, 11, 1))
	h.engine.pull(realm)
	bk = h.bk(realm)
	seed = h.seeds[realm]
	old = bk.create("Invoice", {"CustomerRef": {"value": seed["customers"]["Acme Logistics"]}, "TxnDate": "2026-10-15",
		"Line": [{"DetailType": "SalesItemLineDetail", "Amount": Decimal("450.00"), "SalesItemLineDetail": {
			"ItemRef": {"value": seed["items"]["Staffing Hours"]}, "Qty": 10, "UnitPrice": Decimal("45.00")}}]})
	pay = bk.receive_payment(seed["customers"]["Acme Logistics"], "450.00", [old["Id"]])
	counts = h.engine.pull(realm)
	assert counts.get("parked") == 1 and counts.get("ignored") == 1  # the October invoice is before the start
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	assert conflict.kind == "missing_reference" and conflict.qbo_id == pay["Id"] and "could not be brought" in conflict.reason
	assert h.store.get_cursor(realm).seen.get(f"Payment:{pay['Id']}")  # parked counts as handled: cursor moves on
	settings = h.store.get_settings(realm)
	settings.sync_start_date = date(2026, 10, 1)
	h.engine.connect(settings)
	h.engine.resolve_conflict(conflict.id, C.ACTION_RETRY, by="jane")
	local_pay = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"])
	assert local_pay is not None and h.store.get_conflict(conflict.id).status == C.RESOLVED
	local_inv = h.store.get_mapping_by_qbo(realm, "Invoice", old["Id"]).local_id
	assert h.ledger.outstanding(CO, C.INVOICE, local_inv) == Decimal("0.00")


def test_review_of_an_edited_invoice_keep_local_sends_the_erpnext_lines_back(harness, realm):
	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	_bookkeeper_sets_first_line(h, realm, qid, qty=12, amount="960.00")
	h.engine.pull(realm)
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	h.engine.resolve_conflict(conflict.id, C.ACTION_KEEP_LOCAL, by="controller")
	h.engine.push(realm)
	assert Decimal(str(h.bk(realm).read("Invoice", qid)["TotalAmt"])) == Decimal("800.00")
	assert h.engine.pull(realm).get("held") is None  # our own write comes back as an echo, not a new review
	assert h.store.list_conflicts(realm, status=C.OPEN) == []


def test_saturated_cdc_is_completed_by_queries_and_an_id_sweep_finds_the_deletion(harness, realm, sandbox,
		monkeypatch):
	"""QBO caps a CDC answer (1000 objects, scaled down to 3 here on both sides): the client reads the
	saturated entity by query and reports it in incomplete_deletes; the engine then sweeps its Ids."""
	import nexora_qbo.qbo.constants as QC

	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	monkeypatch.setattr(QC, "CDC_MAX_OBJECTS", 3)
	sandbox.set_options(realm, cdc_cap=3)
	bk = h.bk(realm)
	bk.delete("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	line = {"DetailType": "SalesItemLineDetail", "Amount": Decimal("80.00"),
		"SalesItemLineDetail": {"ItemRef": {"value": h.qbo_id(realm, C.ITEM, item)}, "Qty": 1, "UnitPrice": Decimal(80)}}
	for _ in range(4):
		bk.create("Invoice", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, cust)}, "Line": [line]})
	counts = h.engine.pull(realm)
	assert counts.get("imported") == 4, counts
	assert h.store.get_mapping(realm, C.INVOICE, inv).status == C.DELETED
	[conflict] = h.store.list_conflicts(realm, status=C.OPEN)
	assert conflict.kind == "remote_delete" and conflict.local_id == inv
	assert h.store.get_cursor(realm).last_sweep_at is not None


def test_keeping_qbos_version_of_an_edited_invoice_leaves_the_difference_in_review_until_accepted(harness, realm):
	"""The sync never rewrites a submitted document, so "keep QBO" cannot make the books agree by itself: the
	remaining difference must stay in the review queue (and the month report) until a person closes it."""
	h = harness
	cust, item, [inv] = _pushed_invoices(h, realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	_bookkeeper_sets_first_line(h, realm, qid, qty=7, amount="560.00")
	h.engine.pull(realm)
	[edited] = h.store.list_conflicts(realm, status=C.OPEN)

	h.engine.resolve_conflict(edited.id, C.ACTION_KEEP_QBO, by="controller")

	[follow_up] = h.store.list_conflicts(realm, status=C.OPEN)
	assert follow_up.kind == "amend_local" and follow_up.id != edited.id
	assert "800.00 here, 560.00 in QuickBooks" in follow_up.reason
	assert h.store.get_conflict(edited.id).resolution == C.ACTION_KEEP_QBO
	assert Decimal(str(h.bk(realm).read("Invoice", qid)["TotalAmt"])) == Decimal("560.00")  # QBO kept
	assert h.engine.pull(realm).get("held") is None  # the kept version is the new base: no new review
	today = h.clock.now()
	assert h.engine.report(realm, today.year, today.month)["awaiting_review"], "the difference shows in the report"

	# Dismiss does not make the books agree: the difference stays in review (issue 7 §2) until a person
	# accepts it knowingly (or amends ERPNext)
	h.engine.resolve_conflict(follow_up.id, C.ACTION_DISMISS, by="controller")
	[differ] = h.store.list_conflicts(realm, status=C.OPEN)
	assert differ.kind == "books_differ" and "800.00 in ERPNext, 560.00 in QuickBooks" in differ.reason
	h.engine.resolve_conflict(differ.id, C.ACTION_ACCEPT_DIFFERENCE, by="controller")
	assert h.store.list_conflicts(realm, status=C.OPEN) == []


def test_the_query_fallback_applies_each_page_as_it_is_read(harness, realm, sandbox):
	"""The >30-day fallback streams its pages (memory stays flat): the customers read before a later query
	fails are already in ERPNext and remembered, the cursor stays put, and the next pull does not book them
	again."""
	h = harness
	h.engine.pull(realm)  # the cursor is set
	before = h.store.get_cursor(realm).changed_since
	sandbox.advance_clock(days=31)
	bk = h.renew_bookkeeper(realm)
	late = bk.create("Customer", {"DisplayName": "Streamed Staffing Co"})
	sandbox.set_faults(realm, script=["none"] + ["throttle"] * 3)  # the Customer page, then the Item query fails
	counts = h.engine.pull(realm)
	assert counts.get("fallback") == 1 and counts.get("interrupted") == 1
	m = h.store.get_mapping_by_qbo(realm, "Customer", late["Id"])
	assert m is not None and h.ledger.get(CO, C.CUSTOMER, m.local_id) is not None  # applied before the failure
	assert h.store.get_cursor(realm).changed_since == before  # invariant 8: nothing skipped
	sandbox.set_faults(realm, script=[])
	counts = h.engine.pull(realm)
	assert counts.get("fallback") == 1 and not counts.get("interrupted") and counts.get("duplicate", 0) >= 1
	assert h.store.get_cursor(realm).changed_since > before
	assert len([x for x in h.ledger.list_all(CO, C.CUSTOMER)
		if h.ledger.get(CO, C.CUSTOMER, x).get("display_name") == "Streamed Staffing Co"]) == 1
