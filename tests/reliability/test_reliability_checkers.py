"""The checkers can fail: each test builds a small synced world, shows the checker passes on it, plants the
violation the checker exists for (by hand, through the same HTTP API or stores a buggy engine would use), and
shows the checker reports it. A checker that cannot fail would make the soak and crash tests worthless."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from reliability_kit import (
	NO_FAULTS,
	Workload,
	World,
	check_audit,
	check_duplicates,
	check_nothing_lost,
	check_outbox_settled,
	check_overwrites,
	check_realm_isolation,
)

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import AuditRow


@pytest.fixture
def small(tmp_path):
	w = World(tmp_path, 99, n_realms=2, faults=NO_FAULTS)
	wl = Workload(w, 99, mid_sync=0.0)
	wl.setup()
	wl.run(120, faults=False)
	w.drain()
	yield w, wl
	w.close()


def raw_client(w: World, rid: str) -> QBOClient:
	"""A client with the engine's credentials but no audit hook: what a buggy engine path would use."""
	return QBOClient(
		rid,
		base_url=w.sb.base_url,
		tokens=w.tokens[rid],
		retry=RetryPolicy(max_attempts=1),
		clock=w.clock.now,
	)


def synced(w: World, wl: Workload, rid: str, local_type: str) -> list[str]:
	pool = {C.CUSTOMER: wl.o.customers, C.INVOICE: wl.o.invoices}[local_type][rid]
	out = []
	for lid in pool:
		m = w.store.get_mapping(rid, local_type, lid)
		if m is None or m.status != C.ACTIVE:
			continue
		if local_type == C.INVOICE and (
			w.ledger.get(w.company[rid], C.INVOICE, lid)["state"] != "submitted"
			or w.store.list_conflicts(rid, status=C.OPEN, local_type=C.INVOICE, local_id=lid)
		):
			continue
		out.append(lid)
	return out


def editable_invoice(w: World, wl: Workload, rid: str) -> str:
	"""A synced, unpaid invoice whose first line has qty > 2 (her edit cuts it by one hour)."""
	for lid in synced(w, wl, rid, C.INVOICE):
		rec = w.qbo_get(rid, "Invoice", w.store.get_mapping(rid, C.INVOICE, lid).qbo_id).data
		if (
			rec["Balance"] == rec["TotalAmt"]
			and w.ledger.get(w.company[rid], C.INVOICE, lid)["lines"][0]["qty"] > 2
		):
			return lid
	raise AssertionError("no editable invoice in the small world")


def test_duplicate_checker_catches_a_second_qbo_record(small):
	w, wl = small
	rid = w.realms[0]
	assert check_duplicates(w) == []
	inv = synced(w, wl, rid, C.INVOICE)[0]
	m = w.store.get_mapping(rid, C.INVOICE, inv)
	original = w.qbo_get(rid, "Invoice", m.qbo_id).data
	# what a retry that minted a new requestid would leave behind: the same invoice created twice
	copy = {k: original[k] for k in ("CustomerRef", "DocNumber", "TxnDate")}
	copy["Line"] = [
		{k: v for k, v in ln.items() if k not in ("Id", "LineNum")}
		for ln in original["Line"]
		if ln.get("DetailType") == "SalesItemLineDetail"
	]
	raw_client(w, rid).create("Invoice", copy, request_id="planted-duplicate-1")
	found = check_duplicates(w)
	assert any(f"share doc={inv.lower()!r}" in v for v in found), found
	# and a customer created twice under a different name (same person, same e-mail)
	cust = synced(w, wl, rid, C.CUSTOMER)[0]
	email = w.ledger.get(w.company[rid], C.CUSTOMER, cust)["email"]
	raw_client(w, rid).create(
		"Customer",
		{"DisplayName": f"{cust} (2)", "PrimaryEmailAddr": {"Address": email}},
		request_id="planted-duplicate-2",
	)
	assert any(f"email={email!r}" in v for v in check_duplicates(w))


def test_overwrite_checker_catches_a_customer_field_written_back(small):
	w, wl = small
	rid = w.realms[0]
	cust = synced(w, wl, rid, C.CUSTOMER)[0]
	m = w.store.get_mapping(rid, C.CUSTOMER, cust)
	old_phone = w.qbo_get(rid, "Customer", m.qbo_id).data["PrimaryPhone"]["FreeFormNumber"]
	wl._bk_customer(rid, cust, "phone", "BK-PLANTED-PHONE", mid=False)
	w.drain()
	assert check_overwrites(w, wl.o) == []  # the engine kept it (and copied it into the ledger)
	assert w.ledger.get(w.company[rid], C.CUSTOMER, cust)["phone"] == "BK-PLANTED-PHONE"
	# plant: the sync writes the ledger's stale value back over hers
	cur = w.qbo_get(rid, "Customer", m.qbo_id).data
	raw_client(w, rid).update(
		"Customer",
		{"Id": m.qbo_id, "SyncToken": cur["SyncToken"], "PrimaryPhone": {"FreeFormNumber": old_phone}},
	)
	found = check_overwrites(w, wl.o)
	assert any("'BK-PLANTED-PHONE' was overwritten" in v for v in found), found


