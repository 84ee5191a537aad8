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
from frappe.utils.password import get_decrypted_password

from nexora_qbo.erpnext import constants as K

# Password fields only the TokenStore (and the cut/revoke path) writes: a form save (masked "*****" or empty
# values) must never overwrite or delete them.
TOKEN_FIELDS = ("access_token", "refresh_token", "token_state", K.PENDING_REVOKE_FIELD)


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
		self.set_onload("can_reset", K.ADMIN_ROLE in frappe.get_roles())
		from nexora_qbo.erpnext import qbo_setup
		from nexora_qbo.erpnext.realm_health import health, setup_steps

		self.set_onload("health", health(self))
		self.set_onload("setup_steps", setup_steps(self))
		self.set_onload("location_hint", qbo_setup.location_hint())
		self.set_onload("suggested_maps", qbo_setup.suggested_maps(self.name) if is_manager() else [])

	def validate(self):
		self.flags.ignore_save_passwords = list(TOKEN_FIELDS)
		# The addresses registered with Intuit: filled in once, never rewritten by a save. A background job's
		# get_url() is the worker's host (http://<site>:8000), not the address Intuit knows.
		self.redirect_uri = (self.redirect_uri or "").strip() or callback_url()
		self.webhook_url = (self.webhook_url or "").strip() or webhook_url()
		self.refuse_flow_field_changes()
		self.validate_endpoints()
		self.cut_connection_if_rebound()
		self.validate_company_accounts()
		self.check_reference_maps()
		# NULL, never "": two not-yet-connected realms must not collide on the unique realm_id index
		self.realm_id = (self.realm_id or "").strip() or None

	def refuse_flow_field_changes(self):
		"""The realmId and connection state come from the OAuth flow only: read_only is not enforced on the
		server, so a REST call (even Administrator's) could otherwise bind a realm to another QBO company
		without Connect or reset. Server code (the Store, tests, the flow) saves with ignore_permissions."""
		from nexora_qbo.erpnext.guards import engine_is_writing

		if self.flags.ignore_permissions or engine_is_writing():
			return
		if self.is_new():
			changed = [f for f in K.REALM_FLOW_FIELDS if (self.get(f) or None) not in (None, K.NOT_CONNECTED)]
		else:
			before = self.get_doc_before_save()
			changed = [
				f
				for f in K.REALM_FLOW_FIELDS
				if (self.get(f) or before.get(f)) and self.has_value_changed(f)  # "" and None are both unset
			]
		if changed:
			frappe.throw(
				_("{0} is set by Connect to QuickBooks only.").format(
					", ".join(self.meta.get_label(f) for f in changed)
				),
				frappe.PermissionError,
			)

	def validate_endpoints(self):
		from nexora_qbo.qbo.endpoints import resolve_endpoints

		if self.environment != "custom":
			self.custom_base_url = None
		elif not custom_base_url_allowed():
			frappe.throw(
				_("This site does not allow a custom QuickBooks base URL (site config {0}).").format(
					K.ALLOW_CUSTOM_BASE_URL_CONF
				),
				title=_("QuickBooks Environment"),
			)
		try:
			resolve_endpoints(self.environment, self.custom_base_url)
		except ValueError as exc:
			frappe.throw(str(exc), title=_("QuickBooks Environment"))

	def cut_connection_if_rebound(self):
		"""A connected realm whose environment, base URL or client id changes would send its Bearer token (and,
		on a 401, the refresh token and client credentials) to the new host: the connection is cut instead.
		The old refresh token is revoked later at the OLD host (on_update -> jobs.revoke_pending)."""
		before = None if self.is_new() else self.get_doc_before_save()
		if before is None:
			return
		old = {
			"environment": before.environment,
			"custom_base_url": before.custom_base_url if before.environment == "custom" else None,
			"client_id": before.client_id,
		}
		changed = [f for f in K.REALM_BINDING_FIELDS if (self.get(f) or None) != (old[f] or None)]
		connected = before.connection_status in (K.CONNECTED, K.NEEDS_RECONNECT)
		if not changed or not (connected or has_tokens(self.name)):
			return
		# the stored secret is still the old one here: Frappe saves a form's new password after validate
		old["client_secret"] = get_decrypted_password(
			K.REALM, self.name, "client_secret", raise_exception=False
		)
		self.flags.nexora_qbo_cut = {"changed": changed, "old": old}
		self.connection_status = K.DISCONNECTED

	def on_update(self):
		cut = self.flags.pop("nexora_qbo_cut", None)
		if cut:
			disconnect_now(self.name, cut["old"], reason=_("{0} changed").format(", ".join(cut["changed"])))

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
		frappe.db.delete(K.QBO_REFERENCE, {"realm": self.name})

	# helpers ------------------------------------------------------------------------------------------
	def hard_expiry_days_left(self) -> int | None:
		if not self.refresh_token_hard_expiry:
			return None
		return (get_datetime(self.refresh_token_hard_expiry) - now_datetime()).days

	def needs_reconnect_warning(self) -> bool:
		days = self.hard_expiry_days_left()
		return days is not None and days <= K.REFRESH_HARD_EXPIRY_WARNING_DAYS

	def endpoints(self):
		"""Where the realm's requests (and tokens) go; checked again here, not only on save, so a site that
		withdrew its permission for a custom host sends nothing there."""
		from nexora_qbo.qbo.endpoints import resolve_endpoints

		if self.environment == "custom" and not custom_base_url_allowed():
			frappe.throw(_("This site does not allow a custom QuickBooks base URL."), frappe.PermissionError)
		return resolve_endpoints(self.environment, self.custom_base_url)

	def oauth_app(self, on_exchange=None):
		from nexora_qbo.qbo.oauth import OAuthApp

		return OAuthApp(
			client_id=self.client_id,
			client_secret=self.get_password("client_secret"),
			redirect_uri=self.redirect_uri or callback_url(),
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
			rate_source=K.RATE_SOURCE_LABELS.get(self.get("rate_source"), "erpnext"),
			home_currency=self.home_currency
			or frappe.get_cached_value("Company", self.company, "default_currency")
			or "USD",
			enabled=bool(self.enabled),
			default_income_account_id=self.default_income_account_id or None,
			default_expense_account_id=self.default_expense_account_id or None,
			default_asset_account_id=self.default_asset_account_id or None,
			default_deposit_account_id=self.default_deposit_account_id or None,
			sync_start_date=getdate(self.sync_start_date) if self.sync_start_date else None,
			preferences=_loads_preferences(self.get("qbo_preferences")),
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
		rate_label = {v: k for k, v in K.RATE_SOURCE_LABELS.items()}
		self.rate_source = rate_label.get(getattr(settings, "rate_source", "erpnext"), next(iter(K.RATE_SOURCE_LABELS)))
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
		prefs = getattr(settings, "preferences", None) or {}
		if prefs:
			from nexora_qbo.sync import preferences as P
			from nexora_qbo.sync.records import dumps

			self.qbo_preferences = dumps(prefs)
			self.qbo_preferences_summary = "\n".join(P.describe(settings))
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


def _loads_preferences(text) -> dict:
	from nexora_qbo.sync.records import loads

	try:
		return loads(text) or {}
	except ValueError:
		return {}


# --------------------------------------------------------------------------------------------------------
# module helpers (used by the Frappe layer)
# --------------------------------------------------------------------------------------------------------


def custom_base_url_allowed() -> bool:
	"""The "custom" environment (a local sandbox) only where the site's config says so."""
	return bool(frappe.conf.get(K.ALLOW_CUSTOM_BASE_URL_CONF))


def has_tokens(realm: str) -> bool:
	return bool(get_decrypted_password(K.REALM, realm, "token_state", raise_exception=False))


def disconnect_now(realm: str, old_app: dict | None = None, reason: str | None = None) -> None:
	"""Cut the connection in the current transaction: keep the refresh token only encrypted for the revoke
	job (which runs after commit, at the host the token came from), forget the tokens, mark Disconnected.

	`old_app` is the Intuit app the tokens belong to (environment, base URL, client id/secret) when the
	realm's own fields were just changed; otherwise the realm's current app."""
	import json

	from frappe.utils.password import set_encrypted_password

	from nexora_qbo.erpnext import jobs
	from nexora_qbo.erpnext.token_store import RealmTokenStore

	row = frappe.db.get_value(
		K.REALM, realm, ["realm_id", "environment", "custom_base_url", "client_id"], as_dict=True
	)
	tokens = RealmTokenStore(realm=realm).load(row.realm_id) if row.realm_id else None
	if tokens:
		app = old_app or {
			"environment": row.environment,
			"custom_base_url": row.custom_base_url,
			"client_id": row.client_id,
			"client_secret": get_decrypted_password(K.REALM, realm, "client_secret", raise_exception=False),
		}
		pending = {**app, "realm_id": row.realm_id, "token": tokens.refresh_token}
		set_encrypted_password(K.REALM, realm, json.dumps(pending), K.PENDING_REVOKE_FIELD)
		jobs.enqueue_revoke_pending(realm)
	RealmTokenStore.clear(realm)
	frappe.db.set_value(K.REALM, realm, "connection_status", K.DISCONNECTED, update_modified=False)
	frappe.get_doc(K.REALM, realm).add_comment(
		"Info",
		_("{0}: the QuickBooks connection was cut ({1}); connect again to resume syncing.").format(
			frappe.session.user, reason or _("disconnected")
		),
	)


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
	"""The desk's Initial Import leads through the go-live plan (preview, correct, confirm): nothing is linked,
	imported, opened or sent before a person confirmed what will happen. The unattended engine path
	(`bench nexora-qbo` commands, the "import" job kind) stays for scripted set-ups."""
	check_manager()
	return preview_go_live(realm)


@frappe.whitelist(methods=["POST"])
def preview_go_live(realm: str) -> dict:
	"""The desk's way into the first import/export: a go-live plan is built in the background (QBO is only
	read; nothing but the plan is written). A person corrects it, then "Confirm and run" runs exactly it."""
	check_manager()
	from nexora_qbo.erpnext import golive_plan

	doc = _connected(realm)
	doc.check_permission("write")
	golive_plan.enqueue_preview(doc.name, frappe.session.user)
	return {"queued": True}


@frappe.whitelist()
def import_progress(realm: str) -> dict:
	"""The initial import's progress for the realm form's bar (the same message the realtime event carries)."""
	frappe.has_permission(K.REALM, "read", realm, throw=True)
	status = frappe.db.get_value(K.REALM, realm, "initial_import_status")
	data = frappe.cache.get_value(K.IMPORT_PROGRESS_CACHE_KEY + realm) or {}
	if status in (K.IMPORT_DONE, K.IMPORT_FAILED):
		data = {**data, "finished": True, "done": data.get("total") or 1, "total": data.get("total") or 1}
	return {"status": status, **data}


@frappe.whitelist(methods=["POST"])
def run_tie_out(realm: str) -> dict:
	"""The report's "Run tie-out now": today's AR tie-out of the realm, now (the nightly job's work), so a
	bookkeeper closing the month needs no command line. Reads both books only; an unexplained difference opens
	its review item, as at night."""
	check_manager()
	from nexora_qbo.erpnext import jobs

	doc = _connected(realm)
	# QBO is read in a job, never inside the request's transaction
	jobs.enqueue_once(K.TIE_OUT_JOB, f"qbo-tie-out::{doc.name}", realm_id=doc.realm_id)
	return {"queued": True}


@frappe.whitelist(methods=["POST"])
def disconnect(realm: str) -> dict:
	check_manager()
	from nexora_qbo.erpnext import jobs

	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	jobs.enqueue_disconnect(doc.name)
	return {"queued": True}


@frappe.whitelist(methods=["POST"])
def reset_realm(realm: str) -> dict:
	"""The explicit reset that lets this realm connect to ANOTHER QuickBooks company. System Manager only.

	Clears what belonged to the old company (maps, cursor, outbox; open conflicts are closed as "realm
	reset", never deleted), cuts and revokes the connection, unbinds the realmId, and records who did it.
	Audit rows are never touched: each keeps the realmId of its exchange (QBO Sync Log.qbo_realm_id)."""
	if K.ADMIN_ROLE not in frappe.get_roles():
		frappe.throw(_("Only a System Manager can reset a QBO Realm."), frappe.PermissionError)
	from nexora_qbo.erpnext.guards import engine_writes

	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	old_realm_id = doc.realm_id
	counts = {}
	with engine_writes():
		for doctype in (K.ENTITY_MAP, K.CURSOR, K.OUTBOX):
			counts[doctype] = frappe.db.count(doctype, {"realm": doc.name})
			frappe.db.delete(doctype, {"realm": doc.name})
		from nexora_qbo.erpnext.store import forget_kept_mappings

		forget_kept_mappings()
		counts[K.CONFLICT] = frappe.db.count(K.CONFLICT, {"realm": doc.name, "status": "Open"})
		if counts[K.CONFLICT]:
			frappe.db.set_value(
				K.CONFLICT,
				{"realm": doc.name, "status": "Open"},
				{
					"status": "Resolved",
					"resolution": "realm_reset",
					"resolved_by": frappe.session.user,
					"resolved_on": now_datetime(),
				},
			)
	disconnect_now(doc.name, reason=_("realm reset"))
	frappe.db.set_value(
		K.REALM,
		doc.name,
		{
			"realm_id": None,
			"connection_status": K.NOT_CONNECTED,
			"initial_import_status": K.IMPORT_NOT_STARTED,
		},
	)
	summary = ", ".join(f"{n} {dt}" for dt, n in counts.items())
	doc.add_comment(
		"Info",
		_("{0} reset this realm (was QuickBooks company {1}); removed {2}. The audit trail is kept.").format(
			frappe.session.user, old_realm_id or "-", summary
		),
	)
	return {"reset": True, "previous_realm_id": old_realm_id, "removed": counts}


def _connected(realm: str):
	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	if not doc.realm_id or doc.connection_status != K.CONNECTED:
		frappe.throw(_("Connect {0} to QuickBooks first.").format(doc.name))
	return doc


@frappe.whitelist(methods=["POST"])
def read_qbo_settings(realm: str) -> dict:
	"""Read QuickBooks' preferences and lists now (otherwise: at connect, on import, daily by the pull)."""
	check_manager()
	from nexora_qbo.erpnext import jobs

	doc = _connected(realm)
	jobs.enqueue_realm(doc.realm_id, "setup", after_commit=True)
	return {"queued": True}


@frappe.whitelist(methods=["POST"])
def add_suggested_maps(realm: str, rows=None) -> dict:
	"""Add the suggested reference mappings a person confirmed (each must still be a current suggestion)."""
	check_manager()
	import json

	from nexora_qbo.erpnext import qbo_setup

	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	rows = json.loads(rows) if isinstance(rows, str) else (rows or [])
	return {"added": qbo_setup.add_maps(doc.name, rows)}


@frappe.whitelist(methods=["POST"])
def create_location_dimension(realm: str) -> dict:
	"""Make the Branch accounting dimension QuickBooks locations map to (ERPNext adds its fields)."""
	check_manager()
	from nexora_qbo.erpnext import qbo_setup

	frappe.get_doc(K.REALM, realm).check_permission("write")
	if not frappe.has_permission("Accounting Dimension", "create"):
		frappe.throw(_("You cannot create an Accounting Dimension; ask a System Manager."), frappe.PermissionError)
	return qbo_setup.make_location_dimension()
