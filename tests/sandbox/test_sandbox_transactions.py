"""Invoices, credit memos, payments, void/delete rules and multicurrency (qbo-api.md §1, §9)."""

from __future__ import annotations

from decimal import Decimal


from sandbox_testkit import Api

D = Decimal


def line(amount, item="1", qty=None, price=None, tax=None, **extra):
	det = {"ItemRef": {"value": item}}
	if qty is not None:
		det["Qty"] = D(str(qty))
	if price is not None:
		det["UnitPrice"] = D(str(price))
	if tax:
		det["TaxCodeRef"] = {"value": tax}
	out = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": det, **extra}
	if amount is not None:
		out["Amount"] = D(str(amount))
	return out


def invoice(api, *lines, customer="1", **extra):
	return api.create("Invoice", {"CustomerRef": {"value": customer}, "Line": list(lines), **extra})


def pay(api, total, *links, customer="1"):
	return api.create(
		"Payment",
		{
			"CustomerRef": {"value": customer},
			"TotalAmt": D(str(total)),
			"Line": [
				{"Amount": D(str(amt)), "LinkedTxn": [{"TxnId": txn_id, "TxnType": kind}]}
				for kind, txn_id, amt in links
			],
		},
	)


def test_invoice_totals_subtotal_line_docnumber_and_due_date(api):
	inv = invoice(api, line("337.50", qty="4.5", price="75"), line("20.00", item="3"), TxnDate="2026-03-01")
	sub = inv["Line"][-1]
	assert sub == {"Amount": D("357.50"), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
	assert [ln["LineNum"] for ln in inv["Line"][:-1]] == [1, 2] and inv["Line"][0]["Id"] == "1"
	assert inv["TotalAmt"] == inv["Balance"] == D("357.50")
	assert inv["TxnTaxDetail"] == {"TotalTax": D("0.00")}
	assert inv["DueDate"] == "2026-03-31"  # customer 1 is on Net 30
	nxt = invoice(api, line("1.00"), SalesTermRef={"value": "1"}, TxnDate="2026-03-01")
	assert nxt["DueDate"] == "2026-03-16"
	assert int(nxt["DocNumber"]) == int(inv["DocNumber"]) + 1
	mine = invoice(api, line("1.00"), DocNumber="INV-77")
	assert mine["DocNumber"] == "INV-77"


def test_custom_txn_numbers_leave_docnumber_empty(server):
	api = Api(server, server.create_realm(custom_txn_numbers=True, per_second=1000))
	assert "DocNumber" not in invoice(api, line("1.00"))


def test_amount_must_equal_qty_times_price_rounded_half_up(api):
	ok = invoice(api, line("3.35", qty="1.5", price="2.23"))  # 3.345 -> 3.35 half-up
	assert ok["TotalAmt"] == D("3.35")
	resp = api.call(
		"POST", "/invoice", {"CustomerRef": {"value": "1"}, "Line": [line("3.34", qty="1.5", price="2.23")]}
	)
	assert resp.status_code == 400
	err = resp.json()["Fault"]["Error"][0]
	assert err["code"] == "6070" and err["element"] == "Line.Amount"  # §9 Invoice (reported code)


def test_tax_computed_from_tax_lines_and_code_or_overridden(api):
	computed = invoice(
		api,
		line("100.00", tax="TAX"),
		line("50.00", tax="NON"),
		TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}},
	)
	txd = computed["TxnTaxDetail"]
	assert txd["TotalTax"] == D("8.25") and txd["TxnTaxCodeRef"] == {"value": "2"}
	assert txd["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"] == D("100.00")
	assert computed["TotalAmt"] == D("158.25")
	override = invoice(
		api, line("100.00", tax="TAX"), TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}, "TotalTax": D("9.00")}
	)
	assert override["TxnTaxDetail"]["TotalTax"] == D("9.00") and override["TotalAmt"] == D("109.00")
	kept = api.update(
		"Invoice",
		{
			"Id": override["Id"],
			"SyncToken": override["SyncToken"],
			"sparse": True,
			"Line": [line("200.00", tax="TAX")],
		},
	)
	assert kept["TxnTaxDetail"]["TotalTax"] == D("9.00")  # the override sticks through a sparse update
	no_code = invoice(api, line("100.00", tax="TAX"))
	assert no_code["TxnTaxDetail"]["TotalTax"] == D("0.00")


