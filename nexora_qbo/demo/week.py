"""`nexora-qbo demo --week`: one week billed from timesheets (issue 11), on its own QuickBooks company with
US automated sales tax: two clients, one of them with two job sites billed as QuickBooks sub-customers;
hours, overtime and a non-taxable per diem per worker and week; QBO computes the tax from each job site's
address and the books are tied out at the end."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from nexora_qbo.demo.tie_out import print_tie_out
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import RealmSettings

CO = "Nexora Staffing Week LLC"
WEEK = "2026-11-02"
WEEK_END = date(2026, 11, 8)

# (client, job site or None, address, [(worker, regular h, overtime h, per diem days)])
BILLING = [
	("Lone Star Builders", "North Yard", ("1200 Freight Way", "Austin", "TX", "78744"),
		[("Maria Lopez", "40", "6.5", 5), ("James Chen", "38", "0", 0)]),
	("Lone Star Builders", "South Yard", ("9 Harbor Rd", "Houston", "TX", "77002"),
		[("Ana Silva", "40", "2", 5)]),
	("Bluebonnet Clinics", None, ("88 Medical Pkwy", "Dallas", "TX", "75390"),
		[("Priya Patel", "36", "0", 0), ("Tom Baker", "40", "4", 0)]),
]
RATES = {"Regular Hours": Decimal("32.00"), "Overtime Hours": Decimal("48.00"), "Per Diem": Decimal("60.00")}
TAX_RATE = Decimal("0.0825")  # ERPNext's Texas template: 8.25 % on taxable lines


def run_week(sandbox, engine, ledger, say) -> int:
	realm = sandbox.create_realm(company_name=f"{CO} (QBO)", automated_sales_tax=True)
	seed = sandbox.seed_info(realm)
	engine.connect(RealmSettings(realm_id=realm, company=CO, default_income_account_id=seed["accounts"]["Services"],
		default_deposit_account_id=seed["accounts"]["Undeposited Funds"]))
	prefs = engine.read_preferences(realm)
	say(f"{CO} is connected; QuickBooks' settings read: automated sales tax "
		f"{'on' if prefs['automated_sales_tax'] else 'off'}, classes "
		f"{'per line' if prefs['class_per_line'] else 'per transaction' if prefs['class_per_txn'] else 'off'}.")
	items = {name: ledger.create_item(CO, name, rate=str(rate), taxable=name != "Per Diem") for name, rate in RATES.items()}
	parents: dict[str, str] = {}
	invoices = []
	for client, job, (street, city, region, zip_code), workers in BILLING:
		addr = {"line1": street, "city": city, "region": region, "postal_code": zip_code, "country": "US"}
		if client not in parents:
			parents[client] = ledger.create_customer(CO, client, email=f"ap@{client.split()[0].lower()}.example",
				billing_address=None if job else addr)
		customer = parents[client]
		if job:
			customer = ledger.create_customer(CO, f"{client} - {job}", parent=parents[client], bill_with_parent=True,
				billing_address=addr)
		lines = []
		for worker, reg, ot, per_diem in workers:
			for item, hours, kind in (("Regular Hours", reg, "regular"), ("Overtime Hours", ot, "overtime")):
				if Decimal(hours):
					lines.append({"item": items[item], "qty": hours, "rate": str(RATES[item]), "service_date": WEEK,
						"taxable": True, "description": f"{worker}, week of {WEEK}, {Decimal(hours):.2f} h {kind}"})
			if per_diem:
				lines.append({"item": items["Per Diem"], "qty": str(per_diem), "rate": str(RATES["Per Diem"]),
					"service_date": WEEK, "taxable": False, "description": f"{worker}, per diem, {per_diem} days"})
		taxable = sum((Decimal(ln["qty"]) * Decimal(ln["rate"]) for ln in lines if ln["taxable"]), Decimal(0))
		tax = (taxable * TAX_RATE).quantize(Decimal("0.01"))
		inv = ledger.submit_invoice(CO, customer, lines, WEEK_END.isoformat(), tax_total=str(tax))
		invoices.append((inv, client, job, len(lines), tax))
	engine.push(realm)
	for inv, client, job, n, tax in invoices:
		m = engine.store.get_mapping(realm, C.INVOICE, inv)
		where = f"{client}, job site {job}" if job else client
		qbo = ledger.get(CO, C.INVOICE, inv)
		say(f"Invoice {inv} to {where}: {n} timesheet lines, ERPNext tax {tax}, in QuickBooks as Invoice {m.qbo_id}"
			f" (total {qbo['total']}).")
	for c in engine.store.list_conflicts(realm, status=C.OPEN):
		say(f"Review item: {c.reason}")
		engine.resolve_conflict(c.id, C.ACTION_ACCEPT_DIFFERENCE, by="demo bookkeeper")
		say("The bookkeeper chose \u201cAccept the difference\u201d: QuickBooks' tax stands on its return.")
	result = print_tie_out(engine, realm, WEEK_END)
	return 0 if result.unexplained_count == 0 else 1
