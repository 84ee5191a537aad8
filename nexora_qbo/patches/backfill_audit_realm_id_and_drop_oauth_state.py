"""Security hardening (issue 8), for sites installed before it:

- every QBO Sync Log and QBO Sync Event row gets the realmId of its realm (rows then keep it if the realm is reset later);
- the OAuth `state` moved to the cache: pending states left in the old, readable columns are cleared.
"""

import frappe

from nexora_qbo.erpnext import constants as K


def execute():
	for doctype in (K.SYNC_LOG, K.SYNC_EVENT):
		if frappe.db.has_column(doctype, "qbo_realm_id"):
			frappe.db.sql(
				f"""update `tab{doctype}` t join `tab{K.REALM}` realm on realm.name = t.realm
				set t.qbo_realm_id = realm.realm_id
				where t.qbo_realm_id is null and realm.realm_id is not null"""
			)
	for column in ("oauth_state", "oauth_state_expires_at", "oauth_state_user"):
		if frappe.db.has_column(K.REALM, column):
			frappe.db.sql(f"update `tab{K.REALM}` set `{column}` = null")
