"""QBOClient behaviour over real HTTP on 127.0.0.1 (scripted server): retries, requestid reuse, throttles,
401 refresh, network failures, paging, CDC splitting, batch rules, void/delete rules, audit exchanges."""

from __future__ import annotations

import json
import socket
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from qbo_testkit import DROP, RESET, FakeClock, FakeTokens, Reply, sequence

from nexora_qbo.qbo import (
	AuthenticationError,
	BatchItem,
	ConnectionFailed,
	InMemoryPacer,
	QBOClient,
	QBOError,
	RateLimits,
	RetryPolicy,
	ServerError,
	ThrottleError,
	UnsupportedOperationError,
	ValidationError,
)

REALM = "9130"
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)


def ok(body: dict, **headers) -> Reply:
	return Reply(200, json.dumps(body), {"Content-Type": "application/json", **headers})


def fault(
	status: int, code: str, message: str = "boom", fault_type: str = "ValidationFault", **headers
) -> Reply:
	body = {"Fault": {"Error": [{"Message": message, "Detail": message, "code": code}], "type": fault_type}}
	return Reply(status, json.dumps(body), {"Content-Type": "application/json", **headers})


CUSTOMER = {
	"Customer": {"Id": "70", "SyncToken": "0", "DisplayName": "Jane", "Balance": 12.30},
	"time": "2026-11-24T12:00:00-08:00",
}


def make_client(server, **kwargs):
	sleeps = kwargs.pop("sleeps", [])
	kwargs.setdefault("tokens", FakeTokens())
	kwargs.setdefault("retry", RetryPolicy(sleep=sleeps.append, jitter=0))
	kwargs.setdefault("clock", lambda: NOW)
	exchanges = kwargs.pop("exchanges", None)
	if exchanges is not None:
		kwargs["on_exchange"] = exchanges.append
	return QBOClient(REALM, base_url=server.base_url, **kwargs)


# -- retries and idempotency --------------------------------------------------------------------------
def test_create_retries_resend_the_identical_requestid_and_body(serve):
	server = serve(
		sequence(
			fault(503, "10000", fault_type="SystemFault"),
			Reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}),
			DROP,
			ok(CUSTOMER),
		)
	)
	sleeps: list[float] = []
	exchanges: list = []
	client = make_client(server, sleeps=sleeps, exchanges=exchanges)
	customer = client.create(
		"Customer", {"DisplayName": "Jane", "Balance": Decimal("12.30")}, request_id="nx:c:1:g1"
	)
	assert customer["Balance"] == Decimal("12.30")
	assert len(server.seen) == 4
	assert {s.param("requestid") for s in server.seen} == {"nx:c:1:g1"}
	assert len({s.body for s in server.seen}) == 1
	assert b'"Balance":12.30' in server.seen[0].body  # Decimal serialised exactly as a JSON number
	assert sleeps == [0.5, 1.0, 2.0]  # exponential backoff, jitter disabled
	assert [e.attempt for e in exchanges] == [1, 2, 3, 4]
	assert [e.outcome for e in exchanges] == ["ServerError", "ServerError", "ConnectionFailed", "ok"]
	assert all(e.request_id == "nx:c:1:g1" and e.operation == "create" for e in exchanges)
	assert exchanges[-1].sync_token_received == "0" and exchanges[2].response_status is None


def test_update_without_requestid_mints_one_and_reuses_it_on_retry(serve):
	server = serve(sequence(RESET, ok(CUSTOMER)))
	client = make_client(server)
	client.update("Customer", {"Id": "70", "SyncToken": "0", "DisplayName": "Jane"})
	first, second = server.seen
	assert first.param("requestid") and first.param("requestid") == second.param("requestid")
	assert json.loads(first.body) == {"Id": "70", "SyncToken": "0", "DisplayName": "Jane", "sparse": True}


