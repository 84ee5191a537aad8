"""Contract tests over EVERY recorded QBO response in ../shared/qbo-fixtures.

Each recorded body goes through the exact functions the client runs on live responses (parse_response,
error_from_response, parse_query/parse_cdc/parse_batch, parse_token_response, webhooks). Full
request/response cassettes are additionally replayed through a local HTTP server so the real client code
path (URL, params, body, retry, parsing) is exercised against what QBO actually sent.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from qbo_testkit import FakeTokens, Reply, load_cassette, recorded_reply, sequence

from nexora_qbo.qbo import (
	AuthenticationError,
	AuthorizationError,
	BatchItem,
	DuplicateNameError,
	InvalidGrantError,
	OAuthApp,
	OAuthTokens,
	ObjectNotFoundError,
	QBOClient,
	QueryError,
	RetryPolicy,
	ServerError,
	StaleObjectError,
	ThrottleError,
	UnsupportedOperationError,
	ValidationError,
	error_from_response,
	parse_batch,
	parse_cdc,
	parse_events,
	parse_qbo_datetime,
	parse_query,
	parse_response,
	parse_token_response,
	resolve_endpoints,
	to_money,
	verify_signature,
)
from nexora_qbo.qbo.jsonutil import loads

REALM = "4620816365"
NOW = datetime(2020, 9, 29, 13, 0, tzinfo=timezone.utc)


# -- helpers -------------------------------------------------------------------------------------------
def no_floats(value: Any, where: str = "$") -> None:
	"""Money must never be a float anywhere in a parsed body."""
	assert not isinstance(value, float), f"float at {where}"
	if isinstance(value, dict):
		for key, item in value.items():
			no_floats(item, f"{where}.{key}")
	elif isinstance(value, list):
		for index, item in enumerate(value):
			no_floats(item, f"{where}[{index}]")


def parse_json_fixture(path: Path, status: int) -> Any:
	return parse_response(status, {}, path.read_bytes())


def error_of(status: int, headers: dict, body: Any) -> Exception:
	with pytest.raises(Exception) as info:
		parse_response(status, headers, body)
	return info.value


def client_for(server, **kwargs) -> QBOClient:
	kwargs.setdefault("tokens", FakeTokens())
	kwargs.setdefault("retry", RetryPolicy(sleep=lambda s: None, jitter=0))
	return QBOClient(REALM, base_url=server.base_url, **kwargs)


def replay(serve, interactions: list[dict]):
	"""Serve recorded responses in order, checking each request's method and resource path."""
	state = {"i": 0}

	def handler(seen):
		interaction = interactions[min(state["i"], len(interactions) - 1)]
		state["i"] += 1
		recorded = urlsplit(interaction["request"]["uri"])
		assert seen.method == interaction["request"]["method"].upper()
		assert _resource(seen.path) == _resource(recorded.path), (seen.path, recorded.path)
		assert seen.param("minorversion") == "75"
		return recorded_reply(interaction)

	return serve(handler)


def _resource(path: str) -> str:
	"""/v3/company/<realm>/customer/1 and the sanitised /v3/customer/1 both -> customer/1."""
	parts = path.split("/v3/", 1)[-1].split("/")
	if parts and parts[0] == "company":
		parts = parts[2:]
	return "/".join(parts)


