"""First contact (import/export with matching), realm isolation, the audit trail and the report data."""
from __future__ import annotations

from decimal import Decimal

import pytest

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import RealmSettings

CO = "Nexora Staffing Inc"
CO2 = "Nexora Staffing Canada"


def test_initial_import_and_first_export_match_existing_records_without_duplicates(harness):
	h = harness
	realm = h.new_realm()  # seeded QBO company: Acme Logistics, Bluebonnet Health, Lone Star Manufacturing
	led = h.ledger
	acme = led.create_customer(CO, "Acme Logistics", email="AP@acme-logistics.example")  # same company, by email
	acme_dup = led.create_customer(CO, "Acme Logistics", email="other@acme.example")  # ERPNext names it "… - 1"
	fresh = led.create_customer(CO, "Prairie Farms")
	hours = led.create_item(CO, "Staffing Hours", rate="45.00")  # exists in QBO by name
	assert acme_dup == "Acme Logistics - 1"
	# the outbox intents recorded by the local operations are what the first export drains; drop them here
	# to prove initial_export queues on its own
	for e in h.store.list_outbox(realm):
		e.state = C.DONE
		h.store.save_outbox(e)
	imported = h.engine.initial_import(realm)
	assert imported.get("linked") == 2  # ACME (by email) and Staffing Hours (by name)
	assert h.store.get_mapping(realm, C.CUSTOMER, acme).qbo_id == h.seeds[realm]["customers"]["Acme Logistics"]
	assert h.store.get_mapping(realm, C.CUSTOMER, acme_dup) is None  # never matched by name alone
	assert h.store.get_mapping(realm, C.ITEM, hours).qbo_id == h.seeds[realm]["items"]["Staffing Hours"]
	assert "Bluebonnet Health" in led.list_all(CO, C.CUSTOMER)
	for cust in (fresh, acme_dup):  # the Company uses them: the first export sends them with their invoices
		led.submit_invoice(CO, cust, [{"item": hours, "qty": 1, "rate": "45.00"}], "2026-11-02")
	h.engine.initial_export(realm)
	h.engine.initial_export(realm)  # idempotent: a second run creates nothing
	bk = h.bk(realm)
	names = [c["DisplayName"] for c in bk.query("select * from Customer").get("Customer", [])]
	assert names.count("Acme Logistics") == 1 and names.count("Prairie Farms") == 1
	assert names.count("Bluebonnet Health") == 1
	assert h.store.get_mapping(realm, C.CUSTOMER, fresh) is not None
	# the second "Acme Logistics" cannot take the same DisplayName in QBO: a review item says why
	parked = [c for c in h.store.list_conflicts(realm, status=C.OPEN) if c.local_id == acme_dup]
	assert parked and "already has a customer" in parked[0].reason


def test_realms_are_isolated_and_a_company_belongs_to_one_realm(harness):
	h = harness
	r1 = h.new_realm(CO)
	r2 = h.new_realm(CO2)
	with pytest.raises(ValueError):
		h.engine.connect(RealmSettings(realm_id=r2, company=CO))
	c1 = h.ledger.create_customer(CO, "Shared Name Co", email="one@shared.example")
	c2 = h.ledger.create_customer(CO2, "Shared Name Co", email="two@shared.example")  # masters are global: "… - 1"
	assert h.store.list_outbox(r1) == [] and h.store.list_outbox(r2) == []  # a new master goes nowhere by itself
	h.engine.export_master(r1, C.CUSTOMER, c1)
	h.engine.export_master(r2, C.CUSTOMER, c2)
	assert len(h.store.list_outbox(r1)) == 1 and len(h.store.list_outbox(r2)) == 1
	h.engine.push(r1)
	assert h.store.get_mapping(r2, C.CUSTOMER, c2) is None  # pushing realm 1 never touches realm 2
	h.engine.push(r2)
	q1 = h.bk(r1).query("select * from Customer where DisplayName = 'Shared Name Co'")["Customer"]
	q2 = h.bk(r2).query("select * from Customer where DisplayName = 'Shared Name Co'")["Customer"]
	assert q1[0]["PrimaryEmailAddr"]["Address"] == "one@shared.example"
	assert q2[0]["PrimaryEmailAddr"]["Address"] == "two@shared.example"
	h.bk(r2).create("Customer", {"DisplayName": "Only In Realm Two"})
	h.engine.pull(r1)
	assert "Only In Realm Two" not in h.ledger.list_all(CO, C.CUSTOMER)
	h.engine.pull(r2)
	assert "Only In Realm Two" in h.ledger.list_all(CO2, C.CUSTOMER)  # a global ERPNext customer now …
	assert h.store.get_mapping(r1, C.CUSTOMER, "Only In Realm Two") is None  # … that realm 1 never gets
	h.engine.pull(r1)
	h.engine.push(r1)
	assert not h.bk(r1).query("select * from Customer where DisplayName = 'Only In Realm Two'").get("Customer")
	assert all(a.realm_id == r1 for a in h.store.list_audit(r1))
	assert {a.url.split("/")[3] for a in h.store.list_audit(r2)} == {r2}