def test_retries_stop_at_max_attempts(serve):
	server = serve(sequence(fault(500, "10000", fault_type="SystemFault")))
	client = make_client(server, retry=RetryPolicy(max_attempts=3, sleep=lambda s: None, jitter=0))
	with pytest.raises(ServerError):
		client.read("Customer", "1")
	assert len(server.seen) == 3


def test_throttle_honours_retry_after_then_default_wait(serve):
	server = serve(
		sequence(
			fault(
				429,
				"3001",
				"message=ThrottleExceeded; errorCode=003001; statusCode=429",
				"SERVICE",
				**{"Retry-After": "12"},
			),
			fault(429, "3001", "ThrottleExceeded", "SERVICE"),
			ok(CUSTOMER),
		)
	)
	sleeps: list[float] = []
	make_client(server, sleeps=sleeps).read("Customer", "70")
	assert sleeps == [12.0, 60.0]  # Retry-After when present, else Intuit's "wait 60 seconds"
	assert len(server.seen) == 3


def test_throttle_jitter_stretches_the_wait():
	policy = RetryPolicy(jitter=0.25, random=lambda: 1.0)
	assert policy.wait_for(ThrottleError("t", retry_after=None), 1) == 75.0
	assert policy.wait_for(ServerError("s"), 3) == 2.5
	assert RetryPolicy(max_backoff=4, jitter=0).wait_for(ServerError("s"), 10) == 4


def test_validation_faults_are_not_retried(serve):
	server = serve(sequence(fault(400, "5010", "Stale Object Error")))
	with pytest.raises(QBOError) as info:
		make_client(server).update("Customer", {"Id": "70", "SyncToken": "0"})
	assert type(info.value).__name__ == "StaleObjectError" and len(server.seen) == 1


def test_401_refreshes_once_and_retries_with_the_new_token(serve):
	server = serve(sequence(fault(401, "3200", "AuthenticationFailed", "AUTHENTICATION"), ok(CUSTOMER)))
	tokens = FakeTokens()
	exchanges: list = []
	customer = make_client(server, tokens=tokens, exchanges=exchanges).read("Customer", "70")
	assert customer["Id"] == "70"
	assert tokens.refresh_calls == ["tok-1"]
	assert [s.headers["authorization"] for s in server.seen] == ["Bearer tok-1", "Bearer tok-2"]
	assert [e.outcome for e in exchanges] == ["AuthenticationError", "ok"]


def test_second_401_is_raised_not_looped(serve):
	server = serve(sequence(fault(401, "3200", "AuthenticationFailed", "AUTHENTICATION")))
	tokens = FakeTokens()
	with pytest.raises(AuthenticationError):
		make_client(server, tokens=tokens).read("Customer", "70")
	assert tokens.refresh_calls == ["tok-1"] and len(server.seen) == 2


def test_connection_reset_after_send_is_connection_failed_with_request_sent(serve):
	server = serve(sequence(RESET))
	client = make_client(server, retry=RetryPolicy(max_attempts=1, sleep=lambda s: None))
	with pytest.raises(ConnectionFailed) as info:
		client.create("Customer", {"DisplayName": "Jane"}, request_id="r1")
	assert info.value.request_sent is True and info.value.retryable
	assert len(server.seen) == 1  # the server did receive it


def test_lost_response_is_request_sent(serve):
	server = serve(sequence(DROP))
	client = make_client(server, retry=RetryPolicy(max_attempts=1, sleep=lambda s: None))
	with pytest.raises(ConnectionFailed) as info:
		client.read("Customer", "1")
	assert info.value.request_sent is True


def test_read_timeout_is_request_sent(serve):
	def slow(seen):
		time.sleep(0.5)
		return ok(CUSTOMER)

	server = serve(slow)
	client = make_client(server, timeout=(1, 0.1), retry=RetryPolicy(max_attempts=1, sleep=lambda s: None))
	with pytest.raises(ConnectionFailed) as info:
		client.read("Customer", "1")
	assert info.value.request_sent is True


