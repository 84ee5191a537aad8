"""Telling people: a new review item reaches the realm's reviewers in the desk, and a daily e-mail digest
lists what is still open, with links.

Why its own module: who the reviewers are is a realm setting (a user list, else a role, else the Accounts
Managers), and both the instant notification and the digest must ask the same question.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import escape_html, get_url_to_form, get_url_to_list

from nexora_qbo.erpnext import constants as K
from nexora_qbo.sync.constants import CONFLICT_KIND_WORDS


def reviewers(realm: str) -> list[str]:
	"""The realm's reviewers: its user list, else the users of its reviewer role (default Accounts Manager).
	Disabled users, Guest and Administrator are never notified."""
	row = frappe.db.get_value(K.REALM, realm, ["reviewer_users", "reviewer_role"], as_dict=True) or {}
	named = [u.strip() for u in (row.get("reviewer_users") or "").replace(",", "\n").splitlines() if u.strip()]
	if named:
		users = named
	else:
		role = row.get("reviewer_role") or K.DEFAULT_REVIEWER_ROLE
		users = frappe.get_all(
			"Has Role", filters={"role": role, "parenttype": "User"}, pluck="parent", distinct=True
		)
	enabled = set(
		frappe.get_all("User", filters={"name": ("in", users or [""]), "enabled": 1}, pluck="name")
	)
	return sorted(u for u in set(users) & enabled if u not in ("Administrator", "Guest"))


def _what(c) -> str:
	subject = f"{c.reference_doctype} {c.reference_name}" if c.reference_name else _("a balance")
	return f"{subject} ({CONFLICT_KIND_WORDS.get(c.kind, _('review item'))})"


def notify_new_review_item(conflict: str) -> list[str]:
	"""Desk notification (Notification Log) to each reviewer of the item's realm; returns who was told."""
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	c = frappe.db.get_value(
		K.CONFLICT,
		conflict,
		["name", "realm", "status", "kind", "reason", "reference_doctype", "reference_name"],
		as_dict=True,
	)
	if not c or c.status != "Open":
		return []
	users = reviewers(c.realm)
	if users:
		make_notification_logs(
			{
				"type": "Alert",
				"document_type": K.CONFLICT,
				"document_name": str(c.name),
				"subject": _(K.NEW_REVIEW_ITEM_SUBJECT).format(realm=c.realm, what=_what(c)),
				"email_content": escape_html(c.reason or ""),
				"from_user": "Administrator",
			},
			users,
		)
	return users


def digest_for(realm: str) -> tuple[str, str] | None:
	"""(subject, HTML) of the realm's open review items, or None when nothing is open."""
	items = frappe.get_all(
		K.CONFLICT,
		filters={"realm": realm, "status": "Open"},
		fields=["name", "kind", "reason", "reference_doctype", "reference_name", "created_at"],
		order_by="created_at asc",
	)
	if not items:
		return None
	rows = "".join(
		"<tr>"
		f"<td><a href='{get_url_to_form(K.CONFLICT, str(c.name))}'>{escape_html(_what(c))}</a></td>"
		f"<td>{escape_html(c.reason or '')}</td>"
		f"<td>{escape_html(str(c.created_at or ''))}</td>"
		"</tr>"
		for c in items
	)
	queue = get_url_to_list(K.CONFLICT) + f"?realm={realm}&status=Open"
	html = (
		f"<p>{escape_html(_('{0} QuickBooks review items are open for {1}.').format(len(items), realm))} "
		f"<a href='{queue}'>{escape_html(_('Open the review queue'))}</a></p>"
		"<table border='1' cellpadding='4' style='border-collapse:collapse'>"
		f"<tr><th>{_('Document')}</th><th>{_('What happened and what to do')}</th><th>{_('Raised')}</th></tr>"
		f"{rows}</table>"
	)
	return _("QuickBooks review queue for {0}: {1} open").format(realm, len(items)), html


def daily_digest() -> int:
	"""Scheduler (daily): one e-mail per realm with open review items to its reviewers. Returns mails queued."""
	sent = 0
	for realm in frappe.get_all(K.REALM, filters={"enabled": 1}, pluck="name"):
		digest = digest_for(realm)
		users = reviewers(realm) if digest else []
		if not users:
			continue
		subject, html = digest
		try:
			frappe.sendmail(
				recipients=users, subject=subject, message=html, reference_doctype=K.REALM, reference_name=realm
			)
		except frappe.OutgoingEmailError:
			# no outgoing e-mail account on this site: the desk notifications still reach the reviewers
			frappe.logger("nexora_qbo").warning(f"no outgoing e-mail account: digest for {realm} not sent")
			continue
		sent += 1
	return sent


def realm_admins(realm: str) -> list[str]:
	"""Who can reconnect the realm: the person who connected it and the users of the admin role (System
	Manager), enabled, never Guest or Administrator. Not every Accounts Manager: they cannot sign in at Intuit
	for this company."""
	connected_by = frappe.db.get_value(K.REALM, realm, "connected_by")
	users = set(
		frappe.get_all("Has Role", filters={"role": K.ADMIN_ROLE, "parenttype": "User"}, pluck="parent", distinct=True)
	)
	if connected_by:
		users.add(connected_by)
	enabled = set(frappe.get_all("User", filters={"name": ("in", list(users) or [""]), "enabled": 1}, pluck="name"))
	return sorted(u for u in users & enabled if u not in ("Administrator", "Guest"))


def notify_needs_reconnect(realm: str, **_kw) -> list[str]:
	"""A desk notification to each of the realm's admins (only them, not every manager), written now: syncing
	stops until someone connects again, so a digest or an e-mail queue is too late."""
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	users = realm_admins(realm)
	if not users:
		return []
	subject = _("QuickBooks needs to be reconnected for {0}").format(realm)
	make_notification_logs(
		{
			"type": "Alert",
			"document_type": K.REALM,
			"document_name": realm,
			"subject": subject,
			"email_content": escape_html(
				_(
					"QuickBooks refused the stored sign-in. Open the QBO Realm and click Connect to QuickBooks; "
					"changes wait in the outbox and nothing is lost."
				)
			),
			"from_user": "Administrator",
		},
		users,
	)
	return users


def alert_needs_reconnect(realm: str) -> list[str]:
	"""The realm's admins who are online see it now (realtime, not tied to any transaction)."""
	users = realm_admins(realm)
	subject = _("QuickBooks needs to be reconnected for {0}").format(realm)
	for user in users:
		frappe.publish_realtime(
			"msgprint", {"message": subject, "indicator": "red", "title": _("QuickBooks")}, user=user, after_commit=False
		)
	return users
