# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Settings: site-wide switches (pause all sync) and the audit-log retention."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

from nexora_qbo.erpnext import constants as K

MIN_RETENTION_DAYS = 30


class QBOSettings(Document):
	def onload(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url, webhook_url

		self.callback_url = callback_url()
		self.webhook_url = webhook_url()

	def validate(self):
		if not cint(self.log_retention_days):
			self.log_retention_days = K.DEFAULT_LOG_RETENTION_DAYS
		if cint(self.log_retention_days) < MIN_RETENTION_DAYS:
			frappe.throw(
				_("Keep the QBO Sync Log for at least {0} days: it is the audit trail of the books.").format(
					MIN_RETENTION_DAYS
				)
			)
		self.callback_url = None
		self.webhook_url = None


def sync_paused() -> bool:
	return bool(cint(frappe.db.get_single_value(K.SETTINGS, "sync_paused")))
