# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Realm: one QuickBooks company, bound to exactly one ERPNext Company (invariant 4).

The controller stays thin: validation, the RealmSettings conversion the engine's Store needs, and the
whitelisted button endpoints, which only check the role and hand over to nexora_qbo.erpnext.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, get_url, getdate, now_datetime

from nexora_qbo.erpnext import constants as K

# Password fields only the TokenStore writes: a form save (masked "*****" or empty values) must never
# overwrite or delete them.
TOKEN_FIELDS = ("access_token", "refresh_token", "token_state")


class QBORealm(Document):
	def onload(self):
		cursor = frappe.db.get_value(K.CURSOR, {"realm": self.name}, "changed_since")
		self.last_pull_cursor = cursor
		self.set_onload("hard_expiry_days_left", self.hard_expiry_days_left())
		self.set_onload("open_conflicts", frappe.db.count(K.CONFLICT, {"realm": self.name, "status": "Open"}))
		self.set_onload(
			"pending_outbox",
			frappe.db.count(
				K.OUTBOX, {"realm": self.name, "state": ("in", ("pending", "in_flight", "failed"))}
			),
		)
		self.set_onload("can_manage", is_manager())

	def validate(self):
		self.flags.ignore_save_passwords = list(TOKEN_FIELDS)
		self.redirect_uri = callback_url()
		self.webhook_url = webhook_url()
		self.validate_endpoints()
		self.validate_company_accounts()
		self.check_reference_maps()
		# NULL, never "": two not-yet-connected realms must not collide on the unique realm_id index
		self.realm_id = (self.realm_id or "").strip() or None

	def validate_endpoints(self):
		from nexora_qbo.qbo.endpoints import resolve_endpoints

		if self.environment != "custom":
			self.custom_base_url = None
		try:
			resolve_endpoints(self.environment, self.custom_base_url)
		except ValueError as exc:
			frappe.throw(str(exc), title=_("QuickBooks Environment"))

	def validate_company_accounts(self):
		for fieldname in ("receivable_account", "income_account", "tax_account", "payment_account"):
			account = self.get(fieldname)
			if account and frappe.db.get_value("Account", account, "company") != self.company:
				frappe.throw(
					_("{0}: account {1} does not belong to company {2}").format(
						self.meta.get_label(fieldname), account, self.company
					)
				)
		if (
			self.cost_center
			and frappe.db.get_value("Cost Center", self.cost_center, "company") != self.company
		):
			frappe.throw(
				_("Cost Center {0} does not belong to company {1}").format(self.cost_center, self.company)
			)

	def check_reference_maps(self):
		seen = set()
		for row in self.reference_maps:
			key = (row.map_type, row.local_value)
			if key in seen:
				frappe.throw(
					_("Row {0}: {1} {2} is mapped twice").format(row.idx, row.map_type, row.local_value)
				)
			seen.add(key)

	def on_trash(self):
		for doctype in (K.ENTITY_MAP, K.SYNC_LOG, K.OUTBOX):
			if frappe.db.exists(doctype, {"realm": self.name}):
				frappe.throw(
					_(
						"{0} has {1} records; disconnect it instead of deleting it (the audit trail stays)."
					).format(self.name, doctype),
					frappe.LinkExistsError,
				)
		frappe.db.delete(K.CURSOR, {"realm": self.name})

	# helpers ------------------------------------------------------------------------------------------
	def hard_expiry_days_left(self) -> int | None:
		if not self.refresh_token_hard_expiry:
			return None
		return (get_datetime(self.refresh_token_hard_expiry) - now_datetime()).days

	def needs_reconnect_warning(self) -> bool:
		days = self.hard_expiry_days_left()
		return days is not None and days <= K.REFRESH_HARD_EXPIRY_WARNING_DAYS

	def endpoints(self):
		from nexora_qbo.qbo.endpoints import resolve_endpoints

		return resolve_endpoints(self.environment, self.custom_base_url)

	def oauth_app(self, on_exchange=None):
		from nexora_qbo.qbo.oauth import OAuthApp

		return OAuthApp(
			client_id=self.client_id,
			client_secret=self.get_password("client_secret"),
			redirect_uri=callback_url(),
			endpoints=self.endpoints(),
			on_exchange=on_exchange,
		)

	def to_settings(self):
		"""The engine's RealmSettings (nexora_qbo.sync.ports) for this realm."""
		from nexora_qbo.sync.ports import RealmSettings

		maps: dict[str, dict[str, str]] = {attr: {} for attr in K.REFERENCE_MAPS.values()}
		for row in self.reference_maps:
			maps[K.REFERENCE_MAPS[row.map_type]][row.local_value] = row.qbo_id
		return RealmSettings(
			realm_id=self.realm_id,
			company=self.company,
			conflict_policy=K.CONFLICT_POLICY_LABELS.get(self.conflict_policy, "qbo_wins"),
			void_policy=K.VOID_POLICY_LABELS.get(self.void_policy, "review"),
			qbo_born_cancel_policy=K.QBO_BORN_CANCEL_POLICY_LABELS.get(self.get("qbo_born_cancel_policy"), "ask"),
			home_currency=self.home_currency
			or frappe.get_cached_value("Company", self.company, "default_currency")
			or "USD",
			enabled=bool(self.enabled),
			default_income_account_id=self.default_income_account_id or None,
			default_expense_account_id=self.default_expense_account_id or None,
			default_asset_account_id=self.default_asset_account_id or None,
			default_deposit_account_id=self.default_deposit_account_id or None,
			sync_start_date=getdate(self.sync_start_date) if self.sync_start_date else None,
			extra={
				"realm": self.name,
				"receivable_account": self.receivable_account,
				"income_account": self.income_account,
				"tax_account": self.tax_account,
				"payment_account": self.payment_account,
				"mode_of_payment": self.mode_of_payment,
				"cost_center": self.cost_center,
				"customer_group": self.customer_group,
				"territory": self.territory,
				"item_group": self.item_group,
				"stock_uom": self.stock_uom,
				"selling_price_list": self.selling_price_list,
				"push_new_masters": bool(self.push_new_masters),
			},
			**maps,
		)

	def apply_settings(self, settings) -> None:
		"""Copy a RealmSettings onto this document (the Store's save_settings); does not save."""
		policy_label = {v: k for k, v in K.CONFLICT_POLICY_LABELS.items()}
		void_label = {v: k for k, v in K.VOID_POLICY_LABELS.items()}
		self.realm_id = settings.realm_id
		self.company = settings.company
		self.conflict_policy = policy_label.get(settings.conflict_policy, "QBO wins")
		self.void_policy = void_label.get(settings.void_policy, "Review")
		born_label = {v: k for k, v in K.QBO_BORN_CANCEL_POLICY_LABELS.items()}
		self.qbo_born_cancel_policy = born_label.get(getattr(settings, "qbo_born_cancel_policy", "ask"), "Ask")
		self.home_currency = settings.home_currency
		self.enabled = 1 if settings.enabled else 0
		for fieldname in (
			"default_income_account_id",
			"default_expense_account_id",
			"default_asset_account_id",
			"default_deposit_account_id",
		):
			self.set(fieldname, getattr(settings, fieldname))
		self.sync_start_date = settings.sync_start_date
		extra = settings.extra or {}
		for fieldname in K.REALM_ERPNEXT_DEFAULTS:
			if fieldname in extra:
				self.set(fieldname, extra[fieldname])
		if "push_new_masters" in extra:
			self.push_new_masters = 1 if extra["push_new_masters"] else 0
		self.set("reference_maps", [])
		for map_type, attr in K.REFERENCE_MAPS.items():
			for local_value, qbo_id in (getattr(settings, attr) or {}).items():
				self.append(
					"reference_maps", {"map_type": map_type, "local_value": local_value, "qbo_id": qbo_id}
				)