def test_every_http_exchange_has_exactly_one_complete_audit_row(harness, realm, sandbox):
	h = harness
	cust = h.ledger.create_customer(CO, "Audited Co", email="a@audited.example")
	item = h.ledger.create_item(CO, "Audit Hours", rate="40.00")
	inv = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": 1, "rate": "40.00"}], "2026-11-02")
	# customer lookup+create, item lookup+create, then the invoice create (no lookup before a first attempt)
	# fails once (retried)
	sandbox.set_faults(realm, script=["none"] * 4 + ["error500"])
	h.engine.push(realm)
	h.engine.pull(realm)
	rows = h.store.list_audit(realm)
	assert len(rows) == sandbox.stats(realm)["requests"]
	create = [r for r in rows if r.operation == "create" and r.local_id == inv]
	assert [r.outcome for r in create] == ["ServerError", "ok"] and [r.attempt for r in create] == [1, 2]
	ok = create[-1]
	assert ok.direction == C.OUTBOUND and ok.local_type == C.INVOICE and ok.qbo_entity == "Invoice"
	assert ok.http_status == 200 and ok.request_id and ok.intuit_tid and ok.sync_token_received == "0"
	assert '"Line"' in ok.request_payload and '"Invoice"' in ok.response_payload
	assert ok.duration_ms is not None and ok.timestamp is not None and ok.http_method == "POST"
	assert create[0].http_status == 500 and create[0].error_code == "10000"
	assert all("Bearer" not in (r.request_payload or "") + (r.url or "") for r in rows)
	assert any(r.direction == C.INBOUND and r.operation == "cdc" for r in rows)


def test_audit_row_carries_the_conflict_reference_of_the_retry_after_a_merge(harness, realm):
	h = harness
	cust = h.ledger.create_customer(CO, "Ref Co", email="r@ref.example")
	h.engine.export_master(realm, C.CUSTOMER, cust)
	h.engine.push(realm)
	qid = h.qbo_id(realm, C.CUSTOMER, cust)
	h.bk(realm).update("Customer", qid, {"Notes": "from QBO"})
	h.ledger.update_customer(CO, cust, notes="from ERPNext", email="new@ref.example")
	h.engine.push(realm)  # 5010 → merge: notes changed on both sides (QBO wins, recorded), email still sent
	[conflict] = h.store.list_conflicts(realm)
	assert conflict.status == C.AUTO_RESOLVED and [d["field"] for d in conflict.diffs] == ["notes"]
	assert h.ledger.get(CO, C.CUSTOMER, cust)["notes"] == "from QBO"
	remote = h.bk(realm).read("Customer", qid)
	assert remote["Notes"] == "from QBO" and remote["PrimaryEmailAddr"]["Address"] == "new@ref.example"
	updates = [a for a in h.store.list_audit(realm) if a.operation == "update" and a.local_id == cust]
	assert [a.error_code for a in updates] == ["5010", None]
	assert updates[0].conflict_id is None and updates[1].conflict_id == conflict.id


def test_report_shows_synced_counts_auto_resolved_review_items_and_failures(harness, realm, sandbox):
	h = harness
	cust = h.ledger.create_customer(CO, "Report Co", email="r@report.example")
	item = h.ledger.create_item(CO, "Report Hours", rate="50.00")
	inv = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": 4, "rate": "50.00"}], "2026-11-02")
	h.engine.push(realm)
	h.engine.pull(realm)
	bk = h.bk(realm)
	bk.update("Customer", h.qbo_id(realm, C.CUSTOMER, cust), {"PrimaryPhone": {"FreeFormNumber": "1"}})
	h.ledger.update_customer(CO, cust, phone="2")
	bk.receive_payment(h.qbo_id(realm, C.CUSTOMER, cust), "50.00", [h.qbo_id(realm, C.INVOICE, inv)])
	inv2 = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": 1, "rate": "50.00"}], "2026-11-03")
	h.engine.pull(realm)
	sandbox.set_faults(realm, script=["error503"] * 6)
	h.engine.push(realm)
	now = h.clock.now()
	data = h.engine.report(realm, now.year, now.month)
	synced = {(r["entity"], r["direction"]): r["count"] for r in data["synced"]}
	assert synced[("Invoice", C.OUTBOUND)] == 1 and synced[("Payment", C.INBOUND)] == 1
	assert synced[("Customer", C.OUTBOUND)] == 1
	assert len(data["auto_resolved"]) == 1 and data["auto_resolved"][0]["fields"] == ["phone"]
	assert data["awaiting_review"] == []
	assert [f["document"] for f in data["failures"]] == [f"invoice {inv2}"]
	assert data["exchange_errors"] and data["company"] == CO
	assert Decimal(h.ledger.outstanding(CO, C.INVOICE, inv)) == Decimal("150.00")
	from nexora_qbo.sync.report import format_report

	text = format_report(data)
	assert "Resolved automatically: 1" in text and "Failures still queued: 1" in text


