"""Scheduler fan-out and the enqueue rules: one deduplicated job per realm and kind, a single follow-up slot
while a run is in progress, nothing for paused or disconnected realms."""
from __future__ import annotations

from unittest.mock import MagicMock, patch

import frappe
from rq.job import JobStatus

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import jobs
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase, make_realm, test_ignore, two_companies  # noqa: F401


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
		return [c.kwargs["job_id"] for c in self.enqueue.call_args_list]

	def test_tick_enqueues_one_pull_per_connected_realm(self):
		frappe.db.set_value(K.REALM, self.b.name, "connection_status", K.NEEDS_RECONNECT)
		jobs.scheduler_tick()
		self.assertEqual(self._job_ids(), [K.job_id("pull", "9130000001001")])
		call = self.enqueue.call_args
		self.assertEqual((call.kwargs["queue"], call.kwargs["deduplicate"]), ("long", True))

	def test_tick_adds_a_push_where_intents_wait(self):
		frappe.get_doc({"doctype": K.OUTBOX, "realm": self.a.name, "local_type": "invoice",
			"reference_name": "SINV-X", "action": "create", "state": "pending"}).insert(
			ignore_permissions=True, ignore_links=True)
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
		self.assertEqual(jobs._enqueue_now("9130000001001", "push", {}), K.job_id("push", "9130000001001") + "::next")
		self.assertTrue(self.enqueue.call_args.kwargs["deduplicate"])

	def test_run_skips_a_disconnected_realm_without_touching_qbo(self):
		frappe.db.set_value(K.REALM, self.a.name, "connection_status", K.DISCONNECTED)
		with patch.object(jobs, "build_engine") as build:
			self.assertIn("skipped", jobs.run("9130000001001", "sync"))
		build.assert_not_called()

	def test_daily_sweep_requeues_documents_that_missed_their_intent(self):
		from nexora_qbo.erpnext.test_events import make_customer, make_invoice, make_item

		customer = make_customer("QBO Sweep Customer").name
		item = make_item("QBO-SWEEP-SERVICE").name
		si = make_invoice(self.a.company, customer, item)
		frappe.db.delete(K.OUTBOX, {"reference_name": si.name})  # as if the doc event had failed
		row = frappe._dict(frappe.db.get_value(K.REALM, self.a.name, ["name", "realm_id", "sync_start_date"],
			as_dict=True))
		self.assertEqual(jobs.sweep_realm(row), 1)
		self.assertEqual(frappe.get_all(K.OUTBOX, filters={"reference_name": si.name}, pluck="action"), ["create"])
		self.assertEqual(jobs.sweep_realm(row), 0)  # idempotent