def test_connection_refused_is_not_request_sent():
	with socket.socket() as sock:
		sock.bind(("127.0.0.1", 0))
		port = sock.getsockname()[1]
	client = QBOClient(
		REALM,
		base_url=f"http://127.0.0.1:{port}",
		tokens=FakeTokens(),
		retry=RetryPolicy(max_attempts=2, sleep=lambda s: None, jitter=0),
	)
	exchanges: list = []
	client.on_exchange = exchanges.append
	with pytest.raises(ConnectionFailed) as info:
		client.read("Customer", "1")
	assert info.value.request_sent is False
	assert [e.outcome for e in exchanges] == ["ConnectionFailed", "ConnectionFailed"]


def test_batch_without_requestid_is_not_resent_after_an_ambiguous_failure(serve):
	server = serve(sequence(fault(500, "10000", fault_type="SystemFault"), ok({"BatchItemResponse": []})))
	items = [
		BatchItem("a-very-long-bid", "query", query="select * from Customer")
	]  # too long for a requestid
	with pytest.raises(ServerError):
		make_client(server).batch(items)
	assert len(server.seen) == 1 and server.seen[0].param("requestid") is None


# -- request shape ------------------------------------------------------------------------------------
def test_every_request_pins_minorversion_and_json_headers_and_captures_tid(serve):
	server = serve(
		sequence(
			ok(CUSTOMER, **{"Intuit-Tid": "1-abc"}),
			ok(
				{"Preferences": {"CurrencyPrefs": {}}, "time": "2026-11-24T12:00:00-08:00"},
				intuit_tid="2-def",
			),
			ok({"CompanyInfo": {"CompanyName": "Acme"}}, **{"INTUIT-TID": "3-ghi"}),
			ok({"ExchangeRate": {"SourceCurrencyCode": "EUR", "Rate": 1.0842}}),
		)
	)
	exchanges: list = []
	client = make_client(server, exchanges=exchanges)
	client.read("Customer", "70")
	assert client.preferences() == {"CurrencyPrefs": {}}
	assert client.company_info()["CompanyName"] == "Acme"
	rate = client.exchange_rate("eur", date(2026, 11, 1))
	assert rate["Rate"] == Decimal("1.0842")
	paths = [s.path for s in server.seen]
	assert paths == [
		f"/v3/company/{REALM}/customer/70",
		f"/v3/company/{REALM}/preferences",
		f"/v3/company/{REALM}/companyinfo/{REALM}",
		f"/v3/company/{REALM}/exchangerate",
	]
	assert (
		server.seen[3].param("sourcecurrencycode") == "EUR"
		and server.seen[3].param("asofdate") == "2026-11-01"
	)
	for seen in server.seen:
		assert seen.param("minorversion") == "75"
		assert seen.headers["accept"] == "application/json"
		assert seen.headers["content-type"] == "application/json"
	assert [e.intuit_tid for e in exchanges] == ["1-abc", "2-def", "3-ghi", None]
	assert [e.operation for e in exchanges] == ["read", "preferences", "companyinfo", "exchangerate"]
	for exchange in exchanges:
		assert "tok-1" not in json.dumps(exchange.__dict__, default=str)
		assert exchange.url.startswith(f"/v3/company/{REALM}/") and "minorversion=75" in exchange.url
		assert exchange.started_at.tzinfo is not None and exchange.duration_ms >= 0


def test_html_error_bodies_become_typed_errors(serve):
	server = serve(sequence(Reply(404, "<html>Not Found</html>", {"Content-Type": "text/html"})))
	with pytest.raises(QBOError) as info:
		make_client(server).read("Customer", "1")
	assert info.value.http_status == 404 and "Not Found" in info.value.message


