"""QBO Go-Live Plan Row: one line of a go-live plan (see nexora_qbo.erpnext.golive_plan)."""

from frappe.model.document import Document


class QBOGoLivePlanRow(Document):
	pass
