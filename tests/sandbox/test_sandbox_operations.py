"""Rate limits on the sandbox clock, seeded fault injection, webhooks, admin API, bookkeeper, CLI, threads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from nexora_qbo.sandbox import cli
from nexora_qbo.sandbox.bookkeeper import Bookkeeper
from nexora_qbo.sandbox.server import SandboxServer
from sandbox_testkit import Api


# ---- rate limits ---------------------------------------------------------------------------------------
def test_default_limit_is_ten_per_second_with_the_real_throttle_fault(server):
	realm = server.create_realm(seed=False)
	api = Api(server, realm)
	statuses = [api.call("GET", "/preferences").status_code for _ in range(11)]
	assert statuses[:10] == [200] * 10 and statuses[10] == 429
	resp = api.call("GET", "/preferences")
	fault = resp.json()["Fault"]
	assert fault["type"] == "SERVICE"
	assert fault["Error"][0] == {
		"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
		"Detail": "The request limit was reached.  Try again later",
		"code": "3001",
	}
	assert "Retry-After" not in resp.headers
	assert server.stats(realm)["throttled"] == 2
	server.advance_clock(seconds=1.5)
	assert api.call("GET", "/preferences").status_code == 200


def test_per_minute_and_batch_limits_and_retry_after(server):
	realm = server.create_realm(seed=False, per_minute=5, batch_per_minute=2, retry_after=60)
	api = Api(server, realm)
	batch = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Preferences"}]}
	assert api.call("POST", "/batch", batch).status_code == 200
	assert api.call("POST", "/batch", batch).status_code == 200
	third = api.call("POST", "/batch", batch)
	assert third.status_code == 429 and third.headers["Retry-After"] == "60"
	assert [api.call("GET", "/preferences").status_code for _ in range(4)] == [200, 200, 200, 429]
	server.advance_clock(seconds=61)
	assert api.call("POST", "/batch", batch).status_code == 200


def test_rate_limit_windows_run_on_a_scaled_clock():
	with SandboxServer(seed=3, speed=120) as fast:  # 1 real second = 2 sandbox minutes
		realm = fast.create_realm(seed=False, per_minute=3, per_second=100)
		api = Api(fast, realm)
		assert [api.call("GET", "/preferences").status_code for _ in range(4)] == [200, 200, 200, 429]
		time.sleep(0.6)  # 72 s of sandbox time
		assert api.call("GET", "/preferences").status_code == 200


# ---- fault injection -----------------------------------------------------------------------------------
def _outcomes(server, realm, n=40):
	api = Api(server, realm)
	out = []
	for _ in range(n):
		try:
			out.append(api.call("GET", "/preferences").status_code)
		except requests.ConnectionError:
			out.append("reset")
	return out


def test_fault_injection_is_seeded_and_reproducible(server):
	config = dict(seed=1234, throttle=0.1, error500=0.15, error503=0.1, reset=0.1)
	runs = []
	for _ in range(2):
		realm = server.create_realm(seed=False, per_second=10_000, per_minute=100_000)
		server.set_faults(realm, **config)
		runs.append(_outcomes(server, realm))
	assert runs[0] == runs[1]
	assert {429, 500, 503, "reset", 200} <= set(runs[0])
	other = server.create_realm(seed=False, per_second=10_000, per_minute=100_000)
	server.set_faults(other, **dict(config, seed=99))
	assert _outcomes(server, other) != runs[0]
	assert sum(server.stats(other)["faults_injected"].values()) > 0


def test_error_bodies_and_admin_fault_endpoint(server, realm):
	api = Api(server, realm)
	resp = requests.post(
		f"{server.base_url}/_sandbox/realms/{realm}/faults", json={"script": ["error500", "error503"]}
	)
	assert resp.status_code == 200
	first, second = api.call("GET", "/customer/1"), api.call("GET", "/customer/1")
	assert (first.status_code, second.status_code) == (500, 503)
	assert first.json()["Fault"]["type"] == "SystemFault"
	assert api.call("GET", "/customer/1").status_code == 200


def test_lost_response_commits_and_requestid_replay_returns_it(server, realm):
	api = Api(server, realm)
	server.set_faults(realm, script=["lost_response"])
	body = {"DisplayName": "Lost But Saved"}
	with pytest.raises(requests.ConnectionError):
		api.call("POST", "/customer", body, {"requestid": "lost-1"})
	assert api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Lost But Saved'")["totalCount"] == 1
	retry = api.call("POST", "/customer", body, {"requestid": "lost-1"})
	assert retry.status_code == 200 and retry.json()["Customer"]["DisplayName"] == "Lost But Saved"
	assert api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Lost But Saved'")["totalCount"] == 1


def test_reset_drops_before_the_change_and_latency_is_added(server, realm):
	api = Api(server, realm)
	server.set_faults(realm, script=["reset"])
	with pytest.raises(requests.ConnectionError):
		api.call("POST", "/customer", {"DisplayName": "Never Arrived"}, {"requestid": "reset-1"})
	assert api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Never Arrived'")["totalCount"] == 0
	server.set_faults(realm, latency_rate=1.0, latency_ms=[250, 250])
	started = time.monotonic()
	assert api.call("GET", "/customer/1").status_code == 200
	assert time.monotonic() - started >= 0.24
	server.set_faults(realm, latency_rate=0.0)


# ---- webhooks ------------------------------------------------------------------------------------------
class Receiver:
	def __init__(self):
		self.deliveries = []
		outer = self

		class H(BaseHTTPRequestHandler):
			def do_POST(self):
				body = self.rfile.read(int(self.headers["Content-Length"]))
				outer.deliveries.append((dict(self.headers), body))
				self.send_response(200)
				self.end_headers()

			def log_message(self, *args):
				pass

		self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
		self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
		threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

	def close(self):
		self.httpd.shutdown()
		self.httpd.server_close()


@pytest.fixture
def receiver():
	r = Receiver()
	yield r
	r.close()


def _verify(headers, body, token):
	expected = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
	return {k.lower(): v for k, v in headers.items()}["intuit-signature"] == expected


def test_legacy_webhooks_are_signed_and_describe_each_change(server, realm, receiver):
	api = Api(server, realm)
	server.configure_webhook(realm, receiver.url, "verifier-123", "legacy")
	cust = api.create("Customer", {"DisplayName": "Hooked"})
	api.update("Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})
	inv = api.create(
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
	api.ok("POST", "/invoice", {"Id": inv["Id"], "SyncToken": "0"}, {"operation": "void"})
	api.ok("POST", "/invoice", {"Id": inv["Id"], "SyncToken": "1"}, {"operation": "delete"})
	assert server.flush_webhooks()
	events = []
	for headers, body in receiver.deliveries:
		assert _verify(headers, body, "verifier-123")
		payload = json.loads(body)
		note = payload["eventNotifications"][0]
		assert note["realmId"] == realm
		events += [(e["name"], e["id"], e["operation"]) for e in note["dataChangeEvent"]["entities"]]
		assert all(e["lastUpdated"].endswith("Z") for e in note["dataChangeEvent"]["entities"])
	assert events == [
		("Customer", cust["Id"], "Create"),
		("Customer", cust["Id"], "Update"),
		("Invoice", inv["Id"], "Create"),
		("Invoice", inv["Id"], "Void"),
		("Invoice", inv["Id"], "Delete"),
	]
	assert server.stats(realm)["webhooks_sent"] == 5


def test_cloudevents_webhooks(server, realm, receiver):
	api = Api(server, realm)
	requests.post(
		f"{server.base_url}/_sandbox/realms/{realm}/webhooks",
		json={"url": receiver.url, "verifier_token": "tok", "format": "cloudevents"},
	)
	c = api.create("Class", {"Name": "Events Class"})
	api.update("Class", {"Id": c["Id"], "SyncToken": "0", "sparse": True, "Active": False})
	assert server.flush_webhooks()
	types = []
	for headers, body in receiver.deliveries:
		assert _verify(headers, body, "tok")
		for event in json.loads(body):
			assert {
				"specversion",
				"id",
				"source",
				"type",
				"datacontenttype",
				"time",
				"intuitentityid",
				"intuitaccountid",
				"data",
			} <= set(event)
			assert event["intuitaccountid"] == realm and event["intuitentityid"] == c["Id"]
			assert event["time"].endswith("Z") and len(event["time"].split(".")[1]) == 10  # nanoseconds
			types.append(event["type"])
	assert types == ["qbo.class.created.v1", "qbo.class.deleted.v1"]  # deactivation of a name list


# ---- admin, bookkeeper, CLI, threads -------------------------------------------------------------------
def test_admin_clock_and_stats(server, realm):
	before = server.clock.now()
	out = requests.post(server.base_url + "/_sandbox/clock/advance", json={"days": 1}).json()
	assert out["now"] > before.isoformat()
	assert (server.clock.now() - before).total_seconds() >= 86400
	api = Api(server, realm)
	api.ok("GET", "/customer/1")
	stats = requests.get(f"{server.base_url}/_sandbox/realms/{realm}/stats").json()
	assert stats["requests"] >= 1 and stats["by_status"]["200"] >= 1 and stats["entities"]["Customer"] == 3


def test_bookkeeper_edits_like_a_user(server, realm):
	bk = Bookkeeper(server, realm)
	before = bk.read("Customer", "1")
	after = bk.update("Customer", "1", {"Notes": "Called about invoice"})
	assert int(after["SyncToken"]) == int(before["SyncToken"]) + 1
	inv = bk.create(
		"Invoice",
		{
			"CustomerRef": {"value": "2"},
			"Line": [
				{
					"Amount": Decimal("80.00"),
					"DetailType": "SalesItemLineDetail",
					"SalesItemLineDetail": {"ItemRef": {"value": "1"}},
				}
			],
		},
	)
	payment = bk.receive_payment("2", "50.00", [inv["Id"]])
	assert bk.read("Invoice", inv["Id"])["Balance"] == Decimal("30.00") and payment["UnappliedAmt"] == 0
	assert bk.deactivate("Customer", "3")["DisplayName"].endswith("(deleted)")


def test_cli_serves_seeded_realms_and_prints_credentials(capsys):
	assert cli.main(["--port", "0", "--realms", "2", "--seed", "5", "--check"]) == 0
	out = capsys.readouterr().out
	assert out.count("  realm ") == 2 and "client_id=" in out and "client_secret=" in out
	from nexora_qbo.cli import main as top_level

	assert top_level(["sandbox", "--port", "0", "--realms", "1", "--check"]) == 0
	assert capsys.readouterr().out.count("  realm ") == 1


def test_concurrent_writes_get_unique_ids(server, realm):
	api = Api(server, realm)
	ids, errors = [], []

	def work(n):
		try:
			ids.append(
				Api(server, realm, tokens=api.tokens).create("Customer", {"DisplayName": f"Thread {n}"})["Id"]
			)
		except Exception as exc:  # noqa: BLE001 - collected for the assertion
			errors.append(exc)

	threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	assert errors == [] and len(set(ids)) == 16
