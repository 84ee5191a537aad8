"""The numbers the QuickBooks workspace shows per realm, and the month's volume by direction.

Why its own module: the workspace block (a Custom HTML Block, see setup.make_workspace_block) only draws;
every number is computed here, per realm the user may read: the AR difference of the latest QBO Tie Out,
review items awaiting a person, changes still failing to reach QuickBooks, minutes since the last good
pull, and the realm's health (realm_health.health).
"""

from __future__ import annotations

import frappe
from frappe.utils import get_first_day, getdate, now_datetime, time_diff_in_seconds, today

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.realm_health import health


def realm_cards(realm) -> dict:
	tie = frappe.get_all(
		K.TIE_OUT,
		filters={"realm": realm.name},
		fields=["name", "as_of", "difference", "unexplained", "home_currency"],
		order_by="as_of desc, run_at desc",
		limit=1,
	)
	last_pull = realm.last_pull_on
	return {
		"realm": realm.name,
		"company": realm.company,
		"title": heading(realm),
		"health": health(realm),
		"ar_difference": tie[0].difference if tie else None,
		"ar_unexplained": tie[0].unexplained if tie else None,
		"ar_as_of": str(tie[0].as_of) if tie else None,
		"currency": (tie[0].home_currency if tie else None) or realm.home_currency,
		"tie_out": tie[0].name if tie else None,
		"awaiting_review": frappe.db.count(K.CONFLICT, {"realm": realm.name, "status": "Open"}),
		"still_failing": frappe.db.count(K.OUTBOX, {"realm": realm.name, "state": "failed"}),
		"minutes_since_pull": (
			int(time_diff_in_seconds(now_datetime(), last_pull) // 60) if last_pull else None
		),
	}


def heading(realm) -> str:
	"""The realm's heading on the workspace: its Company once (a realm is named after its company), and the
	QuickBooks company's own name when it reads differently (which QBO company this is)."""
	parts = [realm.name]
	if realm.company and realm.company != realm.name:
		parts.append(realm.company)
	qbo_name = (realm.get("qbo_company_name") or "").strip()
	if qbo_name and qbo_name not in parts:
		parts.append(frappe._("QuickBooks: {0}").format(qbo_name))
	return " · ".join(parts)


def month_volume(realms: list[str]) -> dict:
	"""Exchanges with QuickBooks per day of this month, by direction (chart data)."""
	first = get_first_day(today())
	rows = frappe.get_all(
		K.SYNC_LOG,
		filters={"realm": ("in", realms or [""]), "timestamp": (">=", first)},
		fields=["direction", "timestamp"],
		limit=50000,
	)
	days = [(first.replace(day=d)) for d in range(1, getdate(today()).day + 1)]
	counts = {d: {"Outbound": 0, "Inbound": 0} for d in days}
	for r in rows:
		d = getdate(r.timestamp)
		if d in counts and r.direction in counts[d]:
			counts[d][r.direction] += 1
	return {
		"labels": [d.strftime("%d") for d in days],
		"datasets": [
			{"name": "ERPNext → QuickBooks", "values": [counts[d]["Outbound"] for d in days]},
			{"name": "QuickBooks → ERPNext", "values": [counts[d]["Inbound"] for d in days]},
		],
		"totals": {
			"Outbound": sum(c["Outbound"] for c in counts.values()),
			"Inbound": sum(c["Inbound"] for c in counts.values()),
		},
	}


@frappe.whitelist()
def realm_overview() -> dict:
	"""Per readable realm: cards and health; plus the month's volume by direction."""
	frappe.has_permission(K.REALM, "read", throw=True)
	realms = [
		r
		for r in frappe.get_all(
			K.REALM,
			fields=["name", "company", "qbo_company_name", "connection_status", "unreachable_since", "last_pull_on",
				"home_currency"],
			order_by="name asc",
		)
		if frappe.has_permission(K.REALM, "read", r.name)
	]
	return {
		"realms": [realm_cards(r) for r in realms],
		"volume": month_volume([r.name for r in realms]),
		"is_manager": bool(set(frappe.get_roles()) & set(K.MANAGER_ROLES)),
	}