# -- every file is covered -------------------------------------------------------------------------------
COVERED = {
	"Boulevard-ExQuickBooks/create_item.json",
	"Boulevard-ExQuickBooks/create_item_error.json",
	"Boulevard-ExQuickBooks/create_sales_receipt_error.json",
	"Boulevard-ExQuickBooks/query.json",
	"Boulevard-ExQuickBooks/query_error.json",
	"Boulevard-ExQuickBooks/read_item.json",
	"Boulevard-ExQuickBooks/read_item_error.json",
	"Boulevard-ExQuickBooks/read_preferences.json",
	"Boulevard-ExQuickBooks/update_item.json",
	"Boulevard-ExQuickBooks/update_item_error.json",
	"Boulevard-ExQuickBooks/void_sales_receipt_error.json",
	"airbytehq-airbyte-source-quickbooks/expected_records.subset.jsonl",
	"intuit-oauth-jsclient/authResponse.json",
	"intuit-oauth-jsclient/errorResponse.json",
	"intuit-sdk-webhook-vectors/WebhooksServiceTest.cs.cloudevents.json",
	"intuit-sdk-webhook-vectors/WebhooksServiceTest.cs.vector.json",
	"intuit-sdk-webhook-vectors/WebhooksServiceTest.java.vector.json",
	"intuit-sdk-webhook-vectors/intuit-blog-2025-11-12.webhook-formats.json",
	"minimul-qbo_api/all/vendors_by_5.yml",
	"minimul-qbo_api/batch/basic.yml",
	"minimul-qbo_api/cdc/basic.yml",
	"minimul-qbo_api/create/customer.yml",
	"minimul-qbo_api/create/invoice.yml",
	"minimul-qbo_api/deactivate/account.yml",
	"minimul-qbo_api/delete/invoice.yml",
	"minimul-qbo_api/error/400_json.yml",
	"minimul-qbo_api/error/401.yml",
	"minimul-qbo_api/error/500.yml",
	"minimul-qbo_api/error/validation.yml",
	"minimul-qbo_api/update/customer.yml",
	"minimul-qbo_api/void/invoice.yml",
	"ruckus-quickbooks-ruby/change_data_capture_response.xml",
	"ruckus-quickbooks-ruby/fetch_credit_memo.xml",
	"ruckus-quickbooks-ruby/payment_with_line_extras.xml",
	"ruckus-quickbooks-ruby/tax_code.xml",
	"ruckus-quickbooks-ruby/throttle_exceeded_error.xml",
	"ruckus-quickbooks-ruby/too_many_requests_error.xml",
}


def test_every_fixture_file_has_a_contract_test(qbo_fixtures):
	present = {
		str(p.relative_to(qbo_fixtures))
		for p in qbo_fixtures.rglob("*")
		if p.is_file() and p.name != "SOURCES.md"
	}
	assert present == COVERED, f"uncovered: {present - COVERED}; stale: {COVERED - present}"


def test_every_cassette_interaction_parses_to_a_result_or_a_typed_error(qbo_fixtures):
	"""No recorded body may surface as KeyError/JSONDecodeError; errors carry the recorded Intuit-Tid."""
	from nexora_qbo.qbo import QBOError

	for path in sorted(qbo_fixtures.glob("minimul-qbo_api/*/*.yml")):
		for interaction in load_cassette(path):
			response = interaction["response"]
			status, headers, body = (
				response["status"]["code"],
				response["headers"],
				response["body"]["string"],
			)
			tid = headers["Intuit-Tid"][0]
			if status == 200:
				envelope = parse_response(status, headers, body)
				no_floats(envelope)
			else:
				error = error_of(status, headers, body)
				assert isinstance(error, QBOError), (path, type(error))
				assert error.intuit_tid == tid and error.http_status == status and error.code


# -- Boulevard/ExQuickBooks: plain JSON bodies -----------------------------------------------------------
def test_boulevard_item_bodies(qbo_fixtures):
	base = qbo_fixtures / "Boulevard-ExQuickBooks"
	created = parse_json_fixture(base / "create_item.json", 200)["Item"]
	assert created["Type"] == "Inventory" and created["TrackQtyOnHand"] is True
	assert {"IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef", "InvStartDate"} <= set(created)
	read = parse_json_fixture(base / "read_item.json", 200)["Item"]
	assert read["SyncToken"] == "3" and read["Id"] == "11"
	updated = parse_json_fixture(base / "update_item.json", 200)["Item"]
	assert parse_qbo_datetime(updated["MetaData"]["LastUpdatedTime"]).tzinfo is not None
	for envelope in (created, read, updated):
		no_floats(envelope)