def test_partial_and_multi_invoice_payment_bumps_invoice_synctokens(api):
	a = invoice(api, line("100.00"))
	b = invoice(api, line("50.00"))
	p = pay(api, "120.00", ("Invoice", a["Id"], "100.00"), ("Invoice", b["Id"], "20.00"))
	assert p["UnappliedAmt"] == D("0.00") and p["DepositToAccountRef"] == {"value": "4"}
	a2, b2 = api.read("Invoice", a["Id"]), api.read("Invoice", b["Id"])
	assert (a2["Balance"], b2["Balance"]) == (D("0.00"), D("30.00"))
	assert a2["SyncToken"] == "1" and b2["SyncToken"] == "1"
	assert a2["LinkedTxn"] == [{"TxnId": p["Id"], "TxnType": "Payment"}]
	stale = api.call(
		"POST",
		"/invoice",
		{"Id": a["Id"], "SyncToken": a["SyncToken"], "sparse": True, "PrivateNote": "x"},
		{"operation": "update"},
	)
	assert stale.json()["Fault"]["Error"][0]["code"] == "5010"
	over = api.call(
		"POST",
		"/payment",
		{
			"CustomerRef": {"value": "1"},
			"TotalAmt": D("40"),
			"Line": [{"Amount": D("40"), "LinkedTxn": [{"TxnId": b["Id"], "TxnType": "Invoice"}]}],
		},
	)
	assert over.status_code == 400 and over.json()["Fault"]["Error"][0]["code"] == "6000"
	unapplied = pay(api, "50.00", ("Invoice", b["Id"], "30.00"))
	assert unapplied["UnappliedAmt"] == D("20.00")
	assert api.read("Invoice", b["Id"])["Balance"] == D("0.00")
	fresh = api.create("Customer", {"DisplayName": "Balance Watcher"})["Id"]
	c = invoice(api, line("100.00"), customer=fresh)
	pay(api, "130.00", ("Invoice", c["Id"], "100.00"), customer=fresh)
	assert api.read("Customer", fresh)["Balance"] == D("-30.00")  # open invoices minus unapplied credit


