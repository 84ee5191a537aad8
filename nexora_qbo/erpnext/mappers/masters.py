"""Which Company uses a global master (Customer, Item): the link ERPNext itself does not keep.

ERPNext customers and items belong to no company, but each QBO realm belongs to one Company (invariant 4).
A master belongs to a realm's books when that realm's Company has a document that uses it: a Sales
Invoice (invoices and credit notes; its items) or a customer Payment Entry, submitted or cancelled (a
cancelled invoice still made the customer that Company's customer). Drafts do not count: nothing of a
draft reaches QuickBooks.
"""

from __future__ import annotations

import frappe

from nexora_qbo.sync import constants as C


def used_by(local_type: str, local_id: str) -> set[str]:
	if local_type == C.CUSTOMER:
		rows = frappe.db.sql(
			"""select distinct company from `tabSales Invoice` where customer=%(n)s and docstatus in (1, 2)
			union select distinct company from `tabPayment Entry`
				where party_type='Customer' and party=%(n)s and docstatus in (1, 2)""",
			{"n": local_id},
		)
	elif local_type == C.ITEM:
		rows = frappe.db.sql(
			"""select distinct si.company from `tabSales Invoice Item` sii
			join `tabSales Invoice` si on si.name = sii.parent
			where sii.item_code=%(n)s and si.docstatus in (1, 2)""",
			{"n": local_id},
		)
	else:
		return set()
	return {r[0] for r in rows}


def used_by_company(company: str, local_type: str) -> set[str]:
	if local_type == C.CUSTOMER:
		rows = frappe.db.sql(
			"""select distinct customer from `tabSales Invoice` where company=%(c)s and docstatus in (1, 2)
			union select distinct party from `tabPayment Entry`
				where company=%(c)s and party_type='Customer' and docstatus in (1, 2)""",
			{"c": company},
		)
	elif local_type == C.ITEM:
		rows = frappe.db.sql(
			"""select distinct sii.item_code from `tabSales Invoice Item` sii
			join `tabSales Invoice` si on si.name = sii.parent
			where si.company=%(c)s and si.docstatus in (1, 2) and ifnull(sii.item_code, '') != ''""",
			{"c": company},
		)
	else:
		return set()
	return {r[0] for r in rows}
