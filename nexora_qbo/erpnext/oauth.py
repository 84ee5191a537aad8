"""Connect a QBO Realm: start the Intuit authorization, and the OAuth callback that finishes it.

Security rules (frappe-notes A6, and the mistakes of the apps in D/C):
- the `state` is random, stored on the realm with an expiry and the user who started it, and compared in
  constant time (the old ERPNext migrator had no state check at all);
- the callback is a GET that guests may reach (Intuit redirects the browser), but a guest is sent to the
  login page first and comes back; the user finishing the flow must be the one who started it and must
  still be an Accounts/System Manager;
- one QBO company (realmId) binds to one ERPNext company: a callback for a realmId that another realm
  document already holds, or that differs from the realm this document synced so far, is refused
  (invariant 4);
- tokens go through the RealmTokenStore (durable, see token_store.py); no token ever reaches the browser.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import frappe
from frappe import _
from frappe.utils import get_url, now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.token_store import RealmTokenStore


def start_authorization(realm: str) -> str:
	"""Store a fresh state on the realm and return the authorization URL (the caller checked the role)."""
	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	app = doc.oauth_app()
	state = app.new_state()
	frappe.db.set_value(
		K.REALM,
		doc.name,
		{
			"oauth_state": state,
			"oauth_state_expires_at": now_datetime() + timedelta(minutes=K.OAUTH_STATE_TTL_MINUTES),
			"oauth_state_user": frappe.session.user,
		},
		update_modified=False,
	)
	return app.authorization_url(state)


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(code: str | None = None, state: str | None = None, realmId: str | None = None, **kwargs):  # noqa: N803
	"""Intuit redirects here with ?code&state&realmId (or ?error). Ends in a redirect or a message page."""
	if frappe.session.user == "Guest":
		query = urlencode({k: v for k, v in frappe.form_dict.items() if k != "cmd" and v is not None})
		target = f"/api/method/{K.CALLBACK_METHOD}" + (f"?{query}" if query else "")
		return _redirect(f"/login?{urlencode({'redirect-to': target})}")

	# A GET request is rolled back at its end unless told otherwise (frappe.app.sync_database): the new
	# connection state and the cleared state must persist.
	frappe.local.flags.commit = True

	if kwargs.get("error"):
		return _fail(_("QuickBooks did not authorize the connection: {0}").format(kwargs.get("error")), 400)

	realm = _realm_for_state(state)
	if not realm:
		return _fail(
			_("This authorization request is unknown or has expired. Start again from the QBO Realm."), 400
		)

	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import is_manager

	doc = frappe.get_doc(K.REALM, realm)
	if doc.oauth_state_user and doc.oauth_state_user != frappe.session.user:
		return _fail(_("This authorization was started by another user."), 403)
	if not is_manager():
		return _fail(_("Only an Accounts Manager or a System Manager can connect QuickBooks."), 403)
	if not realmId:
		return _fail(_("QuickBooks did not say which company was connected (realmId missing)."), 400)

	problem = _realm_binding_problem(doc, realmId)
	if problem:
		_clear_state(doc.name)
		return _fail(problem, 409)

	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import exchange_hook
	from nexora_qbo.qbo.errors import QBOError

	try:
		tokens = doc.oauth_app(on_exchange=exchange_hook(realm=doc.name)).exchange_code(
			code, realmId, state=state, expected_state=doc.oauth_state
		)
	except QBOError as exc:
		_clear_state(doc.name)
		frappe.log_error(title=f"QBO connect failed for {doc.name}", message=str(exc))
		return _fail(_("QuickBooks refused the authorization: {0}").format(exc.message or exc), 400)

	tokens.realm_id = realmId
	# 1. tokens first (autonomous commit when the realm row is committed), 2. then the realm row
	RealmTokenStore(realm=doc.name).save(realmId, tokens)
	frappe.db.set_value(
		K.REALM,
		doc.name,
		{
			"realm_id": realmId,
			"connection_status": K.CONNECTED,
			"connected_by": frappe.session.user,
			"connected_on": now_datetime(),
			"oauth_state": None,
			"oauth_state_expires_at": None,
			"oauth_state_user": None,
			"last_sync_error": None,
		},
	)
	from nexora_qbo.erpnext import jobs

	jobs.enqueue_realm(realmId, "companyinfo", after_commit=True)
	frappe.msgprint(_("Connected to QuickBooks company {0}.").format(realmId), alert=True)
	return _redirect(get_url(f"/app/qbo-realm/{frappe.utils.quote(doc.name)}"))


def _realm_for_state(state: str | None) -> str | None:
	"""The realm whose pending authorization carries this state (constant-time compare, not expired)."""
	import hmac

	if not state or len(state) > 200:
		return None
	rows = frappe.get_all(
		K.REALM,
		filters={"oauth_state": ("is", "set")},
		fields=["name", "oauth_state", "oauth_state_expires_at"],
	)
	now = now_datetime()
	for row in rows:
		if hmac.compare_digest(str(row.oauth_state), str(state)):
			if row.oauth_state_expires_at and row.oauth_state_expires_at < now:
				return None
			return row.name
	return None


def _realm_binding_problem(doc, realm_id: str) -> str | None:
	other = frappe.db.get_value(K.REALM, {"realm_id": realm_id, "name": ("!=", doc.name)}, "name")
	if other:
		return _(
			"QuickBooks company {0} is already connected to {1}. "
			"One QuickBooks company syncs with one ERPNext company."
		).format(realm_id, other)
	if doc.realm_id and doc.realm_id != realm_id and frappe.db.exists(K.ENTITY_MAP, {"realm": doc.name}):
		return _(
			"{0} already syncs with QuickBooks company {1}; you chose company {2}. "
			"Connect the same company, or set up a new realm."
		).format(doc.name, doc.realm_id, realm_id)
	return None


def _clear_state(realm: str) -> None:
	frappe.db.set_value(
		K.REALM,
		realm,
		{"oauth_state": None, "oauth_state_expires_at": None, "oauth_state_user": None},
		update_modified=False,
	)


def _redirect(location: str):
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = location


def _fail(message: str, status: int):
	frappe.respond_as_web_page(
		_("QuickBooks Connection"),
		message,
		http_status_code=status,
		indicator_color="red",
		primary_action="/app/qbo-realm",
		primary_label=_("Back to QBO Realms"),
	)
	return None
