"""Connect a QBO Realm: start the Intuit authorization, and the OAuth callback that finishes it.

Security rules (frappe-notes A6, and the mistakes of the apps in D/C):
- the `state` is random and lives only in the cache (keyed by its SHA-256, with a 15-minute expiry, the
  realm and the user who started it): never in a field that REST or the desk can read;
- the callback is a GET that guests may reach (Intuit redirects the browser), but a guest is sent to the
  login page first and comes back; the user finishing the flow must be the one who started it and must
  still be an Accounts/System Manager;
- every value put into the answer page is HTML-escaped: `respond_as_web_page` renders the message raw and
  Frappe sanitises request parameters only for guests, so `?error=<script>` would run in the desk;
- one QBO company (realmId) binds to one ERPNext company: a callback for a realmId that another realm
  document already holds, or that differs from the realmId this document was bound to, is refused
  (invariant 4) until a System Manager resets the realm explicitly (qbo_realm.reset_realm);
- tokens go through the RealmTokenStore (durable, see token_store.py); no token ever reaches the browser.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlencode

import frappe
from frappe import _
from frappe.utils import escape_html, get_url, now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.token_store import RealmTokenStore

_REALM_ID = re.compile(r"^[0-9]{1,32}$")  # Intuit realm ids are numeric
_MAX_STATE_LENGTH = 200
_MAX_ERROR_LENGTH = 200


def start_authorization(realm: str) -> str:
	"""Remember a fresh state for the realm and return the authorization URL (the caller checked the role)."""
	doc = frappe.get_doc(K.REALM, realm)
	doc.check_permission("write")
	app = doc.oauth_app()
	state = app.new_state()
	remember_state(doc.name, state, frappe.session.user)
	return app.authorization_url(state)


def _state_key(state: str) -> str:
	return K.OAUTH_STATE_CACHE_PREFIX + hashlib.sha256(state.encode()).hexdigest()


def remember_state(realm: str, state: str, user: str) -> None:
	"""A pending authorization: realm and user, for OAUTH_STATE_TTL_MINUTES, in the cache only."""
	frappe.cache.set_value(
		_state_key(state),
		{"realm": realm, "user": user},
		expires_in_sec=K.OAUTH_STATE_TTL_MINUTES * 60,
	)


def pending_authorization(state: str | None) -> dict | None:
	"""{"realm", "user"} of an unexpired state, or None (a lookup by hash: nothing to compare by hand)."""
	if not state or len(state) > _MAX_STATE_LENGTH:
		return None
	pending = frappe.cache.get_value(_state_key(state))
	return pending if isinstance(pending, dict) and pending.get("realm") else None


def forget_state(state: str | None) -> None:
	if state and len(state) <= _MAX_STATE_LENGTH:
		frappe.cache.delete_value(_state_key(state))


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(code: str | None = None, state: str | None = None, realmId: str | None = None, **kwargs):  # noqa: N803
	"""Intuit redirects here with ?code&state&realmId (or ?error). Ends in a redirect or a message page."""
	if frappe.session.user == "Guest":
		query = urlencode({k: v for k, v in frappe.form_dict.items() if k != "cmd" and v is not None})
		target = f"/api/method/{K.CALLBACK_METHOD}" + (f"?{query}" if query else "")
		return _redirect(f"/login?{urlencode({'redirect-to': target})}")

	# A GET request is rolled back at its end unless told otherwise (frappe.app.sync_database): the new
	# connection state must persist.
	frappe.local.flags.commit = True

	pending = pending_authorization(state)
	forget_state(state)  # one-time, whatever happens next
	if kwargs.get("error"):
		if not pending:  # a crafted link: say nothing about what it carried
			return _fail(_("This authorization request is unknown or has expired."), 400)
		error = str(kwargs.get("error"))[:_MAX_ERROR_LENGTH]
		return _fail(_("QuickBooks did not authorize the connection: {0}").format(error), 400)
	if not pending:
		return _fail(
			_("This authorization request is unknown or has expired. Start again from the QBO Realm."), 400
		)

	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import is_manager

	realm = pending["realm"]
	if not frappe.db.exists(K.REALM, realm):
		return _fail(_("This authorization request is unknown or has expired."), 400)
	doc = frappe.get_doc(K.REALM, realm)
	if pending.get("user") != frappe.session.user:
		return _fail(_("This authorization was started by another user."), 403)
	if not is_manager():
		return _fail(_("Only an Accounts Manager or a System Manager can connect QuickBooks."), 403)
	if not realmId or not _REALM_ID.match(str(realmId)):
		return _fail(
			_("QuickBooks did not say which company was connected (realmId missing or invalid)."), 400
		)

	problem = _realm_binding_problem(doc, realmId)
	if problem:
		return _fail(problem, 409)

	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import exchange_hook
	from nexora_qbo.qbo.errors import QBOError

	try:
		tokens = doc.oauth_app(on_exchange=exchange_hook(realm=doc.name)).exchange_code(
			code, realmId, state=state, expected_state=state
		)
	except QBOError as exc:
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
			"last_sync_error": None,
		},
	)
	from nexora_qbo.erpnext import jobs

	jobs.enqueue_realm(realmId, "companyinfo", after_commit=True)
	frappe.msgprint(_("Connected to QuickBooks company {0}.").format(escape_html(realmId)), alert=True)
	return _redirect(get_url(f"/app/qbo-realm/{frappe.utils.quote(doc.name)}"))


def _realm_binding_problem(doc, realm_id: str) -> str | None:
	other = frappe.db.get_value(K.REALM, {"realm_id": realm_id, "name": ("!=", doc.name)}, "name")
	if other:
		return _(
			"QuickBooks company {0} is already connected to {1}. "
			"One QuickBooks company syncs with one ERPNext company."
		).format(realm_id, other)
	if doc.realm_id and doc.realm_id != realm_id:
		# Whatever exists today (maps, a cursor, conflicts, outbox, audit rows) belongs to the first company:
		# only an explicit reset by a System Manager lets another company take over this realm.
		return _(
			"{0} is bound to QuickBooks company {1}; you chose company {2}. Connect the same company, "
			"or ask a System Manager to reset the realm first."
		).format(doc.name, doc.realm_id, realm_id)
	return None


def _redirect(location: str):
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = location


def _fail(message: str, status: int):
	"""The message page. Escaped as a whole: our messages carry no markup, the values in them may."""
	frappe.respond_as_web_page(
		escape_html(_("QuickBooks Connection")),
		escape_html(message),
		http_status_code=status,
		indicator_color="red",
		primary_action="/app/qbo-realm",
		primary_label=_("Back to QBO Realms"),
	)
	return None
