"""The client against the local QBO sandbox (nexora_qbo.sandbox.server.SandboxServer) over real HTTP.

Every client operation, the OAuth dance with rotation, concurrent refreshes, pacing below the sandbox's
rate limit on a scaled clock, and retries under injected faults (including lost responses) that must never
duplicate a record. Only the sandbox's public Python API is used to start and configure it.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from nexora_qbo.qbo import (
	DEFAULT_LIMITS,
	BatchItem,
	InMemoryPacer,
	InvalidGrantError,
	MemoryTokenStore,
	OAuthApp,
	OAuthError,
	ObjectNotFoundError,
	QBOClient,
	QueryPage,
	RateLimits,
	RetryPolicy,
	StaleObjectError,
	ThrottleError,
	TokenManager,
	ValidationError,
	resolve_endpoints,
	thread_lock_factory,
)
from nexora_qbo.sandbox.server import SandboxServer

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def sandbox():
	with SandboxServer(seed=11) as server:
		yield server


class Connection:
	"""One connected realm: the OAuth app, the token store/manager and a client, all on sandbox time."""

	def __init__(
		self, sb: SandboxServer, realm: str, *, lock_factory=None, store=None, retry=None, pacer=None
	):
		self.sb = sb
		self.realm = realm
		self.exchanges: list = []
		self.client_id, self.client_secret = sb.register_app(redirect_uri=REDIRECT, default_realm=realm)
		self.endpoints = resolve_endpoints("custom", sb.base_url)
		self.app = OAuthApp(
			self.client_id,
			self.client_secret,
			REDIRECT,
			self.endpoints,
			on_exchange=self.exchanges.append,
			clock=sb.clock.now,
		)
		self.store = store or MemoryTokenStore()
		if store is None:
			self.store.save(realm, self.authorize())
		self.lock_factory = lock_factory or thread_lock_factory()
		self.manager = TokenManager(self.app, realm, self.store, self.lock_factory, clock=sb.clock.now)
		self.client = self.new_client(retry=retry, pacer=pacer)

	def new_client(self, tokens=None, retry=None, pacer=None) -> QBOClient:
		"""Waits (pacing, throttle back-off) advance the sandbox clock instead of sleeping: the sandbox's
		rate limiter counts on that clock, so its real 10/s limit applies without costing real seconds."""
		return QBOClient(
			self.realm,
			base_url=self.endpoints.api_base_url,
			tokens=tokens or self.manager,
			on_exchange=self.exchanges.append,
			retry=retry or RetryPolicy(sleep=self.wait, jitter=0),
			clock=self.sb.clock.now,
			pacer=pacer or InMemoryPacer(DEFAULT_LIMITS, clock=self.sb.clock.timestamp, sleep=self.wait),
		)

	def wait(self, seconds: float) -> None:
		self.sb.advance_clock(seconds=seconds)

	def authorize(self):
		state = self.app.new_state()
		response = requests.get(self.app.authorization_url(state), allow_redirects=False, timeout=5)
		assert response.status_code == 302
		callback = urlsplit(response.headers["Location"])
		assert f"{callback.scheme}://{callback.netloc}{callback.path}" == REDIRECT
		query = {k: v[0] for k, v in parse_qs(callback.query).items()}
		assert query["state"] == state and query["realmId"] == self.realm
		return self.app.exchange_code(
			query["code"], query["realmId"], state=query["state"], expected_state=state
		)

	def token_calls(self) -> int:
		return sum(1 for e in self.exchanges if e.operation == "token")


@pytest.fixture
def conn(sandbox):
	return Connection(sandbox, sandbox.create_realm())


def seeded(sb, realm, kind, name):
	return sb.seed_info(realm)[kind][name]


def invoice_body(sb, realm, amount="150.00"):
	return {
		"CustomerRef": {"value": seeded(sb, realm, "customers", "Acme Logistics")},
		"Line": [
			{
				"Amount": Decimal(amount),
				"DetailType": "SalesItemLineDetail",
				"SalesItemLineDetail": {
					"ItemRef": {"value": seeded(sb, realm, "items", "Staffing Hours")},
					"Qty": Decimal("3"),
					"UnitPrice": Decimal(amount) / 3,
				},
			}
		],
	}


def customers_named(client, name):
	return list(client.query_all("Customer", where=f"DisplayName = '{name}'"))


# -- OAuth ----------------------------------------------------------------------------------------------
def test_oauth_authorize_exchange_refresh_rotation_and_revoke(sandbox):
	realm = sandbox.create_realm(refresh_grace_seconds=0)
	conn = Connection(sandbox, realm)
	first = conn.store.load(realm)
	assert first.realm_id == realm and first.refresh_hard_expires_at is not None
	with pytest.raises(OAuthError):
		conn.app.exchange_code("whatever", realm, state="forged", expected_state="mine")
	second = conn.app.refresh(first.refresh_token)
	assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
	sandbox.advance_clock(seconds=2)
	with pytest.raises(InvalidGrantError):
		conn.app.refresh(first.refresh_token)  # rotated out, no grace: the chain only lives on
	third = conn.app.refresh(second.refresh_token)
	conn.app.revoke(third.refresh_token)
	with pytest.raises(InvalidGrantError):
		conn.app.refresh(third.refresh_token)
	for exchange in conn.exchanges:
		text = f"{exchange.request_body} {exchange.response_body}"
		for secret in (first.refresh_token, second.refresh_token, third.access_token, conn.client_secret):
			assert secret not in text


def test_eight_threads_refresh_once_with_no_invalid_grant(sandbox):
	realm = sandbox.create_realm(refresh_grace_seconds=0)
	base = Connection(sandbox, realm)
	for round_number in (1, 2):
		sandbox.advance_clock(hours=2)  # access token expired on sandbox time
		barrier = threading.Barrier(8)
		results, errors = [], []

		def worker(barrier=barrier, results=results, errors=errors):
			# every worker has its own manager and client (like separate RQ workers), sharing store + lock
			manager = TokenManager(base.app, realm, base.store, base.lock_factory, clock=sandbox.clock.now)
			client = base.new_client(tokens=manager)
			barrier.wait()
			try:
				results.append(
					client.read("Customer", seeded(sandbox, realm, "customers", "Acme Logistics"))["Id"]
				)
			except Exception as exc:  # noqa: BLE001
				errors.append(exc)

		threads = [threading.Thread(target=worker) for _ in range(8)]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join()
		assert errors == [] and len(results) == 8
		assert base.token_calls() == 1 + round_number  # the code exchange + one refresh per round


def test_401_triggers_one_refresh_and_a_retry(sandbox):
	realm = sandbox.create_realm()
	conn = Connection(sandbox, realm)
	believed_now = sandbox.clock.now()
	stale_manager = TokenManager(conn.app, realm, conn.store, conn.lock_factory, clock=lambda: believed_now)
	client = conn.new_client(tokens=stale_manager)
	sandbox.advance_clock(hours=2)  # the server now rejects the token; the manager still trusts it
	customer = client.read("Customer", seeded(sandbox, realm, "customers", "Acme Logistics"))
	assert customer["DisplayName"] == "Acme Logistics"
	outcomes = [(e.operation, e.outcome) for e in conn.exchanges[1:]]
	assert outcomes == [("read", "AuthenticationError"), ("token", "ok"), ("read", "ok")]


# -- entities --------------------------------------------------------------------------------------
def test_read_create_replay_sparse_update_and_stale(conn, sandbox):
	client = conn.client
	acme = client.read("Customer", seeded(sandbox, conn.realm, "customers", "Acme Logistics"))
	assert acme["DisplayName"] == "Acme Logistics"
	created = client.create(
		"Customer", {"DisplayName": "Replay Co", "CompanyName": "Replay"}, request_id="nx:c:replay:g1"
	)
	again = client.create(
		"Customer", {"DisplayName": "Replay Co", "CompanyName": "Replay"}, request_id="nx:c:replay:g1"
	)
	assert again["Id"] == created["Id"] and len(customers_named(client, "Replay Co")) == 1
	updated = client.update(
		"Customer", {"Id": created["Id"], "SyncToken": created["SyncToken"], "Notes": "vip"}
	)
	assert updated["Notes"] == "vip" and updated["CompanyName"] == "Replay"  # sparse: the rest survives
	assert int(updated["SyncToken"]) == int(created["SyncToken"]) + 1
	with pytest.raises(StaleObjectError) as info:
		client.update("Customer", {"Id": created["Id"], "SyncToken": created["SyncToken"], "Notes": "late"})
	assert info.value.code == "5010"
	with pytest.raises(ObjectNotFoundError):
		client.read("Customer", "987654")


def test_void_delete_and_deactivate_follow_each_entity_rule(conn, sandbox):
	client, realm = conn.client, conn.realm
	invoice = client.create("Invoice", invoice_body(sandbox, realm), request_id="nx:inv:void")
	assert invoice["TotalAmt"] == Decimal("150.00")
	voided = client.void("Invoice", invoice["Id"], invoice["SyncToken"])
	assert voided["TotalAmt"] == 0 and int(voided["SyncToken"]) == int(invoice["SyncToken"]) + 1

	paid = client.create("Invoice", invoice_body(sandbox, realm, "90.00"), request_id="nx:inv:paid")
	payment = client.create(
		"Payment",
		{
			"CustomerRef": paid["CustomerRef"],
			"TotalAmt": Decimal("90.00"),
			"Line": [
				{"Amount": Decimal("90.00"), "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Invoice"}]}
			],
		},
		request_id="nx:pay:1",
	)
	assert client.read("Invoice", paid["Id"])["Balance"] == 0
	voided_payment = client.void("Payment", payment["Id"], payment["SyncToken"])
	assert voided_payment["TotalAmt"] == 0
	assert client.read("Invoice", paid["Id"])["Balance"] == Decimal("90.00")

	doomed = client.create("Invoice", invoice_body(sandbox, realm, "30.00"), request_id="nx:inv:del")
	stub = client.delete("Invoice", doomed["Id"], doomed["SyncToken"])
	assert stub["status"] == "Deleted" and stub["Id"] == doomed["Id"]
	with pytest.raises(ObjectNotFoundError):
		client.read("Invoice", doomed["Id"])

	urls = [e.url for e in conn.exchanges if e.operation == "void"]
	assert "operation=void" in urls[0] and "operation=update&include=void" in urls[1]

	term_id = seeded(sandbox, realm, "terms", "Net 15")
	term = client.read("Term", term_id)
	gone = client.deactivate("Term", term_id, term["SyncToken"], extra={"Name": term["Name"]})
	assert gone["Active"] is False
	assert term_id in {t["Id"] for t in client.query_all("Term")}  # name lists include inactive by default
	assert term_id not in {t["Id"] for t in client.query_all("Term", include_inactive=False)}


def test_query_paging_and_count_with_batch_creates(conn):
	client = conn.client
	before = client.count("Customer")
	items = [
		BatchItem(f"c{i}", "create", entity="Customer", body={"DisplayName": f"Paged {i:02d}"})
		for i in range(25)
	]
	results = client.batch(items, request_id="nx:batch:paged")
	assert all(r.ok for r in results)
	assert client.count("Customer") == before + 25
	pages_before = sum(1 for e in conn.exchanges if e.operation == "query")
	rows = list(client.query_all("Customer", page_size=10))
	assert len(rows) == before + 25 and len({r["Id"] for r in rows}) == len(rows)
	pages = sum(1 for e in conn.exchanges if e.operation == "query") - pages_before
	assert pages == (len(rows) // 10) + 1
	assert client.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody Here'").records == []
	with pytest.raises(ValidationError):  # QueryError is a ValidationError
		client.query("SELECT * FROM Customer STARTPOSITION 0 MAXRESULTS 10")


def test_batch_mixed_results_and_replay(conn, sandbox):
	client, realm = conn.client, conn.realm
	acme = client.read("Customer", seeded(sandbox, realm, "customers", "Acme Logistics"))
	items = [
		BatchItem("new", "create", entity="Customer", body={"DisplayName": "Batch New"}),
		BatchItem(
			"stale",
			"update",
			entity="Customer",
			body={"Id": acme["Id"], "SyncToken": "999", "sparse": True, "Notes": "x"},
		),
		BatchItem("gone", "delete", entity="Invoice", body={"Id": "424242", "SyncToken": "0"}),
		BatchItem("q", "query", query="SELECT * FROM Item"),
	]
	results = client.batch(items, request_id="nx:batch:mixed")
	assert [r.bid for r in results] == ["new", "stale", "gone", "q"]
	assert results[0].ok and results[0].record["DisplayName"] == "Batch New"
	assert isinstance(results[1].error, StaleObjectError)
	assert isinstance(results[2].error, ObjectNotFoundError)
	assert isinstance(results[3].query_page, QueryPage) and results[3].query_page.entity == "Item"
	replayed = client.batch(items, request_id="nx:batch:mixed")
	assert replayed[0].record["Id"] == results[0].record["Id"]
	assert len(customers_named(client, "Batch New")) == 1


def test_cdc_reports_changes_and_deleted_stubs(conn, sandbox):
	client, realm = conn.client, conn.realm
	since = sandbox.clock.now() - timedelta(seconds=5)
	sandbox.advance_clock(seconds=10)
	invoice = client.create("Invoice", invoice_body(sandbox, realm), request_id="nx:inv:cdc")
	client.delete("Invoice", invoice["Id"], invoice["SyncToken"])
	acme = client.read("Customer", seeded(sandbox, realm, "customers", "Acme Logistics"))
	client.update("Customer", {"Id": acme["Id"], "SyncToken": acme["SyncToken"], "Notes": "changed"})
	result = client.cdc(["Customer", "Invoice", "Payment"], since)
	assert result.deleted["Invoice"] == [invoice["Id"]]
	assert any(r["Id"] == acme["Id"] for r in result.changes["Customer"])
	assert result.changes["Payment"] == [] and result.incomplete_deletes == set()
	assert result.server_time.tzinfo is not None
	with pytest.raises(ValidationError):
		client.cdc(["Customer"], sandbox.clock.now() - timedelta(days=31))


def test_cdc_saturation_falls_back_to_queries(sandbox):
	realm = sandbox.create_realm(per_second=0, per_minute=0, batch_per_minute=0)
	conn = Connection(sandbox, realm)
	client = conn.client
	since = sandbox.clock.now() - timedelta(minutes=1)
	for start in range(0, 1000, 30):
		items = [
			BatchItem(f"b{i}", "create", entity="Customer", body={"DisplayName": f"Bulk {i:04d}"})
			for i in range(start, min(start + 30, 1000))
		]
		assert all(r.ok for r in client.batch(items, request_id=f"nx:bulk:{start}"))
	result = client.cdc(["Customer", "Item"], since)
	customers = client.count("Customer")
	assert customers >= 1000
	assert result.incomplete_deletes == {"Customer"}
	assert len({r["Id"] for r in result.changes["Customer"]}) == customers
	assert len(result.changes["Item"]) == client.count("Item")
	cdc_calls = [e.url for e in conn.exchanges if e.operation == "cdc"]
	assert len(cdc_calls) == 3  # all at once, then Customer alone, then Item alone


# -- company-level reads ----------------------------------------------------------------------------------
def test_preferences_company_info_and_exchange_rate(conn):
	client = conn.client
	prefs = client.preferences()
	assert "CurrencyPrefs" in prefs and "AccountingInfoPrefs" in prefs
	assert client.company_info()["CompanyName"]
	rate = client.exchange_rate("EUR", date.today())
	assert rate["SourceCurrencyCode"] == "EUR" and isinstance(rate["Rate"], Decimal)


# -- pacing ----------------------------------------------------------------------------------------
class StaticToken:
	def __init__(self, token):
		self.token = token

	def access_token(self):
		return self.token

	def refresh(self, stale=None):
		raise AssertionError("no refresh expected")


def _sandbox_reader(sb: SandboxServer, **client_kwargs):
	realm = sb.create_realm()  # the sandbox's own limits: 10/s, 500/min
	options = sb.realm(realm).options
	assert (options.per_second, options.per_minute) == (10, 500)
	client_id, _ = sb.register_app(redirect_uri=REDIRECT, default_realm=realm)
	token = StaticToken(sb.issue_tokens(realm, client_id)["access_token"])
	no_retry = RetryPolicy(max_attempts=1)  # any 429 surfaces as a ThrottleError

	def make(**kwargs):
		return QBOClient(realm, base_url=sb.base_url, tokens=token, retry=no_retry, **kwargs)

	return realm, make


def _burst(client, count: int) -> list:
	errors = []
	for _ in range(count):
		try:
			client.read("Customer", "1")
		except Exception as exc:  # noqa: BLE001
			errors.append(exc)
	return errors


def test_pacer_keeps_a_burst_of_1000_free_of_429s_at_the_sandbox_limit():
	"""Virtual time: the sandbox clock stands still (speed 0) and only the pacer's waits advance it, so the
	sandbox counts each request at exactly the instant the pacer granted it. The pacer runs at the sandbox's
	own configured limit (not below it): zero 429s proves the windows agree to the request."""
	with SandboxServer(seed=3, speed=0) as sb:
		realm, make = _sandbox_reader(sb)
		assert sum(isinstance(e, ThrottleError) for e in _burst(make(), 40)) > 0  # control: the limit is real
		sb.advance_clock(seconds=120)  # drain the sandbox's windows

		limits = RateLimits(per_second=10, per_minute=500, batch_per_minute=40)
		pacer = InMemoryPacer(limits, clock=sb.clock.timestamp, sleep=lambda s: sb.advance_clock(seconds=s))
		throttled_before = sb.stats(realm)["throttled"]
		started = sb.clock.timestamp()
		assert _burst(make(pacer=pacer), 1000) == []
		assert sb.stats(realm)["throttled"] == throttled_before
		elapsed = sb.clock.timestamp() - started
		assert 100 <= elapsed <= 125  # 500 in the first minute, the rest in the next ~50 s: no dawdling


def test_threads_sharing_a_pacer_stay_free_of_429s_on_a_scaled_real_clock():
	"""Real concurrency on a sped-up clock (x2): network and scheduling jitter is magnified 2-fold here,
	which is what DEFAULT_LIMITS' margin (8/s against 10/s) and even spacing are for. (At x8, and once at x4, a
	machine whose two cores ran seven other jobs delayed threads by ~0.1 s between grant and send: up to 0.8 s of
	sandbox time, so requests arrived bunched and QBO's window counted 11; that measured the machine, not the
	pacer.)"""
	speed = 2.0
	with SandboxServer(seed=4, speed=speed) as sb:
		realm, make = _sandbox_reader(sb)
		pacer = InMemoryPacer(DEFAULT_LIMITS, clock=sb.clock.timestamp, sleep=lambda s: time.sleep(s / speed))
		client = make(pacer=pacer)
		errors: list = []
		threads = [threading.Thread(target=lambda: errors.extend(_burst(client, 75))) for _ in range(4)]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join()
		assert errors == []
		assert sb.stats(realm)["throttled"] == 0 and sb.stats(realm)["requests"] >= 300


# -- faults ----------------------------------------------------------------------------------------
def test_scripted_faults_including_a_lost_response_never_duplicate(conn, sandbox):
	sandbox.set_faults(conn.realm, script=["lost_response", "reset", "error503", "throttle", "error500"])
	created = conn.client.create("Customer", {"DisplayName": "Fault Tolerant"}, request_id="nx:c:faults:g1")
	attempts = [e for e in conn.exchanges if e.operation == "create"]
	assert [e.outcome for e in attempts] == [
		"ConnectionFailed",
		"ConnectionFailed",
		"ServerError",
		"ThrottleError",
		"ServerError",
		"ok",
	]
	assert {e.request_id for e in attempts} == {"nx:c:faults:g1"}
	matches = customers_named(conn.client, "Fault Tolerant")
	assert [m["Id"] for m in matches] == [created["Id"]]


def test_random_faults_on_creates_and_updates_never_duplicate_or_double_apply(sandbox):
	realm = sandbox.create_realm()
	conn = Connection(
		sandbox,
		realm,
		retry=RetryPolicy(max_attempts=12, sleep=lambda s: sandbox.advance_clock(seconds=s), jitter=0),
	)
	sandbox.set_faults(
		realm, seed=5, lost_response=0.2, reset=0.1, error503=0.1, throttle=0.05, error500=0.05
	)
	ids = []
	for index in range(15):
		created = conn.client.create(
			"Customer", {"DisplayName": f"Chaos {index:02d}"}, request_id=f"nx:c:chaos:{index}"
		)
		updated = conn.client.update(
			"Customer", {"Id": created["Id"], "SyncToken": created["SyncToken"], "Notes": "once"}
		)
		assert int(updated["SyncToken"]) == int(created["SyncToken"]) + 1
		ids.append(created["Id"])
	sandbox.set_faults(realm, lost_response=0, reset=0, error503=0, throttle=0, error500=0)
	rows = list(conn.client.query_all("Customer", where="DisplayName LIKE 'Chaos%'"))
	assert sorted(r["Id"] for r in rows) == sorted(ids) and len(rows) == 15
	assert all(r["SyncToken"] == "1" for r in rows)  # each update applied exactly once
	outcomes = {e.outcome for e in conn.exchanges}
	assert {"ConnectionFailed", "ServerError"} <= outcomes  # the faults really happened
	assert sandbox.stats(realm)["replays"] > 0


# -- webhooks ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_sandbox_webhook_deliveries_verify_and_parse(sandbox, serve, fmt):
	from qbo_testkit import Reply

	from nexora_qbo.qbo import parse_events, verify_signature

	received = []
	receiver = serve(lambda seen: received.append(seen) or Reply(200, b"", {}))
	realm = sandbox.create_realm()
	conn = Connection(sandbox, realm)
	sandbox.configure_webhook(realm, receiver.base_url + "/qbo/webhook", verifier_token="verif-123", fmt=fmt)
	created = conn.client.create("Customer", {"DisplayName": f"Hooked {fmt}"}, request_id=f"nx:hook:{fmt}")
	assert sandbox.flush_webhooks(timeout=5)
	assert received
	events = []
	for delivery in received:
		signature = delivery.headers.get("intuit-signature")
		assert verify_signature(delivery.body, signature, "verif-123")
		assert not verify_signature(delivery.body, signature, "other-token")
		events.extend(parse_events(delivery.body))
	assert all(e.source_format == fmt and e.realm_id == realm for e in events)
	assert ("Customer", created["Id"], "Create") in {(e.entity, e.entity_id, e.operation) for e in events}


def test_client_reads_both_throttle_shapes_of_the_sandbox_default_mix():
	"""The sandbox's default throttle is QBO's mix (XML, then JSON, §5): the client turns both into a
	ThrottleError with code 3001, and reads what the newer endpoints answer (a `*, Sku` query, ExchangeRate)."""
	with SandboxServer(seed=11) as sb:
		realm, make = _sandbox_reader(sb)
		sb.set_options(realm, per_second=1)
		client = make()
		shapes = []
		for _ in range(2):
			sb.advance_clock(seconds=2)
			client.read("Customer", "1")
			with pytest.raises(ThrottleError) as caught:
				client.read("Customer", "1")
			assert caught.value.code == "3001"
			shapes.append(sb.stats(realm)["throttled"])
		assert shapes == [1, 2]
		sb.set_options(realm, per_second=1000)
		assert client.query("SELECT *, Sku FROM Item").records
		assert client.query("SELECT * FROM ExchangeRate").records == []  # not multicurrency: no foreign rows