def test_changing_voiding_and_deleting_payments_restore_invoice_balances(api):
	inv = invoice(api, line("100.00"))
	p = pay(api, "60.00", ("Invoice", inv["Id"], "60.00"))
	changed = api.update(
		"Payment",
		{
			"Id": p["Id"],
			"SyncToken": p["SyncToken"],
			"sparse": True,
			"TotalAmt": D("40.00"),
			"Line": [{"Amount": D("40.00"), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
		},
	)
	cur = api.read("Invoice", inv["Id"])
	assert cur["Balance"] == D("60.00") and cur["SyncToken"] == "2"
	voided = api.ok(
		"POST",
		"/payment",
		{"Id": p["Id"], "SyncToken": changed["SyncToken"], "sparse": True},
		{"operation": "update", "include": "void"},
	)["Payment"]
	assert voided["TotalAmt"] == 0 and voided["PrivateNote"] == "Voided"
	cur = api.read("Invoice", inv["Id"])
	assert cur["Balance"] == D("100.00") and cur["LinkedTxn"] == [] and cur["SyncToken"] == "3"
	p2 = pay(api, "25.00", ("Invoice", inv["Id"], "25.00"))
	api.ok("POST", "/payment", {"Id": p2["Id"], "SyncToken": p2["SyncToken"]}, {"operation": "delete"})
	assert api.read("Invoice", inv["Id"])["Balance"] == D("100.00")
	assert api.read("Invoice", inv["Id"])["SyncToken"] == "5"


def test_credit_memo_applied_to_invoice_by_zero_payment(api):
	inv = invoice(api, line("100.00"))
	cm = api.create("CreditMemo", {"CustomerRef": {"value": "1"}, "Line": [line("30.00")]})
	assert cm["RemainingCredit"] == cm["Balance"] == D("30.00")
	zero = pay(api, "0", ("Invoice", inv["Id"], "30.00"), ("CreditMemo", cm["Id"], "30.00"))
	assert zero["TotalAmt"] == D("0.00") and zero["UnappliedAmt"] == D("0.00")
	assert api.read("Invoice", inv["Id"])["Balance"] == D("70.00")
	cm2 = api.read("CreditMemo", cm["Id"])
	assert cm2["RemainingCredit"] == D("0.00") and cm2["SyncToken"] == "1"
	too_much = api.call(
		"POST",
		"/payment",
		{
			"CustomerRef": {"value": "1"},
			"TotalAmt": D("0"),
			"Line": [{"Amount": D("10"), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
		},
	)
	assert too_much.status_code == 400  # applied 10 > payment 0 with no credit


def test_invoice_void_and_delete_rules(api):
	paid = invoice(api, line("10.00"))
	p = pay(api, "10.00", ("Invoice", paid["Id"], "10.00"))
	cur = api.read("Invoice", paid["Id"])
	err = api.fault(
		"POST", "/invoice", {"Id": paid["Id"], "SyncToken": cur["SyncToken"]}, {"operation": "delete"}
	)
	assert err["code"] == "6000"
	api.ok("POST", "/payment", {"Id": p["Id"], "SyncToken": p["SyncToken"]}, {"operation": "delete"})
	cur = api.read("Invoice", paid["Id"])
	gone = api.ok(
		"POST", "/invoice", {"Id": paid["Id"], "SyncToken": cur["SyncToken"]}, {"operation": "delete"}
	)
	assert gone["Invoice"]["status"] == "Deleted"
	assert api.fault("GET", f"/invoice/{paid['Id']}")["code"] == "610"
	assert (
		api.fault("POST", "/invoice", {"Id": paid["Id"], "SyncToken": "0"}, {"operation": "void"})["code"]
		== "610"
	)
	inv = invoice(api, line("10.00"))
	wrong_style = api.fault(
		"POST",
		"/invoice",
		{"Id": inv["Id"], "SyncToken": "0", "sparse": True},
		{"operation": "update", "include": "void"},
	)
	assert wrong_style["code"] == "500"
	stale = api.fault("POST", "/invoice", {"Id": inv["Id"], "SyncToken": "9"}, {"operation": "void"})
	assert stale["code"] == "5010"


def test_multicurrency_home_amounts_and_currency_rules(server):
	realm = server.create_realm(multicurrency=True, per_second=1000)
	api = Api(server, realm)
	eur_id = server.seed_info(realm)["customers"]["Rhein Personal GmbH"]
	rate = api.ok("GET", "/exchangerate", params={"sourcecurrencycode": "EUR", "asofdate": "2026-03-01"})
	assert set(rate["ExchangeRate"]) >= {"SourceCurrencyCode", "TargetCurrencyCode", "Rate", "AsOfDate"}
	assert rate["ExchangeRate"]["TargetCurrencyCode"] == "USD"
	api.ok(
		"POST", "/exchangerate", {"SourceCurrencyCode": "EUR", "AsOfDate": "2026-03-01", "Rate": D("1.25")}
	)
	inv = invoice(api, line("100.00"), customer=eur_id, TxnDate="2026-03-02")
	assert inv["CurrencyRef"]["value"] == "EUR" and inv["ExchangeRate"] == D("1.25")
	assert inv["HomeTotalAmt"] == D("125.00") and inv["HomeBalance"] == D("125.00")
	explicit = invoice(api, line("10.00"), customer=eur_id, ExchangeRate=D("1.1"))
	assert explicit["HomeTotalAmt"] == D("11.00")
	usd_for_eur = api.call(
		"POST",
		"/invoice",
		{"CustomerRef": {"value": eur_id}, "CurrencyRef": {"value": "USD"}, "Line": [line("1.00")]},
	)
	assert usd_for_eur.status_code == 400
	eur_for_home = api.call(
		"POST",
		"/invoice",
		{"CustomerRef": {"value": "1"}, "CurrencyRef": {"value": "EUR"}, "Line": [line("1.00")]},
	)
	assert (
		eur_for_home.status_code == 400
		and eur_for_home.json()["Fault"]["Error"][0]["element"] == "CurrencyRef"
	)
	p = pay(api, "40.00", ("Invoice", inv["Id"], "40.00"), customer=eur_id)
	assert p["CurrencyRef"]["value"] == "EUR"
	assert api.read("Invoice", inv["Id"])["HomeBalance"] == D("75.00")


def test_single_currency_company_reports_rate_one_and_rejects_foreign(api):
	inv = invoice(api, line("10.00"))
	assert inv["ExchangeRate"] == 1 and inv["HomeTotalAmt"] == inv["TotalAmt"]
	resp = api.call(
		"POST",
		"/invoice",
		{"CustomerRef": {"value": "1"}, "CurrencyRef": {"value": "EUR"}, "Line": [line("1.00")]},
	)
	assert resp.status_code == 400
	prefs = api.ok("GET", "/preferences")["Preferences"]
	assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}}


def test_preferences_update_drives_behaviour_and_multicurrency_is_one_way(api, server):
	prefs = api.ok("GET", "/preferences")["Preferences"]
	upd = api.ok(
		"POST",
		"/preferences",
		{
			"Id": "1",
			"SyncToken": prefs["SyncToken"],
			"sparse": True,
			"SalesFormsPrefs": {**prefs["SalesFormsPrefs"], "CustomTxnNumbers": True},
		},
	)["Preferences"]
	assert upd["SalesFormsPrefs"]["CustomTxnNumbers"] is True
	assert "DocNumber" not in invoice(api, line("1.00"))
	mc = api.ok(
		"POST",
		"/preferences",
		{
			"Id": "1",
			"SyncToken": upd["SyncToken"],
			"sparse": True,
			"CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}},
		},
	)["Preferences"]
	err = api.fault(
		"POST",
		"/preferences",
		{
			"Id": "1",
			"SyncToken": mc["SyncToken"],
			"sparse": True,
			"CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
		},
	)
	assert err["element"] == "CurrencyPrefs.MultiCurrencyEnabled"
	assert api.fault("POST", "/preferences", {"Id": "1", "SyncToken": "0", "sparse": True})["code"] == "5010"


def test_invoice_total_cannot_drop_below_applied_payments(api):
	inv = invoice(api, line("100.00"))
	pay(api, "80.00", ("Invoice", inv["Id"], "80.00"))
	cur = api.read("Invoice", inv["Id"])
	err = api.fault(
		"POST",
		"/invoice",
		{"Id": inv["Id"], "SyncToken": cur["SyncToken"], "sparse": True, "Line": [line("50.00")]},
		{"operation": "update"},
	)
	assert err["code"] == "6000" and err["element"] == "TotalAmt"


def test_pseudo_tax_codes_work_in_an_unseeded_company(server):
	realm = server.create_realm(seed=False, per_second=1000)
	api = Api(server, realm)
	acct = api.create("Account", {"Name": "Sales", "AccountType": "Income"})
	item = api.create("Item", {"Name": "Hours", "Type": "Service", "IncomeAccountRef": {"value": acct["Id"]}})
	cust = api.create("Customer", {"DisplayName": "First Customer"})
	inv = invoice(api, line("10.00", item=item["Id"], tax="TAX"), customer=cust["Id"])
	assert inv["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "TAX"}
	assert "DepositToAccountRef" not in pay(
		api, "10.00", ("Invoice", inv["Id"], "10.00"), customer=cust["Id"]
	)
