"""FrappeStore against the engine's shared Store contract (tests/contracts/store_contract.py), plus the
Frappe-specific promise that matters most: audit rows survive a rollback of the job's own transaction."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timezone
from pathlib import Path

import frappe
from frappe.tests.utils import FrappeTestCase

import nexora_qbo
from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.store import FrappeStore
from nexora_qbo.erpnext.tests.utils import purge_committed_audit
from nexora_qbo.sync.ports import AuditRow, RealmSettings

_CONTRACT = Path(nexora_qbo.__file__).resolve().parent.parent / "tests" / "contracts" / "store_contract.py"
_spec = importlib.util.spec_from_file_location("nexora_qbo_store_contract", _CONTRACT)
_contract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_contract)
StoreContract = _contract.StoreContract

TEST_REALM_NAMES = ("Co One", "Co Two", "Co Audit")
CONTRACT_REALM_IDS = ["NQB-STORE-1", "NQB-STORE-2", "NQB-STORE-3", "RA"]


def wipe_engine_tables() -> None:
	"""A fresh, empty store for the contract's realms, inside the test transaction (rolled back afterwards).

	Only the rows of the test realms are removed (never a whole table): other test runs on the same site
	must not be blocked by our row locks."""
	realms = list(TEST_REALM_NAMES) + frappe.get_all(
		K.REALM, filters={"realm_id": ("in", CONTRACT_REALM_IDS)}, pluck="name"
	)
	for doctype in (K.ENTITY_MAP, K.OUTBOX, K.CURSOR, K.SYNC_EVENT, K.CONFLICT):
		frappe.db.delete(doctype, {"realm": ("in", realms)})
	frappe.db.delete(K.REALM_REFERENCE, {"parent": ("in", realms)})
	frappe.db.delete(K.REALM, {"name": ("in", realms)})


class TestFrappeStoreContract(StoreContract, FrappeTestCase):
	REALM_1, REALM_2, REALM_3 = CONTRACT_REALM_IDS[:3]

	def make_store(self):
		wipe_engine_tables()
		purge_committed_audit(TEST_REALM_NAMES)
		return FrappeStore()

	def settle(self, store) -> None:
		"""What a commit does to the store (its after_commit hook), without committing the test's rows."""
		frappe.db.after_commit.run()

	@classmethod
	def tearDownClass(cls):
		purge_committed_audit(TEST_REALM_NAMES)
		super().tearDownClass()


class TestFrappeStoreAudit(FrappeTestCase):
	def setUp(self):
		wipe_engine_tables()
		purge_committed_audit(TEST_REALM_NAMES)
		self.store = FrappeStore()
		self.store.save_settings(RealmSettings(realm_id="RA", company="Co Audit"))

	def tearDown(self):
		purge_committed_audit(TEST_REALM_NAMES)

	def test_audit_row_survives_full_rollback_of_the_job_transaction(self):
		"""Not just a savepoint: the whole transaction (what execute_job does on failure) is rolled back."""
		row = AuditRow(
			realm_id="RA",
			direction="outbound",
			qbo_entity="Customer",
			operation="create",
			http_status=200,
			outcome="ok",
			timestamp=datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc),
		)
		self.store.append_audit(row)
		# the row is committed already: a second connection sees it before our transaction ends
		from nexora_qbo.erpnext.token_store import AutonomousDB

		with AutonomousDB() as adb:
			adb.conn.rollback()
			self.assertEqual(
				adb.query(f"select count(*) from `tab{K.SYNC_LOG}` where name=%s", (row.id,))[0][0], 1
			)
		frappe.db.rollback()  # the job fails: everything of the job's connection is undone
		count = frappe.db.sql(f"select count(*) from `tab{K.SYNC_LOG}` where name=%s", (row.id,))[0][0]
		self.assertEqual(count, 1)
		self.assertEqual(frappe.db.get_value(K.SYNC_LOG, row.id, "operation"), "create")

	def test_transaction_is_a_savepoint_that_keeps_earlier_work(self):
		"""A failing block undoes only itself, never the caller's earlier writes (no commit, no full rollback)."""
		from nexora_qbo.sync.ports import SyncEvent

		before = self.store.add_event(
			SyncEvent(
				"RA",
				"outbound",
				"customer",
				"C1",
				"Customer",
				"1",
				"created",
				timestamp=datetime(2026, 11, 3, tzinfo=timezone.utc),
			)
		)
		with self.assertRaises(RuntimeError):
			with self.store.transaction():
				self.store.add_event(
					SyncEvent(
						"RA",
						"outbound",
						"customer",
						"C2",
						"Customer",
						"2",
						"created",
						timestamp=datetime(2026, 11, 3, tzinfo=timezone.utc),
					)
				)
				raise RuntimeError("boom")
		self.assertEqual([e.id for e in self.store.list_events("RA")], [before.id])