def test_boulevard_query_page(qbo_fixtures):
	page = parse_query(parse_json_fixture(qbo_fixtures / "Boulevard-ExQuickBooks/query.json", 200))
	assert page.entity == "Item"
	assert page.start_position == 1
	assert page.max_results == len(page.records) > 0  # maxResults = rows returned, not page size
	assert page.total_count is None


@pytest.mark.parametrize(
	"name, cls, code, element",
	[
		("query_error.json", QueryError, "4000", None),
		("create_item_error.json", ValidationError, "2020", "Name"),
		("create_sales_receipt_error.json", ValidationError, "2020", "Line.DetailType"),
		("read_item_error.json", ObjectNotFoundError, "610", None),
		("update_item_error.json", StaleObjectError, "5010", None),
		("void_sales_receipt_error.json", StaleObjectError, "5010", None),
	],
)
def test_boulevard_faults_map_by_exact_code(qbo_fixtures, name, cls, code, element):
	error = error_of(400, {}, (qbo_fixtures / "Boulevard-ExQuickBooks" / name).read_bytes())
	assert type(error) is cls
	assert error.code == code and error.element == element and error.fault_type == "ValidationFault"
	assert error.message and error.detail
	assert not error.retryable


def test_boulevard_preferences(qbo_fixtures):
	prefs = parse_json_fixture(qbo_fixtures / "Boulevard-ExQuickBooks/read_preferences.json", 200)[
		"Preferences"
	]
	assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is False
	assert prefs["AccountingInfoPrefs"]["TrackDepartments"] is False


