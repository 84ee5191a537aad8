# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Settings: site-wide switches (pause all sync) and the audit-log retention.

The retention decides when the daily purge deletes the audit trail of the official books, so it has a floor
(K.MIN_LOG_RETENTION_DAYS, 3 years) that nobody can go below, only a System Manager may move it (an
Accounts Manager may still pause the sync), and every change is recorded: a Version (track_changes) and a
comment naming who changed it from what to what.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

from nexora_qbo.erpnext import constants as K

MIN_RETENTION_DAYS = K.MIN_LOG_RETENTION_DAYS


class QBOSettings(Document):
	def onload(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url, webhook_url

		self.callback_url = callback_url()
		self.webhook_url = webhook_url()

	def validate(self):
		if not cint(self.log_retention_days):
			self.log_retention_days = K.DEFAULT_LOG_RETENTION_DAYS
		before = self._stored_retention()
		if cint(self.log_retention_days) != before:
			# checked even with ignore_permissions: a System Manager decision, whoever's code saves it
			if K.ADMIN_ROLE not in frappe.get_roles():
				frappe.throw(
					_("Only a System Manager can change how long the QBO Sync Log is kept."),
					frappe.PermissionError,
				)
			if cint(self.log_retention_days) < MIN_RETENTION_DAYS:
				frappe.throw(
					_(
						"Keep the QBO Sync Log for at least {0} days: it is the audit trail of the books."
					).format(MIN_RETENTION_DAYS)
				)
			self.flags.nexora_qbo_retention_change = (before, cint(self.log_retention_days))
		self.callback_url = None
		self.webhook_url = None

	def on_update(self):
		change = self.flags.pop("nexora_qbo_retention_change", None)
		if change:
			self.add_comment(
				"Info",
				_("{0} changed the QBO Sync Log retention from {1} to {2} days.").format(
					frappe.session.user, change[0], change[1]
				),
			)

	@staticmethod
	def _stored_retention() -> int:
		return (
			cint(frappe.db.get_single_value(K.SETTINGS, "log_retention_days")) or K.DEFAULT_LOG_RETENTION_DAYS
		)


def sync_paused() -> bool:
	return bool(cint(frappe.db.get_single_value(K.SETTINGS, "sync_paused")))
