"""Query language (§3), CDC (§2) and batch (§4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sandbox_testkit import Api


def _err(resp):
	return resp.json()["Fault"]["Error"][0]


def test_query_filters_operators_order_and_paging(api):
	for n in range(7):
		api.create("Customer", {"DisplayName": f"Paging {n}", "CompanyName": "Paging Inc"})
	page = api.query(
		"SELECT * FROM Customer WHERE DisplayName LIKE 'Paging%' ORDERBY DisplayName DESC "
		"STARTPOSITION 2 MAXRESULTS 3"
	)
	assert [c["DisplayName"] for c in page["Customer"]] == ["Paging 5", "Paging 4", "Paging 3"]
	assert (page["startPosition"], page["maxResults"]) == (2, 3)
	tail = api.query("select * from Customer where DisplayName like 'Paging%' STARTPOSITION 7 MAXRESULTS 3")
	assert tail["maxResults"] == 1  # number returned, not page size
	ids = api.query("SELECT * FROM Customer WHERE Id IN ('1', '3')")
	assert [c["Id"] for c in ids["Customer"]] == ["1", "3"]
	assert api.query("SELECT COUNT(*) FROM Customer WHERE CompanyName = 'paging inc'") == {"totalCount": 7}
	assert api.query("SELECT * FROM Customer WHERE DisplayName = 'nobody'") == {}
	gt = api.query("SELECT * FROM Item WHERE UnitPrice > '50' AND Type = 'Service'")
	assert {i["Name"] for i in gt["Item"]} == {"Overtime Hours", "Per Diem"}
	sel = api.query("SELECT Id, DisplayName FROM Customer WHERE Id = '1'")["Customer"][0]
	assert "DisplayName" in sel and "BillAddr" not in sel


def test_query_post_with_application_text(api):
	resp = api.call(
		"POST", "/query", raw="SELECT COUNT(*) FROM Item", headers={"Content-Type": "application/text"}
	)
	assert resp.status_code == 200 and resp.json()["QueryResponse"]["totalCount"] == 6


def test_query_errors(api):
	cases = {
		"SELECT * FROM Customer WHERE Id = '1' OR Id = '2'": "4000",
		"SELECT * FROM Customer STARTPOSITION 0": "4001",
		"SELECT * FROM Customer MAXRESULTS 1001": "4001",
		"SELECT * FROM customer": "4001",
		"SELECT * FROM Customer WHERE": "4000",
		"SELECT * FROM Customer GROUP BY Id": "4000",
		"DELETE FROM Customer": "4000",
	}
	for statement, code in cases.items():
		resp = api.call("GET", "/query", params={"query": statement})
		assert resp.status_code == 400, statement
		assert _err(resp)["code"] == code, statement
	assert (
		"Max allowed value is 1000"
		in _err(api.call("GET", "/query", params={"query": "SELECT * FROM Customer MAXRESULTS 1001"}))[
			"Detail"
		]
	)
	assert api.query("SELECT * FROM Customer MAXRESULTS 1000")["maxResults"] == 3


def test_name_lists_return_only_active_unless_active_is_mentioned(api):
	c = api.create("Customer", {"DisplayName": "Hidden When Inactive"})
	api.update("Customer", {"Id": c["Id"], "SyncToken": "0", "sparse": True, "Active": False})
	active = api.query("SELECT * FROM Customer")["Customer"]
	assert c["Id"] not in [x["Id"] for x in active]
	both = api.query("SELECT * FROM Customer WHERE Active IN (true, false)")["Customer"]
	assert c["Id"] in [x["Id"] for x in both]
	inactive = api.query("SELECT * FROM Customer WHERE Active = false")["Customer"]
	assert [x["Id"] for x in inactive] == [c["Id"]]


def test_query_by_last_updated_time_with_offsets(api, server):
	server.advance_clock(seconds=5)
	mark = server.clock.now()
	server.advance_clock(seconds=5)
	c = api.create("Customer", {"DisplayName": "Recent One"})
	pacific = mark.astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles")).isoformat(
		timespec="seconds"
	)
	for field in ("Metadata.LastUpdatedTime", "MetaData.LastUpdatedTime"):
		hits = api.query(
			f"SELECT * FROM Customer WHERE {field} >= '{pacific}' ORDERBY Metadata.LastUpdatedTime"
		)
		assert [x["Id"] for x in hits["Customer"]] == [c["Id"]]
	utc = mark.strftime("%Y-%m-%dT%H:%M:%SZ")
	assert (
		api.query(f"SELECT COUNT(*) FROM Customer WHERE Metadata.LastUpdatedTime > '{utc}'")["totalCount"]
		== 1
	)


def test_cdc_changes_deleted_stubs_voids_and_empty_elements(api, server):
	server.advance_clock(seconds=3)
	since = server.clock.now().isoformat()
	server.advance_clock(seconds=1)
	cust = api.create("Customer", {"DisplayName": "CDC Person"})
	a = api.create(
		"Invoice",
		{
			"CustomerRef": {"value": "1"},
			"Line": [
				{
					"Amount": Decimal("5.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
				}
			],
		},
	)
	b = api.create(
		"Invoice",
		{
			"CustomerRef": {"value": "1"},
			"Line": [
				{
					"Amount": Decimal("6.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
				}
			],
		},
	)
	api.ok("POST", "/invoice", {"Id": a["Id"], "SyncToken": "0"}, {"operation": "delete"})
	api.ok("POST", "/invoice", {"Id": b["Id"], "SyncToken": "0"}, {"operation": "void"})
	out = api.ok("GET", "/cdc", params={"entities": "Customer,Invoice,Payment", "changedSince": since})
	elements = out["CDCResponse"][0]["QueryResponse"]
	assert len(elements) == 3 and elements[2] == {}
	assert [c["Id"] for c in elements[0]["Customer"]] == [cust["Id"]]
	invoices = {i["Id"]: i for i in elements[1]["Invoice"]}
	assert (
		set(invoices[a["Id"]]) == {"domain", "status", "Id", "MetaData"}
		and invoices[a["Id"]]["status"] == "Deleted"
	)
	assert set(invoices[a["Id"]]["MetaData"]) == {"LastUpdatedTime"}
	assert invoices[b["Id"]]["PrivateNote"] == "Voided" and "status" not in invoices[b["Id"]]
	assert elements[1]["maxResults"] == 2 and elements[1]["startPosition"] == 1


def test_cdc_refuses_changed_since_older_than_30_days(api, server, realm):
	old = (server.clock.now() - timedelta(days=31)).isoformat()
	resp = api.call("GET", "/cdc", params={"entities": "Customer", "changedSince": old})
	assert resp.status_code == 400
	err = _err(resp)
	assert err["code"] == "4001" and "which is older than fixed days is not supported" in err["Detail"]
	recent = (server.clock.now() - timedelta(days=29)).isoformat()
	assert api.call("GET", "/cdc", params={"entities": "Customer", "changedSince": recent}).status_code == 200
	server.advance_clock(days=2)  # the same timestamp ages out on the sandbox clock
	api = Api(server, realm)  # (and the old access token expired meanwhile)
	assert api.call("GET", "/cdc", params={"entities": "Customer", "changedSince": recent}).status_code == 400


def test_cdc_cap_is_on_the_sum_across_entities_oldest_first(server):
	realm = server.create_realm(per_second=1000, cdc_cap=5)
	api = Api(server, realm)
	since = server.clock.now().isoformat()
	server.advance_clock(seconds=1)
	made = []
	for n in range(4):
		made.append(("Customer", api.create("Customer", {"DisplayName": f"Cap {n}"})["Id"]))
		made.append(("Class", api.create("Class", {"Name": f"Cap Class {n}"})["Id"]))
	out = api.ok("GET", "/cdc", params={"entities": "Class,Customer", "changedSince": since})
	elements = out["CDCResponse"][0]["QueryResponse"]
	got = [("Class", c["Id"]) for c in elements[0]["Class"]] + [
		("Customer", c["Id"]) for c in elements[1]["Customer"]
	]
	assert len(got) == 5 and sorted(got) == sorted(made[:5])


def test_batch_items_are_independent_serial_with_per_item_faults(api):
	inv = api.create(
		"Invoice",
		{
			"CustomerRef": {"value": "1"},
			"Line": [
				{
					"Amount": Decimal("9.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
				}
			],
		},
	)
	body = {
		"BatchItemRequest": [
			{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
			{"bId": "2", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
			{
				"bId": "3",
				"operation": "update",
				"Invoice": {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "from batch"},
			},
			{
				"bId": "4",
				"operation": "update",
				"Invoice": {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "stale"},
			},
			{
				"bId": "5",
				"operation": "update",
				"optionsData": "void",
				"Invoice": {"Id": inv["Id"], "SyncToken": "1"},
			},
			{"bId": "6", "Query": "SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Batch One'"},
			{"bId": "7", "operation": "create", "Item": {"Type": "Service"}},
		]
	}
	resp = api.call("POST", "/batch", body)
	assert resp.status_code == 200
	items = {r["bId"]: r for r in resp.json()["BatchItemResponse"]}
	assert items["1"]["Customer"]["DisplayName"] == "Batch One"
	assert items["2"]["Fault"]["Error"][0]["code"] == "6240"
	assert items["3"]["Invoice"]["SyncToken"] == "1"
	assert items["4"]["Fault"]["Error"][0]["code"] == "5010"
	assert items["5"]["Invoice"]["PrivateNote"] == "Voided"
	assert items["6"]["QueryResponse"] == {"totalCount": 1}
	assert (
		items["7"]["Fault"]["Error"][0]["code"] == "2020" and items["7"]["Fault"]["type"] == "ValidationFault"
	)


def test_batch_limits_and_requestid_length(api):
	too_many = {"BatchItemRequest": [{"bId": str(n), "Query": "SELECT * FROM Term"} for n in range(31)]}
	resp = api.call("POST", "/batch", too_many)
	assert resp.status_code == 400 and "30" in _err(resp)["Detail"]
	thirty = {"BatchItemRequest": [{"bId": str(n), "Query": "SELECT * FROM Term"} for n in range(30)]}
	assert api.call("POST", "/batch", thirty).status_code == 200
	long_bid = {
		"BatchItemRequest": [
			{"bId": "x" * 20, "operation": "create", "Customer": {"DisplayName": "Never Made"}},
			{"bId": "b", "Query": "SELECT * FROM Term"},
		]
	}
	resp = api.call("POST", "/batch", long_bid, {"requestid": "r" * 32})
	assert resp.status_code == 200
	for item in resp.json()["BatchItemResponse"]:
		err = item["Fault"]["Error"][0]
		assert err["code"] == "6000" and "more than 50 characters in the request_id field" in err["Detail"]
	assert api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Never Made'")["totalCount"] == 0
	over_36 = api.call(
		"POST",
		"/batch",
		{"BatchItemRequest": [{"bId": "a", "Query": "SELECT * FROM Term"}]},
		{"requestid": "r" * 37},
	)
	assert "Fault" in over_36.json()["BatchItemResponse"][0]


def test_batch_requestid_replays_whole_batch(api):
	body = {
		"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Replay"}}]
	}
	first = api.call("POST", "/batch", body, {"requestid": "batch-rid-1"})
	second = api.call("POST", "/batch", body, {"requestid": "batch-rid-1"})
	assert first.content == second.content
	assert api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Batch Replay'")["totalCount"] == 1
