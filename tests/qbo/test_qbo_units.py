"""Small pure pieces: datetimes, money, JSON with Decimal, error mapping edge cases, redaction, webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from nexora_qbo.qbo import (
	AuthenticationError,
	AuthorizationError,
	QBOError,
	QueryError,
	ServerError,
	ThrottleError,
	ValidationError,
	error_from_response,
	format_qbo_datetime,
	parse_events,
	parse_qbo_datetime,
	parse_response,
	to_money,
	verify_signature,
)
from nexora_qbo.qbo.exchange import path_and_query, redact_text
from nexora_qbo.qbo.jsonutil import dumps, loads

PDT = timezone(timedelta(hours=-7))


@pytest.mark.parametrize(
	"text, expected",
	[
		("2020-09-29T05:58:16-07:00", datetime(2020, 9, 29, 5, 58, 16, tzinfo=PDT)),
		("2023-02-18T13:16:17-08:00", datetime(2023, 2, 18, 21, 16, 17, tzinfo=timezone.utc)),
		("2025-09-08T20:52:31.657Z", datetime(2025, 9, 8, 20, 52, 31, 657000, tzinfo=timezone.utc)),
		("2025-09-10T21:31:25.179851517Z", datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=timezone.utc)),
		("2015-10-05T14:42:19-0700", datetime(2015, 10, 5, 14, 42, 19, tzinfo=PDT)),
	],
)
def test_parse_qbo_datetime(text, expected):
	parsed = parse_qbo_datetime(text)
	assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize("bad", ["2020-09-29T05:58:16", "2020-09-29", "yesterday"])
def test_parse_qbo_datetime_refuses_naive_or_garbage(bad):
	with pytest.raises(ValueError):
		parse_qbo_datetime(bad)


def test_format_qbo_datetime_always_has_an_offset():
	assert format_qbo_datetime(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=PDT)) == "2026-01-02T03:04:05-07:00"
	assert format_qbo_datetime(datetime(2026, 1, 2, tzinfo=timezone.utc)) == "2026-01-02T00:00:00+00:00"
	with pytest.raises(ValueError):
		format_qbo_datetime(datetime(2026, 1, 2))


def test_money_and_json_round_trip():
	assert to_money("2.675") == Decimal("2.68") and to_money(Decimal("-2.675")) == Decimal("-2.68")
	assert to_money(0.1) == Decimal("0.10") and to_money(337) == Decimal("337.00")
	data = loads('{"Amount": 100.10, "Qty": 4.5, "LineNum": 1, "Id": "7"}')
	assert data == {"Amount": Decimal("100.10"), "Qty": Decimal("4.5"), "LineNum": 1, "Id": "7"}
	assert isinstance(data["LineNum"], int)
	text = dumps({"Amount": Decimal("100.10"), "Note": 'café "x"', "L": [Decimal("1E+2"), True, None]})
	assert text == '{"Amount":100.10,"Note":"café \\"x\\"","L":[100,true,null]}'
	assert loads(text)["Amount"] == Decimal("100.10")


@pytest.mark.parametrize(
	"status, body, cls",
	[
		(
			400,
			{"Fault": {"Error": [{"code": "4001", "Message": "Invalid query"}], "type": "ValidationFault"}},
			QueryError,
		),
		(
			400,
			{"Fault": {"Error": [{"code": "6000", "Message": "x"}], "type": "ValidationFault"}},
			ValidationError,
		),
		(
			403,
			{"Fault": {"Error": [{"code": "100", "Message": "no"}], "type": "AuthorizationFault"}},
			AuthorizationError,
		),
		(500, {"Fault": {"Error": [{"code": "10000", "Message": "x"}], "type": "SystemFault"}}, ServerError),
		(200, {"Fault": {"Error": [{"code": "10000", "Message": "x"}], "type": "SystemFault"}}, ServerError),
		(400, {"Fault": {"Error": [{"code": "3001", "Message": "x"}], "type": "SERVICE"}}, ThrottleError),
		(401, "", AuthenticationError),
		(503, "", ServerError),
		(429, "<html>slow down</html>", ThrottleError),
	],
)
def test_error_mapping_edges(status, body, cls):
	raw = json.dumps(body) if isinstance(body, dict) else body
	with pytest.raises(QBOError) as info:
		parse_response(status, {}, raw)
	assert type(info.value) is cls


def test_5xxx_and_6xxx_codes_are_not_prefix_mapped():
	"""The shipped bug: 5010 as auth, 6240 as stale. Unknown 5xxx codes stay plain ValidationErrors."""
	body = json.dumps({"Fault": {"Error": [{"code": "5020", "Message": "x"}], "type": "ValidationFault"}})
	assert type(error_from_response(400, {}, body)) is ValidationError
	body = json.dumps(
		{
			"Fault": {
				"Error": [{"code": "6210", "Message": "Duplicate Document Number"}],
				"type": "ValidationFault",
			}
		}
	)
	assert type(error_from_response(400, {}, body)) is ValidationError


def test_unknown_non_json_is_a_qbo_error_with_the_body():
	error = error_from_response(418, {"intuit_tid": "t"}, b"\xff\xfe not json")
	assert type(error) is QBOError and error.intuit_tid == "t" and error.body


def test_redaction():
	form = "grant_type=refresh_token&refresh_token=rt-secret&client_secret=s3"
	assert "rt-secret" not in redact_text(form) and "s3" not in redact_text(form)
	assert "grant_type=refresh_token" in redact_text(form)
	body = json.dumps({"access_token": "a", "Nested": [{"refresh_token": "r"}], "Keep": "k"})
	assert json.loads(redact_text(body)) == {
		"access_token": "[REDACTED]",
		"Nested": [{"refresh_token": "[REDACTED]"}],
		"Keep": "k",
	}
	assert "abc" not in redact_text("Authorization: Bearer abc.def")
	assert (
		path_and_query("https://h/v3/company/1/customer?minorversion=75")
		== "/v3/company/1/customer?minorversion=75"
	)


def test_cloudevents_type_mapping_and_signature_of_arbitrary_body():
	payload = json.dumps(
		[
			{
				"specversion": "1.0",
				"id": "e1",
				"type": "qbo.creditmemo.voided.v1",
				"time": "2026-01-01T00:00:00Z",
				"intuitentityid": "5",
				"intuitaccountid": "r1",
				"data": {},
			},
			{
				"specversion": "1.0",
				"id": "e2",
				"type": "qbo.customer.merged.v1",
				"time": "2026-01-01T00:00:00Z",
				"intuitentityid": "6",
				"intuitaccountid": "r1",
				"data": {"deletedId": "4"},
			},
			{
				"specversion": "1.0",
				"id": "e3",
				"type": "qbo.invoice.emailed.v1",
				"time": "2026-01-01T00:00:00Z",
				"intuitentityid": "7",
				"intuitaccountid": "r2",
			},
			{
				"specversion": "1.0",
				"id": "e4",
				"type": "qbo.journalentry.deleted.v1",
				"time": "2026-01-01T00:00:00Z",
				"intuitentityid": "8",
				"intuitaccountid": "r2",
			},
		]
	).encode()
	events = parse_events(payload)
	assert [(e.entity, e.operation) for e in events] == [
		("CreditMemo", "Void"),
		("Customer", "Merge"),
		("Invoice", "Emailed"),
		("JournalEntry", "Delete"),
	]
	assert events[1].deleted_id == "4" and {e.realm_id for e in events} == {"r1", "r2"}
	signature = base64.b64encode(hmac.new(b"verifier", payload, hashlib.sha256).digest()).decode()
	assert verify_signature(payload, signature, "verifier")
	assert not verify_signature(payload, "", "verifier")
	assert not verify_signature(payload, signature, "")
	with pytest.raises(ValueError):
		parse_events(b'{"hello": 1}')
