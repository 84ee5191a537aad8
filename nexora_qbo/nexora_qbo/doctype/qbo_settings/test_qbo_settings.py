# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Settings: the audit retention cannot be set to a few days; the pause switch is read by the jobs."""

from __future__ import annotations

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase
from nexora_qbo.nexora_qbo.doctype.qbo_settings.qbo_settings import sync_paused


class TestQBOSettings(QBOTestCase):
	def test_retention_has_a_floor(self):
		settings = frappe.get_single(K.SETTINGS)
		settings.log_retention_days = 7
		with self.assertRaises(frappe.ValidationError):
			settings.save(ignore_permissions=True)

	def test_pause_switch(self):
		settings = frappe.get_single(K.SETTINGS)
		settings.sync_paused = 1
		settings.save(ignore_permissions=True)
		self.assertTrue(sync_paused())