def test_first_export_alone_links_by_stable_key_before_creating(harness):
	"""Without an import first, each create looks the record up in QBO: a same-named customer with no
	contradicting email is linked (not duplicated); a same-named one with another email is not linked and
	the clash is a review item with a reason."""
	h = harness
	realm = h.new_realm()
	blue = h.ledger.create_customer(CO, "Bluebonnet Health")
	lone = h.ledger.create_customer(CO, "Lone Star Manufacturing", email="someone.else@example.com")
	lone_dup = h.ledger.create_customer(CO, "Lone Star Manufacturing")  # ERPNext names it "… - 1"; no email
	vest = h.ledger.create_item(CO, "Safety Vest", type="NonInventory", rate="12.00")
	for cust in (blue, lone, lone_dup):  # used by the Company's documents, so the first export sends them
		h.ledger.submit_invoice(CO, cust, [{"item": vest, "qty": 1, "rate": "12.00"}], "2026-11-02")
	h.engine.initial_export(realm)
	bk = h.bk(realm)
	names = [c["DisplayName"] for c in bk.query("select * from Customer").get("Customer", [])]
	assert names.count("Bluebonnet Health") == 1 and names.count("Lone Star Manufacturing") == 1
	assert h.store.get_mapping(realm, C.CUSTOMER, blue).qbo_id == h.seeds[realm]["customers"]["Bluebonnet Health"]
	assert h.store.get_mapping(realm, C.ITEM, vest).qbo_id == h.seeds[realm]["items"]["Safety Vest"]
	assert h.store.get_mapping(realm, C.CUSTOMER, lone) is None
	assert lone_dup == "Lone Star Manufacturing - 1"
	assert h.store.get_mapping(realm, C.CUSTOMER, lone_dup) is None  # a " - 1" name never links by name alone
	conflicts = {c.local_id: c for c in h.store.list_conflicts(realm, status=C.OPEN)}
	assert set(conflicts) == {lone, lone_dup} and conflicts[lone].kind == "rejected"
	# the local-only value of the linked customer (none here) and QBO's values (email) now agree locally
	assert h.ledger.get(CO, C.CUSTOMER, blue)["email"] == "billing@bluebonnet.example"


def test_foreign_currency_invoice_carries_currency_and_exchange_rate(sandbox, tmp_path):
	from sync_testkit import Harness

	h = Harness(sandbox, tmp_path)
	realm_id = sandbox.create_realm(multicurrency=True)
	h.sandbox.set_options(realm_id, per_second=100000, per_minute=1000000)
	seed = sandbox.seed_info(realm_id)
	h.engine.connect(RealmSettings(realm_id=realm_id, company="Nexora Europe",
		default_income_account_id=seed["accounts"]["Services"],
		default_deposit_account_id=seed["accounts"]["Undeposited Funds"]))
	from nexora_qbo.sandbox.bookkeeper import Bookkeeper

	bk = Bookkeeper(sandbox, realm_id)
	cust = h.ledger.create_customer("Nexora Europe", "Berlin Zeitarbeit GmbH", currency="EUR")
	item = h.ledger.create_item("Nexora Europe", "Consulting Days", rate="800.00")
	inv = h.ledger.submit_invoice("Nexora Europe", cust, [{"item": item, "qty": "2.5", "rate": "800.00"}],
		"2026-11-04", currency="EUR", exchange_rate="1.0825")
	h.engine.push(realm_id)
	remote = bk.read("Invoice", h.qbo_id(realm_id, C.INVOICE, inv))
	assert remote["CurrencyRef"]["value"] == "EUR" and Decimal(str(remote["ExchangeRate"])) == Decimal("1.0825")
	assert Decimal(str(remote["TotalAmt"])) == Decimal("2000.00")
	assert bk.read("Customer", h.qbo_id(realm_id, C.CUSTOMER, cust))["CurrencyRef"]["value"] == "EUR"
	h.close()
