# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
from __future__ import annotations

from frappe.model.document import Document


class QBORealmReference(Document):
	pass
