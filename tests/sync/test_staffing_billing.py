"""Issue 11: staffing billing. Timesheet lines, client jobs (sub-customers), taxability per line and US
automated sales tax, exempt customers, QBO preferences and reference lists, document identity. Engine against
the sandbox over real HTTP, SQLite store and ledger."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sync_testkit import Harness

from nexora_qbo.sandbox.bookkeeper import Bookkeeper
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import RealmSettings

CO = "Nexora Staffing Inc"


def _realm(h: Harness, company: str = CO, **options) -> str:
	"""Like Harness.new_realm, with sandbox company options (automated_sales_tax, custom_txn_numbers…)."""
	realm_id = h.sandbox.create_realm(**options)
	h.sandbox.set_options(realm_id, per_second=100000, per_minute=1000000, batch_per_minute=100000)
	seed = h.sandbox.seed_info(realm_id)
	h.seeds[realm_id] = seed
	acc = seed["accounts"]
	h.engine.connect(RealmSettings(realm_id=realm_id, company=company, default_income_account_id=acc["Services"],
		default_expense_account_id=acc["Cost of Goods Sold"], default_asset_account_id=acc["Inventory Asset"],
		default_deposit_account_id=acc["Undeposited Funds"], account_map={"Sales - NX": acc["Services"]},
		terms_map={"Net 30": seed["terms"]["Net 30"]}))
	h.bookkeepers[realm_id] = Bookkeeper(h.sandbox, realm_id)
	return realm_id


def _items(h, realm):
	led = h.ledger
	reg = led.create_item(CO, "Regular Hours", rate="32.00", income_account="Sales - NX", taxable=True)
	ot = led.create_item(CO, "Overtime Hours", rate="48.00", income_account="Sales - NX", taxable=True)
	per_diem = led.create_item(CO, "Per Diem (non-taxable)", rate="60.00", income_account="Sales - NX")
	for i in (reg, ot, per_diem):
		h.engine.export_master(realm, C.ITEM, i)
	return reg, ot, per_diem


def _timesheet_lines(reg, ot, per_diem):
	return [
		{"item": reg, "qty": "40", "rate": "32.00", "service_date": "2026-11-02", "taxable": True,
			"description": "Maria Lopez, week of 2026-11-02, 40.00 h regular"},
		{"item": ot, "qty": "6.5", "rate": "48.00", "service_date": "2026-11-02", "taxable": True,
			"description": "Maria Lopez, week of 2026-11-02, 6.50 h overtime"},
		{"item": reg, "qty": "38", "rate": "32.00", "service_date": "2026-11-02", "taxable": True,
			"description": "James Chen, week of 2026-11-02, 38.00 h regular"},
		{"item": per_diem, "qty": "5", "rate": "60.00", "service_date": "2026-11-02", "taxable": False,
			"description": "Maria Lopez, per diem, 5 days"},
	]


def _open(h, realm, kind=None):
	return [c for c in h.store.list_conflicts(realm, status=C.OPEN) if kind is None or c.kind == kind]


# ---------------------------------------------------------------------------------------------- 1. timesheets
def test_timesheet_invoice_reaches_qbo_with_readable_lines_and_survives_the_reread(harness):
	h = harness
	realm = _realm(h)
	reg, ot, per_diem = _items(h, realm)
	cust = h.ledger.create_customer(CO, "Acme Logistics Inc", email="ap@acme.example")
	inv = h.ledger.submit_invoice(CO, cust, _timesheet_lines(reg, ot, per_diem), "2026-11-08")
	assert h.engine.push(realm)["parked"] == 0
	qbo = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	lines = [ln for ln in qbo["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
	assert [ln["Description"] for ln in lines][:2] == ["Maria Lopez, week of 2026-11-02, 40.00 h regular",
		"Maria Lopez, week of 2026-11-02, 6.50 h overtime"]
	d = lines[1]["SalesItemLineDetail"]
	assert (Decimal(str(d["Qty"])), Decimal(str(d["UnitPrice"])), d["ServiceDate"]) == (Decimal("6.5"), Decimal("48"), "2026-11-02")
	assert d["ItemRef"]["value"] == h.qbo_id(realm, C.ITEM, ot)  # overtime is its own item
	assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in lines] == ["TAX", "TAX", "TAX", "NON"]
	# re-read by the pull: nothing lost, nothing flagged (the merge base keeps descriptions and service dates)
	h.bk(realm).update("Invoice", qbo["Id"], {"PrivateNote": "checked"})
	h.engine.pull(realm)
	assert _open(h, realm) == []
	base = h.store.get_mapping(realm, C.INVOICE, inv).base
	assert [ln.get("SalesItemLineDetail", {}).get("ServiceDate") for ln in base["Line"]][:4] == ["2026-11-02"] * 4


def test_hours_cut_in_qbo_on_one_workers_line_is_a_review_item_naming_worker_and_week(harness):
	h = harness
	realm = _realm(h)
	reg, ot, per_diem = _items(h, realm)
	cust = h.ledger.create_customer(CO, "Bluebonnet Clinics", email="ap@bluebonnet.example")
	inv = h.ledger.submit_invoice(CO, cust, _timesheet_lines(reg, ot, per_diem), "2026-11-08")
	h.engine.push(realm)
	qid = h.qbo_id(realm, C.INVOICE, inv)
	obj = h.bk(realm).read("Invoice", qid)
	lines = [ln for ln in obj["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
	lines[2]["SalesItemLineDetail"]["Qty"] = 35  # James Chen: 38 h -> 35 h
	lines[2]["Amount"] = Decimal("1120.00")
	h.bk(realm).update("Invoice", qid, {"Line": lines})
	h.engine.pull(realm)
	[item] = _open(h, realm, "transaction_edited")
	assert "James Chen, week of 2026-11-02" in item.reason and "38 \u2192 35" in item.reason
	assert "Keep ERPNext" in item.reason or "cancel and amend" in item.reason
	# what changed, in a bookkeeper's words (never the engine's field names)
	assert "changed in QuickBooks after it was synced (lines, total: James Chen" in item.reason


def test_a_review_item_names_changed_fields_in_a_bookkeepers_words():
	assert C.field_words(["total", "tax_total", "lines", "tax_total"]) == "lines, tax, total"
	assert C.field_words(["class_", "applications", "some_new_field"]) == "class, invoices paid, some new field"


# ---------------------------------------------------------------------------------------------- 2. jobs
def test_job_sites_are_qbo_sub_customers_both_ways_and_parent_payment_pays_job_invoices(harness):
	h = harness
	realm = _realm(h)
	reg, ot, per_diem = _items(h, realm)
	parent = h.ledger.create_customer(CO, "Lone Star Builders", email="ap@lonestar.example")
	north = h.ledger.create_customer(CO, "Lone Star Builders - North Yard", parent=parent, bill_with_parent=True)
	inv = h.ledger.submit_invoice(CO, north, _timesheet_lines(reg, ot, per_diem)[:1], "2026-11-08")
	h.engine.push(realm)
	job = h.bk(realm).read("Customer", h.qbo_id(realm, C.CUSTOMER, north))
	assert job["Job"] is True and job["ParentRef"]["value"] == h.qbo_id(realm, C.CUSTOMER, parent)
	assert job["BillWithParent"] is True and job["FullyQualifiedName"].startswith("Lone Star Builders:")
	assert h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["CustomerRef"]["value"] == job["Id"]
	# a job made in QBO arrives with its parent kept
	bk = h.bk(realm)
	south = bk.create("Customer", {"DisplayName": "South Yard (Lone Star)", "ParentRef": {"value": job["ParentRef"]["value"]},
		"BillWithParent": True})
	h.engine.pull(realm)
	local_south = h.store.get_mapping_by_qbo(realm, "Customer", south["Id"]).local_id
	rec = h.ledger.get(CO, C.CUSTOMER, local_south)
	assert rec["parent"] == parent and rec["bill_with_parent"] is True
	# the parent's payment applies to the job's invoice, as QBO does
	pay = bk.create("Payment", {"CustomerRef": {"value": job["ParentRef"]["value"]}, "TotalAmt": 1280,
		"Line": [{"Amount": 1280, "LinkedTxn": [{"TxnId": h.qbo_id(realm, C.INVOICE, inv), "TxnType": "Invoice"}]}]})
	assert pay["Id"]
	assert Decimal(str(bk.read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["Balance"])) == 0


def test_parent_payment_for_its_jobs_invoices_is_booked_per_customer_and_ties_out(harness):
	"""One cheque from the parent pays invoices of two job sites and leaves money unapplied: ERPNext books the
	invoices as paid, the remainder stays the parent's credit, the tie-out per customer is zero, and reading
	the payment again books nothing twice. A payment naming a customer that is not a job is a review item."""
	h = harness
	realm = _realm(h)
	reg, ot, per_diem = _items(h, realm)
	parent = h.ledger.create_customer(CO, "Lone Star Builders", email="ap@lonestar.example")
	north = h.ledger.create_customer(CO, "Lone Star Builders - North Yard", parent=parent, bill_with_parent=True)
	south = h.ledger.create_customer(CO, "Lone Star Builders - South Yard", parent=parent, bill_with_parent=True)
	lines = _timesheet_lines(reg, ot, per_diem)
	inv_n = h.ledger.submit_invoice(CO, north, lines[:1], "2026-11-08")  # 1280.00
	inv_s = h.ledger.submit_invoice(CO, south, lines[2:3], "2026-11-08")  # 1216.00
	h.engine.push(realm)
	bk = h.bk(realm)
	pay = bk.create("Payment", {"CustomerRef": {"value": h.qbo_id(realm, C.CUSTOMER, parent)}, "TotalAmt": 2600,
		"TxnDate": "2026-11-20", "Line": [
			{"Amount": 1280, "LinkedTxn": [{"TxnId": h.qbo_id(realm, C.INVOICE, inv_n), "TxnType": "Invoice"}]},
			{"Amount": 1216, "LinkedTxn": [{"TxnId": h.qbo_id(realm, C.INVOICE, inv_s), "TxnType": "Invoice"}]}]})
	h.engine.pull(realm)
	m = h.store.get_mapping_by_qbo(realm, "Payment", pay["Id"])
	assert m is not None and not _open(h, realm)
	rec = h.ledger.get(CO, C.PAYMENT, m.local_id)
	assert rec["customer"] == parent and sorted(a["doc_key"] for a in rec["applications"]) == sorted([inv_n, inv_s])
	assert h.ledger.get(CO, C.INVOICE, inv_n)["outstanding"] == 0 == h.ledger.get(CO, C.INVOICE, inv_s)["outstanding"]
	result = h.engine.tie_out(realm)
	assert result.unexplained_count == 0 and result.differences == []
	# QBO's copy read again (a webhook for the same payment): nothing booked twice
	from datetime import datetime, timezone

	from nexora_qbo.qbo.webhooks import WebhookEvent

	h.engine.pull_events(realm, [WebhookEvent(realm, "Payment", pay["Id"], "Update", datetime.now(timezone.utc))])
	assert [x.local_id for x in h.store.list_mappings(realm, C.PAYMENT)] == [m.local_id]
	assert h.engine.tie_out(realm).unexplained_count == 0
	# a document of a customer that is not one of the payer's jobs in ERPNext is refused, with the next step
	stranger = h.ledger.create_customer(CO, "Alamo Logistics")
	inv_x = h.ledger.submit_invoice(CO, stranger, lines[:1], "2026-11-09")
	from nexora_qbo.sync.sqlite_ledger import LedgerError

	with pytest.raises(LedgerError) as refused:
		h.ledger.upsert_from_qbo(CO, C.PAYMENT, None, {"customer": parent, "total": 1280, "txn_date": "2026-11-21",
			"applications": [{"doc_type": C.INVOICE, "doc_key": inv_x, "amount": 1280}]})
	assert "Alamo Logistics, who is not one of Lone Star Builders's jobs" in str(refused.value)
	assert "Retry" in str(refused.value) and h.ledger.get(CO, C.INVOICE, inv_x)["outstanding"] == Decimal("1280.00")


# ---------------------------------------------------------------------------------------------- 3. tax
def test_preferences_are_read_and_the_mapping_follows_them(harness):
	h = harness
	realm = _realm(h, track_classes=True, class_per_line=True, track_departments=False)
	prefs = h.engine.read_preferences(realm)
	assert prefs["class_per_line"] and not prefs["class_per_txn"] and not prefs["track_departments"]
	assert prefs["automated_sales_tax"] is False and prefs["read"]
	s = h.store.get_settings(realm)
	assert s.preferences == prefs  # kept on the realm
	seed = h.seeds[realm]
	s.class_map = {"Clerical": seed["classes"][1]}
	s.location_map = {"Austin": seed["departments"][0]}
	h.engine.connect(s)
	reg, ot, per_diem = _items(h, realm)
	cust = h.ledger.create_customer(CO, "Clerical Co", email="x@clerical.example")
	inv = h.ledger.submit_invoice(CO, cust, _timesheet_lines(reg, ot, per_diem)[:2], "2026-11-08", class_="Clerical",
		location="Austin")
	h.engine.push(realm)
	qbo = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	assert "ClassRef" not in qbo and "DepartmentRef" not in qbo  # per line; locations off
	assert {ln["SalesItemLineDetail"]["ClassRef"]["value"] for ln in qbo["Line"] if ln["DetailType"] == "SalesItemLineDetail"} == {seed["classes"][1]}


def test_ast_realm_computes_tax_from_ship_to_per_line_and_a_difference_names_both_amounts(harness):
	h = harness
	realm = _realm(h, automated_sales_tax=True)
	assert h.engine.read_preferences(realm)["automated_sales_tax"] is True
	reg, ot, per_diem = _items(h, realm)
	austin = h.ledger.create_customer(CO, "Austin Client", email="a@austin.example",
		billing_address={"line1": "1 Congress", "city": "Austin", "region": "TX", "postal_code": "78701"})
	tulsa = h.ledger.create_customer(CO, "Tulsa Client", email="t@tulsa.example",
		billing_address={"line1": "2 Main", "city": "Tulsa", "region": "OK", "postal_code": "74103"})
	lines = _timesheet_lines(reg, ot, per_diem)  # taxable 1280+312+1216 = 2808; per diem 300 NON
	# ERPNext computed 8.25% on the taxable lines only: 231.66
	ok = h.ledger.submit_invoice(CO, austin, lines, "2026-11-08", tax_total="231.66")
	bad = h.ledger.submit_invoice(CO, tulsa, lines, "2026-11-08", tax_total="231.66")  # Tulsa is 8.517%
	h.engine.push(realm)
	q_ok = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, ok))
	assert Decimal(str(q_ok["TxnTaxDetail"]["TotalTax"])) == Decimal("231.66")
	assert Decimal(str(q_ok["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"])) == Decimal("2808.00")
	[item] = _open(h, realm, C.KIND_TAX_DIFFERS)
	assert item.local_id == bad and "239.16" in item.reason and "231.66" in item.reason
	assert "Accept the difference" in item.reason
	# the invoices went out as one create or one batch of creates: none of them carried a tax override
	sent = [a for a in h.store.list_audit(realm) if a.operation in ("create", "batch") and "TxnDate" in str(a.request_payload)]
	assert sent and all("TotalTax" not in str(a.request_payload) for a in sent)  # no silent override in an AST realm


def test_exempt_customer_both_ways(harness):
	h = harness
	realm = _realm(h, automated_sales_tax=True)
	h.engine.read_preferences(realm)
	reg, ot, per_diem = _items(h, realm)
	school = h.ledger.create_customer(CO, "Austin ISD", email="ap@aisd.example", taxable=False, exemption_reason="2",
		billing_address={"line1": "1 School", "city": "Austin", "region": "TX", "postal_code": "78701"})
	inv = h.ledger.submit_invoice(CO, school, _timesheet_lines(reg, ot, per_diem)[:1], "2026-11-08", tax_total="0")
	h.engine.push(realm)
	q = h.bk(realm).read("Customer", h.qbo_id(realm, C.CUSTOMER, school))
	assert q["Taxable"] is False and str(q["TaxExemptionReasonId"]) == "2"
	assert Decimal(str(h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))["TxnTaxDetail"]["TotalTax"])) == 0
	assert _open(h, realm) == []
	church = h.bk(realm).create("Customer", {"DisplayName": "First Church", "Taxable": False, "TaxExemptionReasonId": 4})
	h.engine.initial_import(realm)
	rec = h.ledger.get(CO, C.CUSTOMER, h.store.get_mapping_by_qbo(realm, "Customer", church["Id"]).local_id)
	assert rec["taxable"] is False and rec["exemption_reason"] == "4"


# ---------------------------------------------------------------------------------------------- 4. references
def test_reference_lists_are_read_from_qbo_with_a_suggested_mapping_and_kept_current(harness):
	h = harness
	realm = _realm(h)
	counts = h.engine.refresh_references(realm)
	assert counts["Class"] == 3 and counts["Department"] == 2 and counts["Term"] == 3 and counts["PaymentMethod"] == 3
	assert counts["Account"] >= 9 and counts["TaxCode"] >= 1
	seed = h.seeds[realm]
	assert h.engine.suggest_mapping(realm, "Class", ["Clerical - NX", "Payroll - NX"]) == {"Clerical - NX": seed["classes"][1]}
	h.bk(realm).create("Class", {"Name": "Warehouse"})
	h.engine.refresh_references(realm, ("Class",))
	assert "Warehouse" in [r["name"] for r in h.store.list_references(realm, "Class")]


def test_unmapped_class_opens_a_review_item_instead_of_being_dropped(harness):
	h = harness
	realm = _realm(h)
	h.engine.read_preferences(realm)  # classes per transaction in the seeded company
	reg, ot, per_diem = _items(h, realm)
	cust = h.ledger.create_customer(CO, "Healthcare Co", email="x@hc.example")
	inv = h.ledger.submit_invoice(CO, cust, _timesheet_lines(reg, ot, per_diem)[:1], "2026-11-08", class_="Nursing - NX")
	h.engine.push(realm)
	assert h.store.get_mapping(realm, C.INVOICE, inv) is None
	[item] = _open(h, realm)
	assert "Nursing - NX" in item.reason and "QuickBooks class" in item.reason and "Retry" in item.reason


# ---------------------------------------------------------------------------------------------- 5. identity
def test_a_name_longer_than_21_characters_is_refused_before_anything_is_sent(harness):
	h = harness
	realm = _realm(h)
	reg, ot, per_diem = _items(h, realm)
	cust = h.ledger.create_customer(CO, "Long Names LLC", email="x@long.example")
	h.engine.push(realm)
	inv = h.ledger.submit_invoice(CO, cust, _timesheet_lines(reg, ot, per_diem)[:1], "2026-11-08",
		doc_number="ACC-SINV-2026-NORTH-00001")
	h.engine.push(realm)
	assert not [a for a in h.store.list_audit(realm) if a.local_id == inv]
	[item] = _open(h, realm)
	assert "25 characters" in item.reason and "21" in item.reason and "naming series" in item.reason


def test_custom_transaction_numbers_off_qbo_numbers_the_invoice_and_erpnext_keeps_it(harness):
	h = harness
	realm = _realm(h, custom_txn_numbers=False)
	assert h.engine.read_preferences(realm)["custom_txn_numbers"] is False
	reg, ot, per_diem = _items(h, realm)
	cust = h.ledger.create_customer(CO, "Numbers Inc", email="x@numbers.example")
	inv = h.ledger.submit_invoice(CO, cust, _timesheet_lines(reg, ot, per_diem)[:1], "2026-11-08")
	h.engine.push(realm)
	qbo = h.bk(realm).read("Invoice", h.qbo_id(realm, C.INVOICE, inv))
	assert qbo["DocNumber"] != inv and qbo["DocNumber"].isdigit()
	assert h.ledger.get(CO, C.INVOICE, inv)["qbo_doc_number"] == qbo["DocNumber"]
	h.engine.pull(realm)
	assert _open(h, realm) == []


def test_item_standard_rate_change_reaches_qbo_unit_price(harness):
	h = harness
	realm = _realm(h)
	reg, _, _ = _items(h, realm)
	h.engine.push(realm)
	h.ledger.update_item(CO, reg, rate="34.50")
	h.engine.push(realm)
	assert Decimal(str(h.bk(realm).read("Item", h.qbo_id(realm, C.ITEM, reg))["UnitPrice"])) == Decimal("34.5")
