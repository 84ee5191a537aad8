"""Behaviour of reads and writes on name lists and the generic SyncToken/sparse/full/requestid rules."""

from __future__ import annotations

from decimal import Decimal

from sandbox_testkit import Api, seeded


def test_synctoken_increments_and_stale_token_gets_5010(api):
	cust = api.create("Customer", {"DisplayName": "Token Test"})
	assert cust["SyncToken"] == "0"
	one = api.update("Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
	two = api.update("Customer", {"Id": cust["Id"], "SyncToken": "1", "sparse": True, "Notes": "b"})
	assert (one["SyncToken"], two["SyncToken"]) == ("1", "2")
	err = api.fault(
		"POST",
		"/customer",
		{"Id": cust["Id"], "SyncToken": "1", "sparse": True, "Notes": "c"},
		{"operation": "update"},
	)
	assert err["code"] == "5010" and err["Message"] == "Stale Object Error"
	assert api.read("Customer", cust["Id"])["Notes"] == "b"


def test_sparse_update_keeps_and_full_update_clears_omitted_fields(api):
	cust = api.create(
		"Customer", {"DisplayName": "Sparse Co", "Notes": "keep me", "CompanyName": "Sparse Co"}
	)
	sparse = api.update(
		"Customer",
		{"Id": cust["Id"], "SyncToken": "0", "sparse": True, "PrimaryPhone": {"FreeFormNumber": "555"}},
	)
	assert sparse["Notes"] == "keep me" and sparse["PrimaryPhone"] == {"FreeFormNumber": "555"}
	full = api.update("Customer", {"Id": cust["Id"], "SyncToken": "1", "DisplayName": "Sparse Co"})
	assert "Notes" not in full and "PrimaryPhone" not in full and "CompanyName" not in full
	assert full["CurrencyRef"]["value"] == "USD" and full["Active"] is True


def test_sent_line_array_replaces_all_lines_even_in_sparse_update(api):
	inv = api.create(
		"Invoice",
		{
			"CustomerRef": {"value": "1"},
			"Line": [
				{
					"Amount": Decimal("10.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
				},
				{
					"Amount": Decimal("20.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "2"}},
				},
			],
		},
	)
	assert inv["TotalAmt"] == Decimal("30.00")
	upd = api.update(
		"Invoice",
		{
			"Id": inv["Id"],
			"SyncToken": inv["SyncToken"],
			"sparse": True,
			"Line": [
				{
					"Amount": Decimal("5.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "3"}},
				},
			],
		},
	)
	items = [ln for ln in upd["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
	assert len(items) == 1 and items[0]["SalesItemLineDetail"]["ItemRef"]["value"] == "3"
	assert upd["TotalAmt"] == Decimal("5.00") and upd["Balance"] == Decimal("5.00")
	memo = api.update(
		"Invoice", {"Id": inv["Id"], "SyncToken": upd["SyncToken"], "sparse": True, "PrivateNote": "n"}
	)
	assert memo["TotalAmt"] == Decimal("5.00") and len(memo["Line"]) == 2  # no Line sent: lines kept


def test_display_name_unique_across_customer_vendor_employee(api):
	api.create("Vendor", {"DisplayName": "Shared Name"})
	assert api.fault("POST", "/customer", {"DisplayName": "shared name"})["code"] == "6240"
	assert api.fault("POST", "/employee", {"DisplayName": "Shared Name"})["code"] == "6240"
	cust = api.create("Customer", {"DisplayName": "Other Name"})
	err = api.fault(
		"POST",
		"/customer",
		{"Id": cust["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Shared Name"},
		{"operation": "update"},
	)
	assert err["code"] == "6240"


def test_colon_in_display_name_is_rejected(api):
	err = api.fault("POST", "/customer", {"DisplayName": "Parent:Child"})
	assert err["code"] == "6000" and err["element"] == "DisplayName"


def test_deactivation_appends_deleted_suffix_and_frees_the_name(api):
	cust = api.create("Customer", {"DisplayName": "Thrifty Meats"})
	gone = api.update("Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False})
	assert gone["Active"] is False and gone["DisplayName"] == "Thrifty Meats (deleted)"
	assert gone["FullyQualifiedName"] == "Thrifty Meats (deleted)"
	again = api.create("Customer", {"DisplayName": "Thrifty Meats"})
	assert again["Id"] != cust["Id"]
	item = api.update(
		"Item", {"Id": "4", "SyncToken": api.read("Item", "4")["SyncToken"], "sparse": True, "Active": False}
	)
	assert item["Name"] == "Billable Expenses (deleted)"


def test_name_lists_cannot_be_deleted(api):
	cust = api.read("Customer", "2")
	err = api.fault("POST", "/customer", {"Id": "2", "SyncToken": cust["SyncToken"]}, {"operation": "delete"})
	assert err["code"] == "500"


def test_reference_to_inactive_or_missing_entity_gets_610(api):
	cust = api.create("Customer", {"DisplayName": "Soon Inactive"})
	api.update("Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False})
	line = [
		{
			"Amount": Decimal("1.00"),
			"DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
		}
	]
	err = api.fault("POST", "/invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": line})
	assert err["code"] == "610" and "made inactive" in err["Detail"]
	bad_item = [
		{
			"Amount": Decimal("1.00"),
			"DetailType": "SalesItemLineDetail",
			"SalesItemLineDetail": {"ItemRef": {"value": "777"}},
		}
	]
	assert api.fault("POST", "/invoice", {"CustomerRef": {"value": "1"}, "Line": bad_item})["code"] == "610"
	assert api.fault("GET", "/customer/9999")["code"] == "610"
	assert api.read("Customer", cust["Id"])["Active"] is False  # reads still see inactive records


def test_item_required_fields_per_type(api):
	assert api.fault("POST", "/item", {"Name": "S", "Type": "Service"})["element"] == "IncomeAccountRef"
	assert api.fault("POST", "/item", {"Name": "N", "Type": "NonInventory"})["element"] == "IncomeAccountRef"
	inv = {
		"Name": "I",
		"Type": "Inventory",
		"IncomeAccountRef": {"value": "7"},
		"ExpenseAccountRef": {"value": "5"},
		"AssetAccountRef": {"value": "6"},
		"QtyOnHand": 3,
	}
	err = api.fault("POST", "/item", inv)
	assert (err["code"], err["element"]) == ("2020", "InvStartDate")
	no_asset = dict(inv, InvStartDate="2026-01-01")
	no_asset.pop("AssetAccountRef")
	assert api.fault("POST", "/item", no_asset)["element"] == "AssetAccountRef"
	made = api.create("Item", dict(inv, InvStartDate="2026-01-01"))
	assert made["TrackQtyOnHand"] is True and made["Type"] == "Inventory"
	assert (
		api.fault(
			"POST", "/item", {"Name": "Staffing Hours", "Type": "Service", "IncomeAccountRef": {"value": "1"}}
		)["code"]
		== "6240"
	)


def test_requestid_replays_original_response_without_repeating(api, server, realm):
	body = {"DisplayName": "Replay Co"}
	first = api.call("POST", "/customer", body, {"requestid": "rid-replay-1"})
	second = api.call("POST", "/customer", body, {"requestid": "rid-replay-1"})
	assert first.status_code == second.status_code == 200
	assert first.content == second.content
	assert api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Replay Co'")["totalCount"] == 1
	other_realm = Api(server, server.create_realm(seed=False))
	assert other_realm.call("POST", "/customer", body, {"requestid": "rid-replay-1"}).status_code == 200
	assert server.stats(realm)["replays"] == 1


def test_requestid_replay_survives_delete_of_the_object(api):
	body = {
		"CustomerRef": {"value": "1"},
		"Line": [
			{
				"Amount": Decimal("12.00"),
				"DetailType": "SalesItemLineDetail",
				"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
			}
		],
	}
	first = api.call("POST", "/invoice", body, {"requestid": "inv-gen1"})
	inv = first.json()["Invoice"]
	api.ok("POST", "/invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, {"operation": "delete"})
	again = api.call("POST", "/invoice", body, {"requestid": "inv-gen1"})
	assert again.status_code == 200 and again.content == first.content
	assert api.fault("GET", f"/invoice/{inv['Id']}")["code"] == "610"
	fresh = api.call("POST", "/invoice", body, {"requestid": "inv-gen2"}).json()["Invoice"]
	assert fresh["Id"] != inv["Id"]


def test_failed_request_is_not_replayed_and_long_requestid_rejected(api):
	assert (
		api.fault("POST", "/customer", {"DisplayName": "Bad:Name"}, {"requestid": "rid-fix"})["code"]
		== "6000"
	)
	assert api.ok("POST", "/customer", {"DisplayName": "Good Name"}, {"requestid": "rid-fix"})["Customer"]
	err = api.fault("POST", "/customer", {"DisplayName": "Long Rid"}, {"requestid": "x" * 51})
	assert "50 characters" in err["Detail"]


def test_post_without_operation_but_with_id_is_an_update(api):
	cust = api.read("Customer", "3")
	out = api.ok(
		"POST", "/customer", {"Id": "3", "SyncToken": cust["SyncToken"], "sparse": True, "Notes": "x"}
	)
	assert out["Customer"]["SyncToken"] == str(int(cust["SyncToken"]) + 1)


def test_meta_times_are_pacific_with_offset(api):
	cust = api.create("Customer", {"DisplayName": "Clock Co"})
	created = cust["MetaData"]["CreateTime"]
	assert created[-6:] in ("-07:00", "-08:00") and "." not in created
	resp = api.call("GET", "/customer/1").json()
	assert resp["time"][-6:] in ("-07:00", "-08:00")


def test_customer_currency_fixed_at_creation(server):
	realm = server.create_realm(multicurrency=True, per_second=1000)
	api = Api(server, realm)
	eur = api.create("Customer", {"DisplayName": "Euro Kunde", "CurrencyRef": {"value": "EUR"}})
	assert eur["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
	err = api.fault(
		"POST",
		"/customer",
		{"Id": eur["Id"], "SyncToken": "0", "sparse": True, "CurrencyRef": {"value": "USD"}},
		{"operation": "update"},
	)
	assert err["element"] == "CurrencyRef"
	full = api.update("Customer", {"Id": eur["Id"], "SyncToken": "0", "DisplayName": "Euro Kunde AG"})
	assert full["CurrencyRef"]["value"] == "EUR"


def test_seeded_staffing_company(api, server, realm):
	names = {i["Name"] for i in api.query("SELECT * FROM Item")["Item"]}
	assert {"Staffing Hours", "Overtime Hours", "Per Diem", "Billable Expenses"} <= names
	types = {i["Type"] for i in api.query("SELECT * FROM Item")["Item"]}
	assert types == {"Service", "NonInventory", "Inventory"}
	assert api.read("Account", "4")["Name"] == "Undeposited Funds"
	terms = {t["Name"]: t["DueDays"] for t in api.query("SELECT * FROM Term")["Term"]}
	assert terms["Net 15"] == 15 and terms["Net 30"] == 30
	assert api.read("TaxRate", "1")["RateValue"] == Decimal("8.25")
	assert {t["Id"] for t in api.query("SELECT * FROM TaxCode")["TaxCode"]} >= {"TAX", "NON", "2"}
	assert len(api.query("SELECT * FROM Class")["Class"]) >= 2
	assert len(api.query("SELECT * FROM Department")["Department"]) >= 2
	assert seeded(server, realm, "customers", "Acme Logistics") == "1"
	info = api.ok("GET", f"/companyinfo/{realm}")["CompanyInfo"]
	assert info["CompanyName"] and info["Id"] == "1"
	assert api.fault("GET", "/companyinfo/123")["code"] == "610"
	assert api.fault("POST", "/taxcode", {"Name": "New"})["code"] == "500"  # TaxService only