# --------------------------------------------------------------------------------------------------------
# module helpers (used by the Frappe layer)
# --------------------------------------------------------------------------------------------------------


def callback_url() -> str:
	return get_url(f"/api/method/{K.CALLBACK_METHOD}")


def webhook_url() -> str:
	return get_url(f"/api/method/{K.WEBHOOK_METHOD}")


def is_manager(user: str | None = None) -> bool:
	roles = set(frappe.get_roles(user))
	return bool(roles & set(K.MANAGER_ROLES)) or (user or frappe.session.user) == "Administrator"


def check_manager() -> None:
	"""Connecting, syncing and resolving change the official books: Accounts Manager / System Manager."""
	if not is_manager():
		frappe.throw(_("Only an Accounts Manager or a System Manager can do this."), frappe.PermissionError)


def realm_for_company(company: str) -> dict | None:
	"""The realm bound to a company (name, realm_id, flags), or None. Uncached on purpose: the table is
	tiny, the column is unique-indexed, and a cache would have to be invalidated from token writes too."""
	if not company:
		return None
	rows = frappe.get_all(
		K.REALM,
		filters={"company": company},
		fields=["name", "realm_id", "enabled", "connection_status", "push_new_masters", "sync_start_date"],
		limit=1,
	)
	return rows[0] if rows else None


def realms_with_id() -> list[dict]:
	"""Every realm that has been connected at least once (it has a realmId to key its data by)."""
	return frappe.get_all(
		K.REALM,
		filters={"realm_id": ("is", "set")},
		fields=[
			"name",
			"realm_id",
			"company",
			"enabled",
			"connection_status",
			"push_new_masters",
			"sync_start_date",
		],
		order_by="name asc",
	)


def realm_doc_name(realm_id: str) -> str | None:
	return frappe.db.get_value(K.REALM, {"realm_id": realm_id}, "name")


def before_sync_start(realm: dict, posting_date) -> bool:
	start = realm.get("sync_start_date")
	return bool(start and posting_date and getdate(posting_date) < getdate(start))


# --------------------------------------------------------------------------------------------------------
# form buttons (whitelisted): check the role, then hand over; never HTTP in the web request
# --------------------------------------------------------------------------------------------------------


@frappe.whitelist(methods=["POST"])
def connect(realm: str) -> dict:
	"""Returns the Intuit authorization URL for the browser to open."""
	check_manager()
	from nexora_qbo.erpnext.oauth import start_authorization

	return {"authorize_url": start_authorization(realm)}


@frappe.whitelist(methods=["POST"])
def sync_now(realm: str) -> dict:
	check_manager()
	from nexora_qbo.erpnext import jobs

	doc = _connected(realm)
	jobs.enqueue_realm(doc.realm_id, "sync", after_commit=True)
	return {"queued": True}


@frappe.whitelist(methods=["POST"])
def initial_import(realm: str) -> dict:
	check_manager()
	from nexora_qbo.erpnext import jobs

	doc = _connected(realm)
	frappe.db.set_value(K.REALM, doc.name, "initial_import_status", K.IMPORT_QUEUED, update_modified=False)
	jobs.enqueue_realm(doc.realm_id, "import", after_commit=True, user=frappe.session.user)
	return {"queued": True}


@frappe.whitelist(methods=["POST"])
def disconnect(realm: str) -> dict:
	check_manager()
	from nexora_qbo.erpnext import jobs

	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	jobs.enqueue_disconnect(doc.name)
	return {"queued": True}


def _connected(realm: str):
	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	if not doc.realm_id or doc.connection_status != K.CONNECTED:
		frappe.throw(_("Connect {0} to QuickBooks first.").format(doc.name))
	return doc