def test_void_and_delete_follow_each_entity_rule(serve):
	payment = {"Payment": {"Id": "9", "SyncToken": "3", "TotalAmt": 0, "PrivateNote": "Voided"}}
	receipt = {"SalesReceipt": {"Id": "4", "SyncToken": "2"}}
	stub = {"Payment": {"domain": "QBO", "status": "Deleted", "Id": "9"}}
	server = serve(sequence(ok(payment), ok(receipt), ok(stub)))
	client = make_client(server)
	assert client.void("Payment", "9", "2")["PrivateNote"] == "Voided"
	client.void("SalesReceipt", "4", "1")
	assert client.delete("Payment", "9", "3")["status"] == "Deleted"
	void_payment, void_receipt, delete = server.seen
	for seen in (void_payment, void_receipt):
		assert seen.param("operation") == "update" and seen.param("include") == "void"
	assert json.loads(void_payment.body) == {"Id": "9", "SyncToken": "2", "sparse": True}
	assert delete.param("operation") == "delete" and json.loads(delete.body) == {"Id": "9", "SyncToken": "3"}
	assert delete.path.endswith("/payment")
	with pytest.raises(UnsupportedOperationError):
		client.void("Bill", "1", "0")
	with pytest.raises(UnsupportedOperationError):
		client.delete("Customer", "1", "0")
	assert len(server.seen) == 3  # refused client-side, nothing sent


def test_deactivate_is_a_sparse_active_false_update(serve):
	server = serve(sequence(ok({"Term": {"Id": "3", "SyncToken": "1", "Active": False}})))
	make_client(server).deactivate("Term", "3", "0", extra={"Name": "Net 30", "Active": True})
	(seen,) = server.seen
	assert json.loads(seen.body) == {
		"Id": "3",
		"SyncToken": "0",
		"sparse": True,
		"Active": False,
		"Name": "Net 30",
	}
	assert seen.path.endswith("/term") and seen.param("operation") is None


def test_requestid_length_is_validated_before_sending(serve):
	server = serve(sequence(ok(CUSTOMER)))
	with pytest.raises(ValidationError):
		make_client(server).create("Customer", {"DisplayName": "x"}, request_id="x" * 51)
	make_client(server).create("Customer", {"DisplayName": "x"}, request_id="x" * 50)
	assert len(server.seen) == 1


# -- query paging ----------------------------------------------------------------------------------------
def test_query_all_pages_one_based_and_stops_on_a_short_page(serve):
	def handler(seen):
		statement = seen.param("query")
		start = int(statement.split("STARTPOSITION ")[1].split()[0])
		size = int(statement.split("MAXRESULTS ")[1].split()[0])
		total = 7
		rows = [{"Id": str(i)} for i in range(start, min(start + size, total + 1))]
		body = (
			{"QueryResponse": {"Customer": rows, "startPosition": start, "maxResults": len(rows)}}
			if rows
			else {"QueryResponse": {}}
		)
		return ok(body)

	server = serve(handler)
	rows = list(
		make_client(server).query_all("Customer", where="DisplayName LIKE 'A%'", order_by="Id", page_size=3)
	)
	assert [r["Id"] for r in rows] == [str(i) for i in range(1, 8)]
	statements = [s.param("query") for s in server.seen]
	assert statements == [
		"SELECT * FROM Customer WHERE DisplayName LIKE 'A%' AND Active IN (true,false) ORDERBY Id "
		f"STARTPOSITION {n} MAXRESULTS 3"
		for n in (1, 4, 7)
	]


def test_query_exact_multiple_ends_on_an_empty_query_response(serve):
	server = serve(
		sequence(
			ok(
				{
					"QueryResponse": {
						"Invoice": [{"Id": "1"}, {"Id": "2"}],
						"startPosition": 1,
						"maxResults": 2,
					}
				}
			),
			ok({"QueryResponse": {}, "time": "2026-11-24T12:00:00-08:00"}),
		)
	)
	client = make_client(server)
	assert [r["Id"] for r in client.query_all("Invoice", page_size=2)] == ["1", "2"]
	assert "Active" not in server.seen[0].param("query")  # transactions have no Active filter
	page = client.query("SELECT * FROM Invoice STARTPOSITION 3 MAXRESULTS 2")
	assert page.records == [] and page.entity == "Invoice"