# -- minimul/qbo_api cassettes, parsed and replayed through the client -------------------------------------
def test_create_customer_replay_sends_requestid_and_parses_customer(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/create/customer.yml")
	server = replay(serve, interactions)
	customer = client_for(server).create(
		"Customer", {"DisplayName": "Doe5, Jane"}, request_id="nx:cust:70:g1"
	)
	assert customer["Id"] == "70" and customer["SyncToken"] == "0"
	assert to_money(customer["Balance"]) == Decimal("0.00") and not isinstance(customer["Balance"], float)
	assert customer["DefaultTaxCodeRef"] == {"value": "2"}
	(seen,) = server.seen
	assert seen.param("requestid") == "nx:cust:70:g1"
	assert loads(seen.body) == loads(interactions[0]["request"]["body"]["string"])
	assert seen.headers["authorization"] == "Bearer tok-1"
	assert seen.headers["accept"] == "application/json"


def test_create_invoice_replay_amounts_are_decimal(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/create/invoice.yml")
	server = replay(serve, interactions)
	body = loads(interactions[0]["request"]["body"]["string"])
	invoice = client_for(server).create("Invoice", body, request_id="nx:inv:1")
	assert isinstance(invoice["TotalAmt"], Decimal)
	assert any(line["DetailType"] == "SubTotalLineDetail" for line in invoice["Line"])
	assert loads(server.seen[0].body) == body
	no_floats(invoice)


def test_update_customer_replay_full_update(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/update/customer.yml")
	server = replay(serve, interactions)
	client = client_for(server)
	current = client.read("Customer", "68")
	assert current["SyncToken"] == "0"
	sent = loads(interactions[1]["request"]["body"]["string"])
	updated = client.update("Customer", sent, sparse=False)
	assert updated["SyncToken"] == "1" and updated["DisplayName"] == "Jack Moe"
	assert loads(server.seen[1].body) == {**sent, "sparse": False}
	assert server.seen[1].param("requestid")  # writes always carry one


def test_deactivate_account_replay(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/deactivate/account.yml")
	server = replay(serve, interactions)
	client = client_for(server)
	account = client.read("Account", "5")
	result = client.deactivate("Account", "5", account["SyncToken"], extra={"Name": account["Name"]})
	assert result["Active"] is False and result["Name"].endswith("(deleted)")
	assert server.seen[1].body.decode() == interactions[1]["request"]["body"]["string"]
	assert server.seen[1].param("operation") is None


def test_delete_invoice_replay_returns_deleted_stub(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/delete/invoice.yml")
	server = replay(serve, interactions)
	client = client_for(server)
	invoice = client.read("Invoice", "266")
	stub = client.delete("Invoice", "266", invoice["SyncToken"])
	assert stub == {"domain": "QBO", "status": "Deleted", "Id": "266"}
	assert server.seen[1].param("operation") == "delete"
	assert server.seen[1].body.decode() == interactions[1]["request"]["body"]["string"]


def test_void_invoice_replay_uses_operation_void(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/void/invoice.yml")
	server = replay(serve, interactions)
	client = client_for(server)
	invoice = client.read("Invoice", "264")
	voided = client.void("Invoice", "264", invoice["SyncToken"])
	assert voided["PrivateNote"] == "Voided" and voided["SyncToken"] == "1" and voided["TotalAmt"] == 0
	assert server.seen[1].param("operation") == "void" and server.seen[1].param("include") is None
	assert server.seen[1].body.decode() == interactions[1]["request"]["body"]["string"]


def test_vendors_by_5_paging_replay(qbo_fixtures, serve):
	interactions = load_cassette(qbo_fixtures / "minimul-qbo_api/all/vendors_by_5.yml")
	pages = [parse_query(parse_response(200, {}, i["response"]["body"]["string"])) for i in interactions]
	assert pages[0].total_count == 26 and pages[0].records == [] and pages[0].entity is None
	assert [p.start_position for p in pages[1:]] == [1, 6, 11, 16, 21, 26]
	assert [p.max_results for p in pages[1:]] == [5, 5, 5, 5, 5, 1]

	def recorded_statement(interaction):
		return parse_qs(urlsplit(interaction["request"]["uri"]).query)["query"][0]

	state = {"i": 0}

	def handler(seen):
		interaction = interactions[state["i"]]
		state["i"] += 1
		assert _clauses(seen.param("query")) == _clauses(recorded_statement(interaction))
		return recorded_reply(interaction)

	server = serve(handler)
	client = client_for(server)
	assert client.count("Vendor", include_inactive=False) == 26
	vendors = list(client.query_all("Vendor", include_inactive=False, page_size=5))
	assert len(vendors) == 26 and len({v["Id"] for v in vendors}) == 26
	assert len(server.seen) == 7  # count + 6 pages; the short 6th page stops the loop


def _clauses(statement: str) -> tuple:
	"""Order-insensitive STARTPOSITION/MAXRESULTS so 'MAXRESULTS 5 STARTPOSITION 1' == our spelling."""
	words = statement.split()
	paging = {}
	rest = []
	skip = False
	for index, word in enumerate(words):
		if skip:
			skip = False
			continue
		if word.upper() in ("STARTPOSITION", "MAXRESULTS"):
			paging[word.upper()] = words[index + 1]
			skip = True
		else:
			rest.append(word.upper())
	return tuple(rest), tuple(sorted(paging.items()))


def test_batch_basic_four_results_and_replay(qbo_fixtures, serve):
	(interaction,) = load_cassette(qbo_fixtures / "minimul-qbo_api/batch/basic.yml")
	request = loads(interaction["request"]["body"]["string"])
	items = []
	for raw in request["BatchItemRequest"]:
		if "Query" in raw:
			items.append(BatchItem(raw["bId"], "query", query=raw["Query"]))
		else:
			entity = next(k for k in raw if k not in ("bId", "operation"))
			items.append(BatchItem(raw["bId"], raw["operation"], entity=entity, body=raw[entity]))
	server = replay(serve, [interaction])
	results = client_for(server).batch(items, request_id="batch-0001")
	assert [r.bid for r in results] == ["bid1", "bid2", "bid3", "bid4"]
	assert results[0].ok and results[0].entity == "Vendor" and results[0].record["Id"] == "71"
	assert isinstance(results[1].error, ObjectNotFoundError) and results[1].error.code == "610"
	assert isinstance(results[2].error, StaleObjectError) and results[2].error.code == "5010"
	page = results[3].query_page
	assert page.entity == "SalesReceipt" and len(page.records) == 2 and page.max_results == 2
	assert isinstance(page.records[0]["TotalAmt"], Decimal)
	assert loads(server.seen[0].body) == request
	assert server.seen[0].param("requestid") == "batch-0001"
	# the same parsing function on the raw recorded body gives the same answer
	direct = parse_batch(parse_response(200, {}, interaction["response"]["body"]["string"]), items)
	assert [type(r.error).__name__ if r.error else "ok" for r in direct] == [
		"ok",
		"ObjectNotFoundError",
		"StaleObjectError",
		"ok",
	]


def test_cdc_basic_parse_and_replay(qbo_fixtures, serve):
	(interaction,) = load_cassette(qbo_fixtures / "minimul-qbo_api/cdc/basic.yml")
	result = parse_cdc(parse_response(200, {}, interaction["response"]["body"]["string"]), ["Estimate"])
	assert len(result.changes["Estimate"]) == 4 and result.deleted == {"Estimate": []}
	assert result.server_time == datetime(2020, 9, 29, 8, 2, 53, 512000, tzinfo=timezone(timedelta(hours=-7)))
	server = replay(serve, [interaction])
	clock = lambda: datetime(2020, 9, 29, 15, 0, tzinfo=timezone.utc)  # noqa: E731
	since = datetime(2020, 9, 1, 0, 0, tzinfo=timezone(timedelta(hours=-7)))
	live = client_for(server, clock=clock).cdc(["Estimate"], since)
	assert [e["Id"] for e in live.changes["Estimate"]] == ["48", "46", "41", "100"]
	assert live.incomplete_deletes == set()
	assert server.seen[0].param("entities") == "Estimate"
	assert server.seen[0].param("changedSince") == "2020-09-01T00:00:00-07:00"


def test_cdc_ruckus_xml_deleted_stub_and_empty_query_responses(qbo_fixtures):
	text = (qbo_fixtures / "ruckus-quickbooks-ruby/change_data_capture_response.xml").read_text()
	envelope = parse_response(200, {"Content-Type": "application/xml"}, text)
	blocks = envelope["CDCResponse"][0]["QueryResponse"]
	assert sum(1 for block in blocks if block == {}) == 7  # `<QueryResponse/>`: entity without changes
	result = parse_cdc(envelope, ["Bill", "Invoice", "Payment", "Customer"])
	assert result.deleted["Invoice"] == ["65"]
	stub = next(r for r in result.changes["Invoice"] if r["Id"] == "65")
	assert stub["status"] == "Deleted" and "SyncToken" not in stub
	assert parse_qbo_datetime(stub["MetaData"]["LastUpdatedTime"]).utcoffset() == timedelta(hours=-7)
	assert result.changes["Customer"] == [] and result.deleted["Customer"] == []
	assert result.server_time.utcoffset() == timedelta(hours=-7)


@pytest.mark.parametrize(
	"name, status", [("too_many_requests_error.xml", 429), ("throttle_exceeded_error.xml", 403)]
)
def test_xml_throttle_faults(qbo_fixtures, name, status):
	body = (qbo_fixtures / "ruckus-quickbooks-ruby" / name).read_bytes()
	error = error_of(status, {"Content-Type": "application/xml", "Retry-After": "7"}, body)
	assert type(error) is ThrottleError and error.code == "3001" and error.fault_type == "SERVICE"
	assert error.retryable and error.retry_after == 7.0
	assert not isinstance(error, AuthorizationError)


def test_xml_throttle_replay_is_retried_after_retry_after(qbo_fixtures, serve):
	body = (qbo_fixtures / "ruckus-quickbooks-ruby/too_many_requests_error.xml").read_bytes()
	ok = Reply(200, (qbo_fixtures / "Boulevard-ExQuickBooks/read_item.json").read_bytes())
	server = serve(sequence(Reply(429, body, {"Content-Type": "application/xml", "Retry-After": "3"}), ok))
	sleeps: list[float] = []
	item = client_for(server, retry=RetryPolicy(sleep=sleeps.append, jitter=0)).read("Item", "11")
	assert item["Name"] == "Pump" and sleeps == [3.0] and len(server.seen) == 2


def test_ruckus_xml_entities_keep_their_facts(qbo_fixtures):
	base = qbo_fixtures / "ruckus-quickbooks-ruby"
	memo = parse_response(200, {}, (base / "fetch_credit_memo.xml").read_text())["CreditMemo"]
	assert memo["CurrencyRef"]["value"] == "BRL" and "RemainingCredit" in memo
	assert memo["GlobalTaxCalculation"] == "NotApplicable"
	payment = parse_response(200, {}, (base / "payment_with_line_extras.xml").read_text())["Payment"]
	(line,) = payment["Line"]
	assert line["LinkedTxn"] == [{"TxnId": "68", "TxnType": "Invoice"}]
	assert {nv["Name"]: nv["Value"] for nv in line["LineEx"]["NameValue"]}["txnOpenBalance"] == "2400.00"
	assert to_money(payment["UnappliedAmt"]) == Decimal("0.00")
	tax_code = parse_response(200, {}, (base / "tax_code.xml").read_text())["TaxCode"]
	(detail,) = tax_code["SalesTaxRateList"]["TaxRateDetail"]
	assert detail["TaxRateRef"] == {"name": "Stupid tax", "value": "1"}
	assert detail["TaxTypeApplicable"] == "TaxOnAmount"


def test_error_cassettes_map_to_typed_errors(qbo_fixtures):
	def first_error(name, index=0):
		interaction = load_cassette(qbo_fixtures / "minimul-qbo_api/error" / name)[index]
		response = interaction["response"]
		return error_of(response["status"]["code"], response["headers"], response["body"]["string"])

	unauthorized = first_error("401.yml")
	assert type(unauthorized) is AuthenticationError and unauthorized.code == "3200"
	assert unauthorized.fault_type == "AUTHENTICATION" and "Token expired" in unauthorized.detail
	unsupported = first_error("500.yml", 0)
	assert type(unsupported) is UnsupportedOperationError and unsupported.code == "500"
	assert not isinstance(unsupported, ServerError) and not unsupported.retryable
	invalid_id = first_error("500.yml", 1)
	assert type(invalid_id) is ValidationError and invalid_id.code == "2030" and invalid_id.element == "Id"
	duplicate = first_error("validation.yml")
	assert type(duplicate) is DuplicateNameError and duplicate.code == "6240"
	unknown_field = first_error("400_json.yml")
	assert type(unknown_field) is ValidationError and unknown_field.code == "2010"


def test_401_cassette_replay_refreshes_once_then_raises(qbo_fixtures, serve):
	(interaction,) = load_cassette(qbo_fixtures / "minimul-qbo_api/error/401.yml")
	server = replay(serve, [interaction])
	tokens = FakeTokens()
	with pytest.raises(AuthenticationError):
		client_for(server, tokens=tokens).read("Customer", "1")
	assert tokens.refresh_calls == ["tok-1"]
	assert [s.headers["authorization"] for s in server.seen] == ["Bearer tok-1", "Bearer tok-2"]


def test_validation_cassette_replay_is_not_retried(qbo_fixtures, serve):
	(interaction,) = load_cassette(qbo_fixtures / "minimul-qbo_api/error/validation.yml")
	server = replay(serve, [interaction])
	with pytest.raises(DuplicateNameError):
		client_for(server).create("Customer", {"DisplayName": "Weiskopf Consulting"}, request_id="r-1")
	assert len(server.seen) == 1


def test_invalid_id_cassette_replay(qbo_fixtures, serve):
	interaction = load_cassette(qbo_fixtures / "minimul-qbo_api/error/500.yml")[1]
	server = replay(serve, [interaction])
	with pytest.raises(ValidationError) as info:
		client_for(server).read("Customer", "1.5")
	assert info.value.intuit_tid == "1-5f733d63-44139ea355338a7d238f5e99"


# -- airbyte expected records ------------------------------------------------------------------------------
def test_airbyte_records_parse_with_decimal_amounts_and_aware_times(qbo_fixtures):
	lines = (
		(qbo_fixtures / "airbytehq-airbyte-source-quickbooks/expected_records.subset.jsonl")
		.read_text()
		.splitlines()
	)
	records = [loads(line) for line in lines if line.strip()]
	assert len(records) == 12
	for wrapper in records:
		data = wrapper["data"]
		no_floats(data)
		for key in ("CreateTime", "LastUpdatedTime"):
			when = parse_qbo_datetime(data["MetaData"][key])
			assert when.utcoffset() in (timedelta(hours=-8), timedelta(hours=-7))
	by_id = {(w["stream"], w["data"]["Id"]): w["data"] for w in records}
	partial = by_id[("payments", "101")]
	assert partial["Line"][0]["Amount"] == Decimal("220.0")
	open_balance = {nv["value"]["Name"]: nv["value"]["Value"] for nv in partial["Line"][0]["LineEx"]["any"]}
	assert to_money(open_balance["txnOpenBalance"]) == Decimal("459.00")
	job = by_id[("customers", "8")]
	assert job["Job"] is True and job["Level"] == 1 and ":" in job["FullyQualifiedName"]
	credit_memo = by_id[("credit_memos", "73")]
	assert isinstance(credit_memo["TotalAmt"], Decimal) and to_money(credit_memo["TotalAmt"]) == Decimal(
		"100.00"
	)


# -- OAuth token endpoint ----------------------------------------------------------------------------------
def test_auth_response_parses_to_oauth_tokens(qbo_fixtures):
	recorded = json.loads((qbo_fixtures / "intuit-oauth-jsclient/authResponse.json").read_text())
	response = recorded["response"]
	tokens = parse_token_response(
		response["status"], response["headers"], response["body"], now=NOW, realm_id="r1"
	)
	assert isinstance(tokens, OAuthTokens)
	assert tokens.access_token == "sample_access_token" and tokens.refresh_token == "sample_refresh_token"
	assert tokens.expires_at == NOW + timedelta(seconds=3600)
	assert tokens.refresh_expires_at == NOW + timedelta(seconds=8726400)
	assert tokens.refresh_hard_expires_at is None and tokens.realm_id == "r1"
	assert OAuthTokens.from_dict(json.loads(json.dumps(tokens.to_dict()))) == tokens


def test_error_response_is_invalid_grant(qbo_fixtures):
	recorded = json.loads((qbo_fixtures / "intuit-oauth-jsclient/errorResponse.json").read_text())
	response = recorded["response"]
	with pytest.raises(InvalidGrantError) as info:
		parse_token_response(response["status"], response["headers"], response["body"], now=NOW)
	assert info.value.code == "invalid_grant" and info.value.http_status == 400
	assert info.value.intuit_tid == "1234-1234-1234-123"
	assert isinstance(error_from_response(400, response["headers"], response["body"]), InvalidGrantError)


def test_token_fixtures_replayed_through_oauth_app(qbo_fixtures, serve):
	ok = json.loads((qbo_fixtures / "intuit-oauth-jsclient/authResponse.json").read_text())["response"]
	bad = json.loads((qbo_fixtures / "intuit-oauth-jsclient/errorResponse.json").read_text())["response"]
	server = serve(
		sequence(
			Reply(ok["status"], ok["body"], ok["headers"]), Reply(bad["status"], bad["body"], bad["headers"])
		)
	)
	exchanges = []
	app = OAuthApp(
		"cid",
		"secret",
		"http://127.0.0.1/cb",
		resolve_endpoints("custom", server.base_url),
		on_exchange=exchanges.append,
		clock=lambda: NOW,
	)
	tokens = app.exchange_code("the-code", "r1", state="s", expected_state="s")
	assert tokens.access_token == "sample_access_token" and tokens.expires_at == NOW + timedelta(hours=1)
	with pytest.raises(InvalidGrantError):
		app.refresh(tokens.refresh_token)
	assert [e.outcome for e in exchanges] == ["ok", "InvalidGrantError"]
	assert all(e.intuit_tid == "1234-1234-1234-123" and e.operation == "token" for e in exchanges)
	for exchange in exchanges:
		assert "sample_access_token" not in (exchange.response_body or "")
		assert "the-code" not in (exchange.request_body or "") and "sample_refresh_token" not in (
			exchange.request_body or ""
		)


# -- webhooks ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
	"name", ["WebhooksServiceTest.java.vector.json", "WebhooksServiceTest.cs.vector.json"]
)
def test_webhook_vectors_verify(qbo_fixtures, name):
	vector = json.loads((qbo_fixtures / "intuit-sdk-webhook-vectors" / name).read_text())
	raw = vector["payload"].encode("utf-8")
	assert verify_signature(raw, vector["intuit_signature"], vector["verifier_token"]) is True
	assert verify_signature(raw + b" ", vector["intuit_signature"], vector["verifier_token"]) is False
	assert verify_signature(raw, vector["intuit_signature"], vector["verifier_token"] + "x") is False
	assert verify_signature(raw, None, vector["verifier_token"]) is False
	events = parse_events(raw)
	assert events and all(e.source_format == "legacy" and e.occurred_at.tzinfo for e in events)


def test_webhook_cs_vector_two_entities(qbo_fixtures):
	vector = json.loads(
		(qbo_fixtures / "intuit-sdk-webhook-vectors/WebhooksServiceTest.cs.vector.json").read_text()
	)
	events = parse_events(vector["payload"])
	assert [(e.realm_id, e.entity, e.entity_id, e.operation) for e in events] == [
		("1269959970", "Vendor", "40", "Update"),
		("1269959970", "Customer", "43", "Create"),
	]


def test_webhook_java_vector_offset_without_colon(qbo_fixtures):
	vector = json.loads(
		(qbo_fixtures / "intuit-sdk-webhook-vectors/WebhooksServiceTest.java.vector.json").read_text()
	)
	(event,) = parse_events(vector["payload"])
	assert event.occurred_at == datetime(2015, 10, 5, 21, 42, 19, tzinfo=timezone.utc)


def test_webhook_cloudevents_payload(qbo_fixtures):
	vector = json.loads(
		(qbo_fixtures / "intuit-sdk-webhook-vectors/WebhooksServiceTest.cs.cloudevents.json").read_text()
	)
	(event,) = parse_events(vector["payload"].encode())
	assert (event.realm_id, event.entity, event.entity_id, event.operation) == (
		"310687",
		"Class",
		"1234",
		"Create",
	)
	assert event.event_id == "d1a3aedd-9670-41bf-a4f9-c148a1cc4e03" and event.source_format == "cloudevents"
	assert event.occurred_at == datetime(2025, 10, 7, 19, 59, 7, 34359, tzinfo=timezone.utc)


def test_webhook_blog_pair_means_the_same_event(qbo_fixtures):
	pair = json.loads(
		(qbo_fixtures / "intuit-sdk-webhook-vectors/intuit-blog-2025-11-12.webhook-formats.json").read_text()
	)
	(legacy,) = parse_events(json.dumps(pair["legacy_payload"]))
	(cloud,) = parse_events(json.dumps(pair["cloudevents_payload"]))
	key = lambda e: (e.realm_id, e.entity, e.entity_id, e.operation)  # noqa: E731
	assert key(legacy) == key(cloud) == ("310687", "Account", "1234", "Create")
	assert legacy.source_format == "legacy" and cloud.source_format == "cloudevents"
