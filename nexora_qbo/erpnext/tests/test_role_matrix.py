"""Role matrix (issue 8 proof): for each role and each whitelisted method / DocType action the app exposes,
the allowed/denied result, asserted as one table (a failure shows the whole difference).

Every action is called the way a browser or REST client reaches it: through its whitelisted entry point
(override_whitelisted_methods applied, `is_whitelisted` checked, as frappe.handler does), as a user holding
exactly one role. Each action runs inside a savepoint that is rolled back, so actions do not see each
other's effects.
"""

from __future__ import annotations

from datetime import datetime, timezone
from unittest.mock import patch

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import jobs
from nexora_qbo.erpnext.test_security import connected_realm, only_role
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase

ROLES = ("Guest", "Sales User", "Accounts User", "Accounts Manager", "System Manager")
REALM_ID = "9130000000901"
REALM = "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm"
CONFLICT = "nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict"
ACTIONS = ("retry", "keep_qbo", "keep_local", "accept_qbo", "dismiss")

Y, N = "allowed", "denied"
MANAGERS = {"Accounts Manager": Y, "System Manager": Y}


def row(default=N, **by_role):
	return {role: by_role.get(role, default) for role in ROLES}


EXPECTED = {
	"read realm tokens (get_password)": row(),
	"read realm document": row(**{"Accounts User": Y}, **MANAGERS),
	"change base URL": row(**MANAGERS),
	"connect": row(**MANAGERS),
	"sync now": row(**MANAGERS),
	"initial import": row(**MANAGERS),
	"disconnect": row(**MANAGERS),
	"reset realm": row(**{"System Manager": Y}),
	"set realm id by hand": row(),
	**{f"resolve: {a}": row(**MANAGERS) for a in ACTIONS},
	"edit entity map": row(),
	"delete entity map": row(),
	"insert entity map": row(),
	"edit outbox row": row(),
	"delete outbox row": row(),
	"edit cursor": row(),
	"delete cursor": row(),
	"delete conflict": row(),
	"edit sync log row": row(),
	"delete sync log row": row(),
	"change retention": row(**{"System Manager": Y}),
}


def rest(cmd: str, **kwargs):
	"""Call a whitelisted method as frappe.handler.execute_cmd does (minus the HTTP verb check)."""
	method = frappe.get_attr(frappe.override_whitelisted_method(cmd))
	frappe.is_whitelisted(method)
	return frappe.call(method, **kwargs)


