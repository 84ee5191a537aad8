"""Issue 10: a realm that needs reconnecting notifies its admins at once: the person who connected it and the
System Managers get a desk notification (Notification Log) written when the notice runs, and an Accounts
Manager who cannot reconnect is not told."""

from __future__ import annotations

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import notify
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm

COMPANY, ABBR = "_Test NQB Reconnect", "_TNQC"


def _user(email: str, role: str) -> str:
	if not frappe.db.exists("User", email):
		frappe.get_doc({"doctype": "User", "email": email, "first_name": email.split("@")[0],
			"send_welcome_email": 0, "roles": [{"role": role}]}).insert(ignore_permissions=True)
	return email


class TestReconnectNotice(FrappeTestCase):
	def test_admins_are_told_at_once_and_managers_are_not(self):
		ensure_company(COMPANY, ABBR)
		realm = make_realm(COMPANY, "9341000000077")
		admin = _user("nqb-reconnect-admin@example.com", "System Manager")
		connector = _user("nqb-reconnect-connector@example.com", "Accounts User")
		manager = _user("nqb-reconnect-manager@example.com", "Accounts Manager")
		frappe.db.set_value(K.REALM, realm, "connected_by", connector)

		self.assertIn(admin, notify.realm_admins(realm))
		self.assertIn(connector, notify.realm_admins(realm))
		self.assertNotIn(manager, notify.realm_admins(realm))

		from nexora_qbo.erpnext import jobs

		with patch("frappe.enqueue") as enqueue, patch("frappe.publish_realtime") as realtime:
			jobs._notify_managers(realm)
		(call,) = enqueue.call_args_list
		self.assertEqual(call.args[0], "nexora_qbo.erpnext.notify.notify_needs_reconnect")
		self.assertFalse(call.kwargs["enqueue_after_commit"])  # not lost with the failing job's rollback
		self.assertIn(admin, {c.kwargs["user"] for c in realtime.call_args_list})  # online admins: now

		before = frappe.db.count("Notification Log", {"document_name": realm})
		told = notify.notify_needs_reconnect(**call.kwargs | {"realm": realm})
		self.assertEqual(set(told) & {admin, connector, manager}, {admin, connector})
		logs = frappe.get_all("Notification Log", filters={"document_type": K.REALM, "document_name": realm},
			fields=["for_user", "subject"])
		self.assertEqual(len(logs) - before, len(told))
		self.assertNotIn(manager, {r.for_user for r in logs})
		self.assertTrue(all("reconnected" in r.subject for r in logs))
