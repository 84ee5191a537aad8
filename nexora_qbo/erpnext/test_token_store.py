"""RealmTokenStore: a rotated refresh token is durable before it is used (it survives the job's rollback),
loads see the latest committed tokens (REPEATABLE READ would hide another worker's refresh), and tokens of
a realm that is not committed yet stay in the caller's transaction."""

from __future__ import annotations

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils.password import get_decrypted_password

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.token_store import AutonomousDB, RealmTokenStore, set_values_autonomously
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	QBOTestCase,
	make_realm,
	sample_tokens,
	two_companies,
)

REALM_ID = "9130000000901"


class TestTokenStoreInTransaction(QBOTestCase):
	def test_uncommitted_realm_round_trip(self):
		realm = make_realm(realm_id=REALM_ID)
		store = RealmTokenStore()
		self.assertIsNone(store.load(REALM_ID))
		tokens = sample_tokens("a-1", "r-1")
		store.save(REALM_ID, tokens)
		loaded = store.load(REALM_ID)
		self.assertEqual((loaded.access_token, loaded.refresh_token), ("a-1", "r-1"))
		self.assertEqual(loaded.refresh_hard_expires_at, tokens.refresh_hard_expires_at)
		self.assertEqual(loaded.realm_id, REALM_ID)
		doc = frappe.get_doc(K.REALM, realm.name)
		self.assertEqual(doc.get_password("refresh_token"), "r-1")
		self.assertTrue(set(doc.refresh_token) == {"*"})  # masked in the row, never the secret
		self.assertIsNotNone(doc.refresh_token_hard_expiry)

	def test_clear_forgets_tokens(self):
		realm = make_realm(realm_id=REALM_ID)
		RealmTokenStore().save(REALM_ID, sample_tokens())
		RealmTokenStore.clear(realm.name)
		self.assertIsNone(RealmTokenStore().load(REALM_ID))


class TestDatetimeColumns(QBOTestCase):
	def test_columns_hold_system_time_and_read_back_as_utc(self):
		from datetime import datetime, timezone
		from unittest.mock import patch

		import pytz

		from nexora_qbo.erpnext.token_store import from_db_datetime, to_db_datetime

		new_york = pytz.timezone("America/New_York")
		with patch("nexora_qbo.erpnext.token_store._system_tz", return_value=new_york):
			noon = datetime(2026, 11, 24, 17, 0, 0, 123456, tzinfo=timezone.utc)
			self.assertEqual(to_db_datetime(noon), datetime(2026, 11, 24, 12, 0, 0, 123456))
			self.assertEqual(from_db_datetime(to_db_datetime(noon)), noon)
			# 01:30 happens twice on 2026-11-01 in New York: reading back picks the earlier instant, so a
			# cursor can only move back (re-read), never forward (skip)
			first, second = (datetime(2026, 11, 1, h, 30, tzinfo=timezone.utc) for h in (5, 6))
			self.assertEqual(to_db_datetime(first), to_db_datetime(second))
			self.assertEqual(from_db_datetime(to_db_datetime(second)), first)


class TestTokenStoreDurability(FrappeTestCase):
	"""These tests commit a realm on purpose (production has it committed) and delete it afterwards."""

	def setUp(self):
		self._cleanup()
		self.realm = make_realm(two_companies()[1], realm_id=REALM_ID)
		frappe.db.commit()  # nosemgrep: the scenario needs a committed realm
		self.addCleanup(self._cleanup)

	def _cleanup(self):
		frappe.db.rollback()
		for name in frappe.get_all(K.REALM, filters={"realm_id": REALM_ID}, pluck="name"):
			frappe.db.delete("__Auth", {"doctype": K.REALM, "name": name})
			frappe.db.delete(K.REALM, {"name": name})
		frappe.db.commit()  # nosemgrep

	def test_rotated_refresh_token_survives_the_jobs_rollback(self):
		self.assertTrue(AutonomousDB.available())
		RealmTokenStore().save(REALM_ID, sample_tokens("a-2", "r-2"))
		frappe.db.rollback()  # the job fails after the refresh: its transaction is rolled back
		self.assertEqual(RealmTokenStore().load(REALM_ID).refresh_token, "r-2")
		self.assertEqual(get_decrypted_password(K.REALM, self.realm.name, "refresh_token"), "r-2")
		self.assertIsNotNone(frappe.db.get_value(K.REALM, self.realm.name, "refresh_token_hard_expiry"))

	def test_load_sees_another_workers_refresh(self):
		RealmTokenStore().save(REALM_ID, sample_tokens("a-3", "r-3"))
		frappe.db.rollback()
		# this transaction reads the tokens first (REPEATABLE READ pins that version for the job's connection)
		self.assertEqual(get_decrypted_password(K.REALM, self.realm.name, "refresh_token"), "r-3")
		RealmTokenStore().save(REALM_ID, sample_tokens("a-4", "r-4"))  # "another worker" refreshes
		self.assertEqual(RealmTokenStore().load(REALM_ID).refresh_token, "r-4")

	def test_status_written_autonomously_survives_rollback(self):
		self.assertTrue(set_values_autonomously(K.REALM, self.realm.name, {"last_sync_error": "push: boom"}))
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "last_sync_error"), "push: boom")