def test_count_and_explicit_inactive_choice(serve):
	server = serve(sequence(ok({"QueryResponse": {"totalCount": 41}})))
	client = make_client(server)
	assert client.count("Vendor") == 41
	assert client.count("Vendor", include_inactive=False) == 41
	assert client.count("Item", where="Active = false") == 41
	statements = [s.param("query") for s in server.seen]
	assert statements == [
		"SELECT COUNT(*) FROM Vendor WHERE Active IN (true,false)",
		"SELECT COUNT(*) FROM Vendor",
		"SELECT COUNT(*) FROM Item WHERE Active = false",
	]


def test_query_all_rejects_page_size_over_1000(serve):
	server = serve(sequence(ok({"QueryResponse": {}})))
	with pytest.raises(ValueError):
		list(make_client(server).query_all("Customer", page_size=1001))


# -- CDC ----------------------------------------------------------------------------------------------------
def _cdc(blocks: dict[str, list[dict]]) -> Reply:
	query_responses = [
		{name: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {}
		for name, rows in blocks.items()
	]
	return ok({"CDCResponse": [{"QueryResponse": query_responses}], "time": "2026-11-24T11:00:00-08:00"})


def test_cdc_splits_a_saturated_answer_and_falls_back_to_queries(serve):
	customers = [{"Id": str(i), "SyncToken": "0"} for i in range(600)]
	invoices = [{"Id": str(i), "SyncToken": "0"} for i in range(400)] + [
		{"domain": "QBO", "status": "Deleted", "Id": "999"}
	]
	invoices_alone = [{"Id": str(i), "SyncToken": "0"} for i in range(999)] + [
		{"domain": "QBO", "status": "Deleted", "Id": "999"}
	]

	def handler(seen):
		if seen.path.endswith("/cdc"):
			entities = seen.param("entities")
			if entities == "Customer,Invoice":
				return _cdc({"Customer": customers, "Invoice": invoices})
			if entities == "Customer":
				return _cdc({"Customer": customers})
			return _cdc({"Invoice": invoices_alone})
		statement = seen.param("query")
		start = int(statement.split("STARTPOSITION ")[1].split()[0])
		rows = [{"Id": str(i)} for i in range(start, min(start + 1000, 1501))]
		return ok({"QueryResponse": {"Invoice": rows, "startPosition": start, "maxResults": len(rows)}})

	server = serve(handler)
	since = NOW - timedelta(hours=2)
	result = make_client(server).cdc(["Customer", "Invoice"], since)
	assert len(result.changes["Customer"]) == 600 and result.deleted["Customer"] == []
	assert (
		len(result.changes["Invoice"]) == 1500 + 1
	)  # every row by query, plus the Deleted stub CDC did show
	assert result.deleted["Invoice"] == ["999"]
	assert result.incomplete_deletes == {"Invoice"}
	queries = [s.param("query") for s in server.seen if s.path.endswith("/query")]
	assert queries[0] == (
		"SELECT * FROM Invoice WHERE Metadata.LastUpdatedTime >= '2026-11-24T18:00:00+00:00' "
		"STARTPOSITION 1 MAXRESULTS 1000"
	)
	assert len(queries) == 2
	assert [s.param("entities") for s in server.seen if s.path.endswith("/cdc")] == [
		"Customer,Invoice",
		"Customer",
		"Invoice",
	]


def test_cdc_under_the_cap_is_one_call(serve):
	server = serve(sequence(_cdc({"Customer": [{"Id": "1"}], "Invoice": []})))
	result = make_client(server).cdc(["Customer", "Invoice"], NOW - timedelta(days=29))
	assert result.changes == {"Customer": [{"Id": "1"}], "Invoice": []} and len(server.seen) == 1
	assert result.server_time == datetime(2026, 11, 24, 19, 0, tzinfo=timezone.utc)


def test_cdc_refuses_more_than_30_days_and_naive_times_before_sending(serve):
	server = serve(sequence(_cdc({})))
	client = make_client(server)
	with pytest.raises(ValidationError):
		client.cdc(["Customer"], NOW - timedelta(days=31))
	with pytest.raises(ValidationError):
		client.cdc(["Customer"], datetime(2026, 11, 24, 10, 0))
	assert server.seen == []


# -- batch --------------------------------------------------------------------------------------------------
def test_batch_limits_are_validated_client_side(serve):
	server = serve(sequence(ok({"BatchItemResponse": []})))
	client = make_client(server)
	query = lambda bid: BatchItem(bid, "query", query="select * from Customer")  # noqa: E731
	with pytest.raises(ValidationError, match="at most 30"):
		client.batch([query(f"b{i}") for i in range(31)], request_id="r")
	with pytest.raises(ValidationError, match="bId"):
		client.batch([query("b" * 11)], request_id="r")
	with pytest.raises(ValidationError, match="requestid"):
		client.batch([query("b1")], request_id="r" * 37)
	with pytest.raises(ValidationError, match="duplicate"):
		client.batch([query("b1"), query("b1")], request_id="r")
	with pytest.raises(ValidationError):
		client.batch([BatchItem("b1", "upsert", entity="Customer", body={})], request_id="r")
	assert server.seen == []
	client.batch([query(f"b{i:09d}") for i in range(30)], request_id="r" * 36)
	assert len(server.seen) == 1


def test_batch_is_paced_as_a_batch_and_retried_with_the_same_requestid(serve):
	server = serve(
		sequence(
			fault(429, "3001", "ThrottleExceeded", "SERVICE"),
			ok({"BatchItemResponse": [{"bId": "1", "Customer": {"Id": "5", "SyncToken": "0"}}]}),
		)
	)
	clock = FakeClock()
	grants: list = []
	pacer = InMemoryPacer(
		RateLimits(10, 500, 40),
		clock=clock,
		sleep=clock.sleep,
		on_grant=lambda r, t, b: grants.append((r, b)),
	)
	client = make_client(server, pacer=pacer)
	(result,) = client.batch(
		[BatchItem("1", "create", entity="Customer", body={"DisplayName": "A"})], request_id="rq-7"
	)
	assert result.ok and result.record["Id"] == "5"
	assert grants == [(REALM, True), (REALM, True)]
	assert [s.param("requestid") for s in server.seen] == ["rq-7", "rq-7"]
	assert json.loads(server.seen[0].body) == {
		"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "A"}}]
	}


def test_server_error_retry_after_is_honoured(serve):
	server = serve(
		sequence(fault(503, "10000", fault_type="SystemFault", **{"Retry-After": "9"}), ok(CUSTOMER))
	)
	sleeps: list[float] = []
	make_client(server, sleeps=sleeps).read("Customer", "70")
	assert sleeps == [9.0]


def test_dead_refresh_chain_surfaces_invalid_grant(serve):
	from nexora_qbo.qbo import InvalidGrantError

	class DeadTokens(FakeTokens):
		def refresh(self, stale=None):
			self.refresh_calls.append(stale)
			raise InvalidGrantError("Token invalid", code="invalid_grant")

	server = serve(sequence(fault(401, "3200", "AuthenticationFailed", "AUTHENTICATION")))
	tokens = DeadTokens()
	with pytest.raises(InvalidGrantError):
		make_client(server, tokens=tokens).read("Customer", "70")
	assert tokens.refresh_calls == ["tok-1"] and len(server.seen) == 1
