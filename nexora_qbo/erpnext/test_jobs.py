"""Scheduler fan-out and the enqueue rules: one deduplicated job per realm and kind, a single follow-up slot
while a run is in progress, nothing for paused or disconnected realms."""

from __future__ import annotations

from unittest.mock import MagicMock, patch

import frappe
from rq.job import JobStatus

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import jobs
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	QBOTestCase,
	make_realm,
	two_companies,
)


def job_with(status):
	job = MagicMock()
	job.get_status.return_value = status
	return job


class TestJobs(QBOTestCase):
	def setUp(self):
		super().setUp()
		first, second = two_companies()
		self.a = make_realm(first, realm_id="9130000001001")
		self.b = make_realm(second, realm_id="9130000001002")
		self.enqueue = patch.object(frappe, "enqueue").start()
		self.get_job = patch("frappe.utils.background_jobs.get_job", return_value=None).start()
		self.addCleanup(patch.stopall)

	def _job_ids(self):
		"""Job ids for this test's two realms (a shared test site may hold other connected realms)."""
		ours = ("9130000001001", "9130000001002")
		return [c.kwargs["job_id"] for c in self.enqueue.call_args_list if c.kwargs["job_id"].endswith(ours)]

	def test_tick_enqueues_one_pull_per_connected_realm(self):
		frappe.db.set_value(K.REALM, self.b.name, "connection_status", K.NEEDS_RECONNECT)
		jobs.scheduler_tick()
		self.assertEqual(self._job_ids(), [K.job_id("pull", "9130000001001")])
		call = self.enqueue.call_args
		self.assertEqual((call.kwargs["queue"], call.kwargs["deduplicate"]), ("long", True))

	def test_tick_adds_a_push_where_intents_wait(self):
		with engine_writes():
			frappe.get_doc(
				{
					"doctype": K.OUTBOX,
					"realm": self.a.name,
					"local_type": "invoice",
					"reference_name": "SINV-X",
					"action": "create",
					"state": "pending",
				}
			).insert(ignore_permissions=True, ignore_links=True)
		jobs.scheduler_tick()
		self.assertIn(K.job_id("push", "9130000001001"), self._job_ids())
		self.assertNotIn(K.job_id("push", "9130000001002"), self._job_ids())

	def test_paused_site_enqueues_nothing(self):
		frappe.db.set_single_value(K.SETTINGS, "sync_paused", 1)
		jobs.scheduler_tick()
		self.enqueue.assert_not_called()

	def test_queued_run_absorbs_the_enqueue(self):
		self.get_job.return_value = job_with(JobStatus.QUEUED)
		self.assertIsNone(jobs._enqueue_now("9130000001001", "push", {}))
		self.enqueue.assert_not_called()

	def test_running_job_gets_one_follow_up(self):
		self.get_job.return_value = job_with(JobStatus.STARTED)
		self.assertEqual(
			jobs._enqueue_now("9130000001001", "push", {}), K.job_id("push", "9130000001001") + "::next"
		)
		self.assertTrue(self.enqueue.call_args.kwargs["deduplicate"])

	def test_run_skips_a_disconnected_realm_without_touching_qbo(self):
		frappe.db.set_value(K.REALM, self.a.name, "connection_status", K.DISCONNECTED)
		with patch.object(jobs, "build_engine") as build:
			self.assertIn("skipped", jobs.run("9130000001001", "sync"))
		build.assert_not_called()

	def test_job_runs_the_engine_under_the_realm_lock_and_the_inbound_flag(self):
		from nexora_qbo.erpnext.locks import is_locked, realm_lock_name

		seen = {}

		class Engine:
			def sync(self, realm_id):
				seen["inbound"] = frappe.flags.get(K.INBOUND_FLAG)
				seen["locked"] = is_locked(realm_lock_name(realm_id))
				return {"pull": {}, "push": {}}

		with patch.object(jobs, "build_engine", return_value=Engine()):
			jobs.run("9130000001001", "sync")
		self.assertEqual(seen, {"inbound": True, "locked": True})
		self.assertFalse(frappe.flags.get(K.INBOUND_FLAG))
		self.assertIsNotNone(frappe.db.get_value(K.REALM, self.a.name, "last_push_on"))

	def test_enqueued_runs_commit_at_engine_checkpoints_direct_calls_do_not(self):
		"""RQ runs make each in_flight marker durable before its HTTP call (invariant 1 across a worker kill);
		a direct call must never commit its caller's transaction."""
		jobs._enqueue_now("9130000001001", "push", {})
		self.assertIs(self.enqueue.call_args.kwargs["durable_checkpoints"], True)

		engine = jobs.build_engine(durable_checkpoints=True)
		with patch.object(frappe.db, "commit") as commit:
			engine.checkpoint()
			self.assertEqual(commit.call_count, 1)
			with engine.store.transaction():  # never inside a savepoint: a commit would end it silently
				engine.checkpoint()
			self.assertEqual(commit.call_count, 1)
			jobs.build_engine().checkpoint()
			self.assertEqual(commit.call_count, 1)

	def test_busy_realm_is_skipped_quietly(self):
		from nexora_qbo.erpnext.locks import hold, realm_lock_name

		with patch.object(jobs, "build_engine"), patch.object(K, "REALM_LOCK_WAIT", 0):
			with hold(realm_lock_name("9130000001001"), wait=0):
				self.assertEqual(jobs.run("9130000001001", "push"), {"skipped": "realm busy"})

	def test_status_command_counts_queue_and_review_items(self):
		from nexora_qbo.commands import realm_status

		with engine_writes():
			for state in ("pending", "failed", "parked"):
				frappe.get_doc(
					{
						"doctype": K.OUTBOX,
						"realm": self.a.name,
						"local_type": "invoice",
						"reference_name": f"SINV-{state}",
						"action": "create",
						"state": state,
					}
				).insert(ignore_permissions=True, ignore_links=True)
			frappe.get_doc(
				{
					"doctype": K.CONFLICT,
					"realm": self.a.name,
					"kind": "rejected",
					"reason": "x",
					"status": "Open",
				}
			).insert(ignore_permissions=True)
		(row,) = realm_status(frappe, "9130000001001")  # by realmId; the realm name works too
		self.assertEqual(
			(row["outbox_pending"], row["outbox_failed"], row["outbox_parked"], row["open_conflicts"]),
			(1, 1, 1, 1),
		)
		self.assertGreaterEqual(len(realm_status(frappe)), 2)

	def test_daily_sweep_requeues_documents_that_missed_their_intent(self):
		from nexora_qbo.erpnext.test_events import make_customer, make_invoice, make_item

		customer = make_customer("QBO Sweep Customer").name
		item = make_item("QBO-SWEEP-SERVICE").name
		si = make_invoice(self.a.company, customer, item)
		frappe.db.delete(K.OUTBOX, {"reference_name": si.name})  # as if the doc event had failed
		row = frappe._dict(
			frappe.db.get_value(K.REALM, self.a.name, ["name", "realm_id", "sync_start_date"], as_dict=True)
		)
		self.assertEqual(jobs.sweep_realm(row), 1)
		self.assertEqual(
			frappe.get_all(K.OUTBOX, filters={"reference_name": si.name}, pluck="action"), ["create"]
		)
		self.assertEqual(jobs.sweep_realm(row), 0)  # idempotent


