"""Issue 7 §4: one entity's masters stay in its own QBO.

ERPNext customers and items are global (no company); the SQLite reference ledger models that, so these
tests see what a bench sees: a master goes to a realm only when that realm's Company uses it (its first
document there) or when a person exports it to that realm explicitly, never to every realm.
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C

LLC_A = "Nexora Staffing Inc"
LLC_B = "Nexora Staffing Canada"


def _qbo_customers(h, realm, name):
	return h.bk(realm).query(f"select * from Customer where DisplayName = '{name}'").get("Customer", [])


def _two_realms(h):
	return h.new_realm(LLC_A), h.new_realm(LLC_B)


def test_a_customer_used_by_company_a_never_reaches_realm_b(harness):
	h = harness
	ra, rb = _two_realms(h)
	cust = h.ledger.create_customer(LLC_A, "Harbor Freight Staffing", email="ap@harbor.example")
	item = h.ledger.create_item(LLC_A, "Dock Hours", rate="30.00")
	assert h.store.list_outbox(ra) == [] and h.store.list_outbox(rb) == []  # a new master goes nowhere yet
	inv = h.ledger.submit_invoice(LLC_A, cust, [{"item": item, "qty": 2, "rate": "30.00"}], "2026-11-03")
	h.engine.push(ra)
	h.engine.push(rb)
	h.engine.initial_export(rb)  # B's first export sends only what B's Company uses
	h.engine.sync(rb)
	assert h.store.get_mapping(ra, C.INVOICE, inv) and h.store.get_mapping(ra, C.CUSTOMER, cust)
	assert len(_qbo_customers(h, ra, "Harbor Freight Staffing")) == 1
	assert _qbo_customers(h, rb, "Harbor Freight Staffing") == []
	assert h.store.get_mapping(rb, C.CUSTOMER, cust) is None and h.store.get_mapping(rb, C.ITEM, item) is None
	assert not h.bk(rb).query("select * from Item where Name = 'Dock Hours'").get("Item")
	assert h.ledger.used_by(C.CUSTOMER, cust) == {LLC_A} and h.ledger.used_by(C.ITEM, item) == {LLC_A}


def test_an_explicit_choice_sends_the_master_to_that_realm_only(harness):
	h = harness
	ra, rb = _two_realms(h)
	cust = h.ledger.create_customer(LLC_A, "Maple Ridge Clinics", email="ap@maple.example")
	entry = h.engine.export_master(rb, C.CUSTOMER, cust)
	assert entry.action == "create" and h.store.list_outbox(ra) == []
	h.engine.push(rb)
	h.engine.push(ra)
	assert len(_qbo_customers(h, rb, "Maple Ridge Clinics")) == 1
	assert _qbo_customers(h, ra, "Maple Ridge Clinics") == []


def test_a_master_update_goes_only_to_the_realms_that_already_have_it(harness):
	h = harness
	ra, rb = _two_realms(h)
	cust = h.ledger.create_customer(LLC_A, "Pine Valley Foods", email="ap@pine.example")
	h.ledger.submit_invoice(LLC_A, cust, [{"description": "Setup", "qty": 1, "rate": "10.00"}], "2026-11-03")
	h.engine.push(ra)
	h.ledger.update_customer(LLC_A, cust, phone="512-555-0100")
	assert [e.action for e in h.store.list_outbox(ra, states=C.OPEN_STATES)] == ["update"]
	assert h.store.list_outbox(rb) == []
	h.engine.push(ra)
	qid = h.qbo_id(ra, C.CUSTOMER, cust)
	assert h.bk(ra).read("Customer", qid)["PrimaryPhone"]["FreeFormNumber"] == "512-555-0100"


def test_initial_export_sends_only_masters_the_company_uses(harness):
	h = harness
	ra, rb = _two_realms(h)
	a_cust = h.ledger.create_customer(LLC_A, "Only A Co", email="a@only.example")
	b_cust = h.ledger.create_customer(LLC_B, "Only B Co", email="b@only.example")
	idle = h.ledger.create_customer(LLC_A, "Idle Prospect Co", email="idle@prospect.example")
	h.ledger.submit_invoice(LLC_A, a_cust, [{"description": "Week 45", "qty": 1, "rate": "50.00"}], "2026-11-03")
	h.ledger.submit_invoice(LLC_B, b_cust, [{"description": "Week 45", "qty": 1, "rate": "60.00"}], "2026-11-03")
	assert h.ledger.list_ids(LLC_A, C.CUSTOMER) == [a_cust]
	assert h.ledger.list_ids(LLC_B, C.CUSTOMER) == [b_cust]
	h.engine.initial_export(ra)
	h.engine.initial_export(rb)
	assert _qbo_customers(h, ra, "Only A Co") and not _qbo_customers(h, ra, "Only B Co")
	assert _qbo_customers(h, rb, "Only B Co") and not _qbo_customers(h, rb, "Only A Co")
	assert not _qbo_customers(h, ra, "Idle Prospect Co") and not _qbo_customers(h, rb, "Idle Prospect Co")
	assert h.store.get_mapping(ra, C.CUSTOMER, idle) is None


def test_customers_already_exported_that_only_another_company_uses_are_reported_not_deleted(harness):
	h = harness
	ra, rb = _two_realms(h)
	cust = h.ledger.create_customer(LLC_A, "Lakeside Logistics", email="ap@lakeside.example")
	# sent to B before masters were kept per entity (here: by an explicit export), used only by A
	h.engine.export_master(rb, C.CUSTOMER, cust)
	h.engine.push(rb)
	h.ledger.submit_invoice(LLC_A, cust, [{"description": "Week 46", "qty": 1, "rate": "70.00"}], "2026-11-10")
	h.engine.push(ra)
	rows = h.engine.masters_elsewhere(rb)
	assert [(r["local_type"], r["local_id"], r["used_by"]) for r in rows] == [(C.CUSTOMER, cust, [LLC_A])]
	assert h.engine.masters_elsewhere(ra) == []
	text = h.engine.format_masters_elsewhere(rows, LLC_B)
	assert "Lakeside Logistics" in text and "inactive in QuickBooks" in text and "keep_" not in text
	qid = h.qbo_id(rb, C.CUSTOMER, cust)
	h.engine.sync(rb)
	assert h.bk(rb).read("Customer", qid)["Active"] is True  # reported, never deleted or deactivated


def test_a_customer_realm_b_already_had_is_not_reported_as_crossing_over(harness):
	"""B's QuickBooks had its own "Acme Logistics" before it was connected; B's pull links it to the global
	ERPNext customer that only A uses. The sync never sent it to B, so telling B's bookkeeper to make her own
	customer inactive would be wrong advice: only masters the sync sent to B are reported."""
	h = harness
	ra, rb = _two_realms(h)
	h.engine.initial_import(ra)  # A's QuickBooks brings Acme Logistics into ERPNext (customers are global)
	acme = h.store.get_mapping_by_qbo(ra, "Customer", h.seeds[ra]["customers"]["Acme Logistics"]).local_id
	h.ledger.submit_invoice(LLC_A, acme, [{"description": "Week 47", "qty": 1, "rate": "80.00"}], "2026-11-17")
	h.engine.push(ra)
	h.engine.initial_import(rb)  # B's own Acme Logistics (same name and email) links to the same customer
	m = h.store.get_mapping(rb, C.CUSTOMER, acme)
	assert m is not None and m.origin == C.ORIGIN_QBO and h.ledger.used_by(C.CUSTOMER, acme) == {LLC_A}
	assert [r["local_id"] for r in h.engine.masters_elsewhere(rb)] == []
	h.engine.export_master(rb, C.CUSTOMER, lakeside := h.ledger.create_customer(LLC_A, "Lakeside Co", email="l@k.example"))
	h.engine.push(rb)
	h.ledger.submit_invoice(LLC_A, lakeside, [{"description": "Week 47", "qty": 1, "rate": "70.00"}], "2026-11-17")
	h.engine.push(ra)
	assert [r["local_id"] for r in h.engine.masters_elsewhere(rb)] == [lakeside]  # one the sync sent is reported