class TestRoleMatrix(QBOTestCase):
	def setUp(self):
		super().setUp()
		from nexora_qbo.erpnext.store import FrappeStore
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import append_audit_row
		from nexora_qbo.sync.ports import AuditRow, Conflict, Cursor, Mapping, OutboxEntry

		for name in ("enqueue",):
			patch.object(frappe, name).start()
		patch.object(jobs, "enqueue_realm").start()
		patch.object(jobs, "enqueue_resolve").start()
		self.addCleanup(patch.stopall)

		self.realm = connected_realm(REALM_ID).name
		store = FrappeStore()
		now = datetime.now(timezone.utc)
		store.save_mapping(Mapping(REALM_ID, "customer", "RM Customer", "Customer", "58"))
		self.map = frappe.db.get_value(K.ENTITY_MAP, {"realm": self.realm})
		self.outbox = store.add_outbox(
			OutboxEntry(REALM_ID, "invoice", "SINV-RM", "create", created_at=now)
		).id
		store.save_cursor(Cursor(realm_id=REALM_ID, changed_since=now, updated_at=now))
		self.cursor = frappe.db.get_value(K.CURSOR, {"realm": self.realm})
		self.conflict = store.add_conflict(
			Conflict(
				realm_id=REALM_ID,
				local_type="customer",
				local_id="RM Customer",
				qbo_entity="Customer",
				qbo_id="58",
				kind="rejected",
				reason="x",
				actions=list(ACTIONS),
				created_at=now,
			)
		).id
		self.log = append_audit_row(
			AuditRow(realm_id=REALM_ID, direction="outbound", qbo_entity="Customer", operation="read")
		)
		self.users = {
			role: "Guest" if role == "Guest" else only_role(f"qbo-rm-{frappe.scrub(role)}@example.com", role)
			for role in ROLES
		}

	# the actions ------------------------------------------------------------------------------------------
	def actions(self) -> dict:
		realm, set_value, delete = self.realm, "frappe.client.set_value", "frappe.client.delete"

		def read_tokens():
			for field in ("access_token", "refresh_token", "token_state", "client_secret"):
				rest("frappe.client.get_password", doctype=K.REALM, name=realm, fieldname=field)

		def read_realm():
			doc = rest("frappe.client.get", doctype=K.REALM, name=realm)
			text = frappe.as_json(doc)
			assert "access-secret-1" not in text and "refresh-secret-1" not in text, "token in the document"

		def change_base_url():
			doc = frappe.get_doc(K.REALM, realm)
			doc.custom_base_url = "http://127.0.0.1:8765"
			rest("frappe.client.save", doc=doc.as_dict())
			# allowed, and the connection is cut: the tokens are not sent to the new host
			assert frappe.db.get_value(K.REALM, realm, "connection_status") == K.DISCONNECTED

		def resolve(action):
			return lambda: rest(f"{CONFLICT}.resolve", conflict=self.conflict, action=action)

		def change_retention():
			doc = frappe.get_single(K.SETTINGS)
			doc.log_retention_days = 2000
			rest("frappe.client.save", doc=doc.as_dict())

		def insert_map():
			rest(
				"frappe.client.insert",
				doc={
					"doctype": K.ENTITY_MAP,
					"realm": realm,
					"local_type": "customer",
					"reference_doctype": "Customer",
					"reference_name": "RM Other",
					"qbo_entity": "Customer",
					"qbo_id": "59",
				},
			)

		return {
			"read realm tokens (get_password)": read_tokens,
			"read realm document": read_realm,
			"change base URL": change_base_url,
			"connect": lambda: rest(f"{REALM}.connect", realm=realm),
			"sync now": lambda: rest(f"{REALM}.sync_now", realm=realm),
			"initial import": lambda: rest(f"{REALM}.initial_import", realm=realm),
			"disconnect": lambda: rest(f"{REALM}.disconnect", realm=realm),
			"reset realm": lambda: rest(f"{REALM}.reset_realm", realm=realm),
			"set realm id by hand": lambda: rest(
				set_value, doctype=K.REALM, name=realm, fieldname="realm_id", value="9130000000999"
			),
			**{f"resolve: {a}": resolve(a) for a in ACTIONS},
			"edit entity map": lambda: rest(
				set_value, doctype=K.ENTITY_MAP, name=self.map, fieldname="qbo_id", value="999"
			),
			"delete entity map": lambda: rest(delete, doctype=K.ENTITY_MAP, name=self.map),
			"insert entity map": insert_map,
			"edit outbox row": lambda: rest(
				set_value, doctype=K.OUTBOX, name=self.outbox, fieldname="state", value="done"
			),
			"delete outbox row": lambda: rest(delete, doctype=K.OUTBOX, name=self.outbox),
			"edit cursor": lambda: rest(
				set_value, doctype=K.CURSOR, name=self.cursor, fieldname="seen", value="{}"
			),
			"delete cursor": lambda: rest(delete, doctype=K.CURSOR, name=self.cursor),
			"delete conflict": lambda: rest(delete, doctype=K.CONFLICT, name=self.conflict),
			"edit sync log row": lambda: rest(
				set_value, doctype=K.SYNC_LOG, name=self.log, fieldname="outcome", value="ok"
			),
			"delete sync log row": lambda: rest(delete, doctype=K.SYNC_LOG, name=self.log),
			"change retention": change_retention,
		}

	def outcome(self, user: str, action) -> str:
		frappe.db.savepoint("nexora_qbo_role_matrix")
		frappe.set_user(user)
		try:
			action()
			return Y
		except frappe.PermissionError:
			return N
		except Exception as exc:  # neither: shown in the table, so a failure lists every cell at once
			return f"error: {type(exc).__name__}: {str(exc)[:80]}"
		finally:
			frappe.set_user("Administrator")
			frappe.db.rollback(save_point="nexora_qbo_role_matrix")
			frappe.local.message_log = []

	def test_role_matrix(self):
		actual = {
			name: {role: self.outcome(self.users[role], action) for role in ROLES}
			for name, action in self.actions().items()
		}
		self.maxDiff = None
		self.assertEqual(actual, EXPECTED)

	def test_administrator_cannot_touch_bookkeeping_rows_either(self):
		"""Administrator passes every permission check; the controllers refuse anyway."""
		for name in (
			"edit entity map",
			"delete entity map",
			"insert entity map",
			"edit outbox row",
			"delete outbox row",
			"edit cursor",
			"delete cursor",
			"delete conflict",
			"edit sync log row",
			"delete sync log row",
			"read realm tokens (get_password)",
		):
			self.assertEqual(self.outcome("Administrator", self.actions()[name]), N, name)