class TestJobsAgainstSandbox(QBOTestCase):
	"""The realm's client as the jobs build it (durable token store, Redis pacer, Redis refresh lock), over
	real HTTP against the local QBO sandbox."""

	def setUp(self):
		super().setUp()
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
		from nexora_qbo.sandbox.server import SandboxServer

		self.sandbox = SandboxServer().start()
		self.addCleanup(self.sandbox.stop)
		self.realm_id = self.sandbox.create_realm(seed=False)
		client_id, secret = self.sandbox.register_app(
			redirect_uri=callback_url(), default_realm=self.realm_id
		)
		self.realm = make_realm(
			realm_id=self.realm_id,
			custom_base_url=self.sandbox.base_url,
			client_id=client_id,
			client_secret=secret,
		)
		body = self.sandbox.issue_tokens(self.realm_id, client_id)
		self.issued = (body["access_token"], body["refresh_token"])
		patch.object(frappe, "enqueue").start()  # notifications etc. never leave the test
		self.addCleanup(patch.stopall)

	def _store(self, access_expired: bool = False, refresh_token: str | None = None):
		from datetime import datetime, timedelta, timezone

		from nexora_qbo.erpnext.token_store import RealmTokenStore
		from nexora_qbo.qbo.oauth import OAuthTokens

		now = datetime.now(timezone.utc)
		tokens = OAuthTokens(
			access_token=self.issued[0],
			refresh_token=refresh_token or self.issued[1],
			expires_at=now - timedelta(minutes=1) if access_expired else now + timedelta(hours=1),
			refresh_expires_at=now + timedelta(days=100),
		)
		RealmTokenStore(realm=self.realm.name).save(self.realm_id, tokens)
		return RealmTokenStore(realm=self.realm.name)

	def test_company_info_job_fills_the_realm_and_is_audited(self):
		self._store()
		jobs.run(self.realm_id, "companyinfo")
		self.assertTrue(frappe.db.get_value(K.REALM, self.realm.name, "qbo_company_name"))
		logged = frappe.get_all(
			K.SYNC_LOG, filters={"realm": self.realm.name}, fields=["operation", "outcome"]
		)
		# connecting also reads QBO's set-up (Preferences) and its lists (issue 11): every exchange audited, ok
		# (the engine's rows are written on the autonomous connection: read them the way the Store does)
		from nexora_qbo.erpnext.store import FrappeStore

		ops = [(r.operation, r.outcome) for r in logged]
		engine_ops = {(a.operation, a.outcome) for a in FrappeStore().list_audit(self.realm_id)}
		self.assertIn(("companyinfo", "ok"), ops)
		self.assertIn(("preferences", "ok"), engine_ops)
		self.assertEqual({outcome for _, outcome in ops} | {outcome for _, outcome in engine_ops}, {"ok"})
		self.assertTrue(frappe.db.get_value(K.REALM, self.realm.name, K.REFERENCES_REFRESHED_FIELD))
		self.assertTrue(frappe.db.get_value(K.REALM, self.realm.name, "qbo_preferences_summary"))

	def test_expired_access_token_is_refreshed_and_stored_before_use(self):
		store = self._store(access_expired=True)
		client = jobs.client_for(self.realm_id)
		client.company_info()
		stored = store.load(self.realm_id)
		self.assertNotEqual(stored.access_token, self.issued[0])
		self.assertNotEqual(stored.refresh_token, self.issued[1])  # the rotated token is the one kept

	def test_dead_refresh_token_marks_the_realm_needs_reconnect(self):
		from nexora_qbo.qbo.errors import InvalidGrantError

		self._store(access_expired=True, refresh_token="AB11-not-a-real-refresh-token")
		with self.assertRaises(InvalidGrantError):
			jobs.run(self.realm_id, "companyinfo")
		row = frappe.db.get_value(
			K.REALM, self.realm.name, ["connection_status", "last_sync_error"], as_dict=True
		)
		self.assertEqual(row.connection_status, K.NEEDS_RECONNECT)
		self.assertIn("InvalidGrantError", row.last_sync_error)

	def test_dead_refresh_token_inside_a_push_is_not_silent(self):
		"""The engine keeps a failed entry for retry and does not raise; the realm must still say so."""
		from nexora_qbo.erpnext.test_events import make_customer

		self._store(access_expired=True, refresh_token="AB11-not-a-real-refresh-token")
		self._forget_autonomous_audit_rows()
		from nexora_qbo.erpnext.events import export_master

		# customers are global: a person sends this one to the realm's QuickBooks (issue 7 section 4)
		export_master("Customer", make_customer("QBO Dead Token Client").name, self.realm.company)
		jobs.run(self.realm_id, "push")  # returns normally: the entry is kept for a retry
		self.assertEqual(
			frappe.db.get_value(K.REALM, self.realm.name, "connection_status"), K.NEEDS_RECONNECT
		)
		self.assertEqual(jobs.run(self.realm_id, "push"), {"skipped": "realm is Needs Reconnect"})

	def test_disconnect_revokes_at_intuit_and_forgets_the_tokens(self):
		from nexora_qbo.erpnext.token_store import RealmTokenStore
		from nexora_qbo.qbo.errors import InvalidGrantError

		self._store()
		jobs.disconnect_realm(self.realm.name)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "connection_status"), K.DISCONNECTED)
		self.assertIsNone(RealmTokenStore(realm=self.realm.name).load(self.realm_id))
		with self.assertRaises(InvalidGrantError):  # revoked: the old refresh token is dead at "Intuit"
			frappe.get_doc(K.REALM, self.realm.name).oauth_app().refresh(
				self.issued[1], realm_id=self.realm_id
			)

	def test_push_job_runs_the_engine_on_the_frappe_ports(self):
		"""jobs.run -> SyncEngine(FrappeStore, FrappeLedger, client_for, RedisRealmLock): a customer saved in
		ERPNext reaches QBO and is mapped (part A wiring end to end; the engine's own rules are tested in
		the engine's and part B's suites)."""
		from nexora_qbo.erpnext.test_events import make_customer
		from nexora_qbo.sandbox.bookkeeper import Bookkeeper

		self._store()
		self._forget_autonomous_audit_rows()
		from nexora_qbo.erpnext.events import export_master

		customer = make_customer("QBO Jobs E2E Client").name
		export_master("Customer", customer, self.realm.company)  # customers are global: a person's choice
		self.assertEqual(
			frappe.get_all(K.OUTBOX, filters={"reference_name": customer}, pluck="state"), ["pending"]
		)
		jobs.run(self.realm_id, "push")
		qbo_id = frappe.db.get_value(
			K.ENTITY_MAP, {"realm": self.realm.name, "reference_name": customer}, "qbo_id"
		)
		self.assertTrue(qbo_id)
		found = Bookkeeper(self.sandbox, self.realm_id).read("Customer", qbo_id)
		self.assertEqual(found["DisplayName"], customer)
		self.assertEqual(
			frappe.get_all(K.OUTBOX, filters={"reference_name": customer}, pluck="state"), ["done"]
		)
		self.assertIsNotNone(frappe.db.get_value(K.REALM, self.realm.name, "last_push_on"))

	def _forget_autonomous_audit_rows(self):
		"""The Store writes audit rows on its own connection (they must survive rollbacks), so they outlive
		this test's rolled-back realm: remove the ones this test made."""
		from frappe.utils import now_datetime

		from nexora_qbo.erpnext.token_store import AutonomousDB

		started, realm = now_datetime(), self.realm.name

		def forget():
			with AutonomousDB() as adb, adb.transaction() as cur:
				cur.execute(
					f"delete from `tab{K.SYNC_LOG}` where realm=%s and creation>=%s", (realm, started)
				)

		self.addCleanup(forget)
