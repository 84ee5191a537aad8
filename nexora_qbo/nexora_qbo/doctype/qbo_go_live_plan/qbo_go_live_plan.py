"""QBO Go-Live Plan: what the first import/export of a realm will do, corrected and confirmed by a person.

The logic lives in nexora_qbo.erpnext.golive_plan; this controller only validates a person's edits and offers
the whitelisted "Confirm and run" button (role checked first)."""

from __future__ import annotations

import frappe
from frappe.model.document import Document


class QBOGoLivePlan(Document):
	def validate(self):
		from nexora_qbo.erpnext import golive_plan

		golive_plan.validate(self)

	def on_trash(self):
		from nexora_qbo.erpnext import golive_plan

		if self.status != golive_plan.DRAFT and not frappe.flags.get(golive_plan.SYSTEM_FLAG):
			frappe.throw(frappe._("A confirmed go-live plan is kept as the record of the go-live."))


@frappe.whitelist(methods=["POST"])
def confirm_and_run(plan: str) -> dict:
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import check_manager

	check_manager()
	from nexora_qbo.erpnext import golive_plan

	frappe.get_doc(golive_plan.PLAN, plan).check_permission("write")
	golive_plan.confirm(plan, frappe.session.user)
	return {"queued": True}