def test_overwrite_checker_treats_a_later_informed_local_edit_as_legitimate(small):
	"""The other side of the rule: once the ledger shows her value, a person may change it again."""
	w, wl = small
	rid = w.realms[0]
	cust = synced(w, wl, rid, C.CUSTOMER)[0]
	wl._bk_customer(rid, cust, "notes", "BK-NOTE", mid=False)
	w.drain()
	wl._local_edit(rid, cust, "notes")  # informed: the ledger already shows BK-NOTE
	w.drain()
	assert check_overwrites(w, wl.o) == [] and check_nothing_lost(w, wl.o) == []
	m = w.store.get_mapping(rid, C.CUSTOMER, cust)
	assert w.qbo_get(rid, "Customer", m.qbo_id).data["Notes"] != "BK-NOTE"


def test_overwrite_checker_catches_an_invoice_edit_reverted_or_voided(small):
	w, wl = small
	rid = w.realms[1]
	inv = editable_invoice(w, wl, rid)
	m = w.store.get_mapping(rid, C.INVOICE, inv)
	before = w.qbo_get(rid, "Invoice", m.qbo_id).snapshot()
	wl._bk_invoice(rid, inv, 1, mid=False)
	assert wl.o.bk_edits[-1].local_id == inv
	w.drain()
	assert check_overwrites(w, wl.o) == []  # kept, and held for review
	cur = w.qbo_get(rid, "Invoice", m.qbo_id).data
	lines = [
		{k: v for k, v in ln.items() if k != "LineNum"}
		for ln in before["Line"]
		if ln.get("DetailType") == "SalesItemLineDetail"
	]
	raw_client(w, rid).update("Invoice", {"Id": m.qbo_id, "SyncToken": cur["SyncToken"], "Line": lines})
	assert any("!= her" in v for v in check_overwrites(w, wl.o))
	cur = w.qbo_get(rid, "Invoice", m.qbo_id).data
	raw_client(w, rid).void("Invoice", m.qbo_id, cur["SyncToken"])
	assert any("voided by the sync" in v for v in check_overwrites(w, wl.o))


def test_overwrite_checker_catches_a_bookkeeper_edit_without_review(small):
	w, wl = small
	rid = w.realms[1]
	inv = editable_invoice(w, wl, rid)
	wl._bk_invoice(rid, inv, 1, mid=False)
	assert wl.o.bk_edits[-1].local_id == inv
	w.drain()
	for c in w.store.list_conflicts(rid, status=C.OPEN, local_type=C.INVOICE, local_id=inv):
		c.status = C.RESOLVED  # plant: the review item disappears
		w.store.save_conflict(c)
	assert any("no open review item" in v for v in check_overwrites(w, wl.o))


def test_lost_change_checker_catches_unsent_work(small):
	w, wl = small
	rid = w.realms[0]
	assert check_nothing_lost(w, wl.o) == [] and check_outbox_settled(w) == []
	cust = synced(w, wl, rid, C.CUSTOMER)[0]
	wl._local_edit(rid, cust, "company_name")  # recorded, never pushed
	wl.invoice(rid)  # submitted, never pushed
	lost = check_nothing_lost(w, wl.o)
	assert any(f"customer {cust}: company_name" in v and "never arrived" in v for v in lost), lost
	assert any(f"invoice {wl.o.invoices[rid][-1]}: not in QBO" in v for v in lost), lost
	assert len(check_outbox_settled(w)) >= 2
	# a review item with a reason makes the same document acceptable: that is the invariant's other branch
	entry = w.store.list_outbox(rid, local_type=C.INVOICE, local_id=wl.o.invoices[rid][-1])[0]
	w.engine._park(
		w.engine.context(rid), entry, "rejected", "planted: QuickBooks refused it", [C.ACTION_RETRY]
	)
	assert not any(wl.o.invoices[rid][-1] in v for v in check_nothing_lost(w, wl.o))


def test_cross_realm_checker_catches_a_foreign_document(small):
	w, _ = small
	a, b = w.realms
	assert check_realm_isolation(w) == []
	raw_client(w, b).create(
		"Customer",
		{
			"DisplayName": f"{w.tag[a]} Client 9999",
			"PrimaryEmailAddr": {"Address": f"x@{w.tag[a].lower()}-client.example"},
		},
		request_id="planted-cross-1",
	)
	found = check_realm_isolation(w)
	assert any(f"realm {w.tag[b]}: Customer" in v and w.tag[a] in v for v in found), found


def test_audit_checker_catches_a_missing_and_an_invented_row(small):
	w, _ = small
	rid = w.realms[0]
	assert check_audit(w) == []
	# an engine request that left no audit row (the raw client has no hook)
	raw_client(w, rid).read("Customer", w.store.list_mappings(rid, C.CUSTOMER)[0].qbo_id)
	assert any("without an audit row" in v for v in check_audit(w))
	assert any("1 engine requests" in v for v in check_audit(w, max_missing=0))
	assert not any("without an audit row" in v for v in check_audit(w, max_missing=1))
	# an audit row for a request that never reached the server
	w.store.append_audit(
		AuditRow(
			realm_id=rid,
			direction=C.OUTBOUND,
			qbo_entity="Customer",
			operation="read",
			http_method="GET",
			url=f"/v3/company/{rid}/customer/424242?minorversion=75",
			http_status=200,
			timestamp=w.clock.now() + timedelta(seconds=1),
		)
	)
	assert any("never saw" in v for v in check_audit(w))
	# and a request the sandbox counted that nobody (tap) can explain
	r = requests.get(
		f"{w.sb.base_url}/v3/company/{rid}/preferences", headers={"Authorization": "Bearer nope"}
	)
	assert r.status_code == 401  # not counted by the sandbox, so still explained
	assert not any("tap does not explain" in v for v in check_audit(w))
