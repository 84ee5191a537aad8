"""bench commands: `bench --site S nexora-qbo-sync REALM`, `nexora-qbo-import REALM`,
`nexora-qbo-status [REALM]`, `nexora-qbo-tie-out REALM [--date YYYY-MM-DD]`.

REALM is the QBO Realm document (the company name) or the QBO realmId. By default the work runs in the
foreground (useful for a first sync and for support); `--enqueue` hands it to the workers instead. A bench
command is an entry point, so it commits its own work at the end.
"""

from __future__ import annotations

import json

import click
from frappe.commands import get_site, pass_context


def _connect(context):
	import frappe

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	return frappe


def _resolve(frappe, realm: str) -> tuple[str, str]:
	from nexora_qbo.erpnext import constants as K

	row = frappe.db.get_value(K.REALM, realm, ["name", "realm_id"], as_dict=True) or frappe.db.get_value(
		K.REALM, {"realm_id": realm}, ["name", "realm_id"], as_dict=True
	)
	if not row:
		raise click.ClickException(f"no QBO Realm named or with realmId {realm!r}")
	if not row.realm_id:
		raise click.ClickException(f"{row.name} was never connected to QuickBooks")
	return row.name, row.realm_id


def _run(context, realm: str, kind: str, enqueue: bool) -> None:
	frappe = _connect(context)
	try:
		name, realm_id = _resolve(frappe, realm)
		from nexora_qbo.erpnext import jobs

		if enqueue:
			jobs.enqueue_realm(realm_id, kind, after_commit=False)
			click.echo(f"{kind} queued for {name} ({realm_id})")
		else:
			result = jobs.run(realm_id, kind, user=frappe.session.user)
			frappe.db.commit()
			click.echo(json.dumps(result, indent=1, default=str))
	finally:
		frappe.destroy()


@click.command("nexora-qbo-sync")
@click.argument("realm")
@click.option("--pull-only", is_flag=True, help="Only pull changes from QuickBooks.")
@click.option("--push-only", is_flag=True, help="Only send queued ERPNext changes to QuickBooks.")
@click.option("--enqueue", is_flag=True, help="Queue the job for the workers instead of running it here.")
@pass_context
def nexora_qbo_sync(context, realm, pull_only=False, push_only=False, enqueue=False):
	"""Pull from and push to QuickBooks for one realm."""
	if pull_only and push_only:
		raise click.UsageError("--pull-only and --push-only exclude each other")
	kind = "pull" if pull_only else "push" if push_only else "sync"
	_run(context, realm, kind, enqueue)


@click.command("nexora-qbo-import")
@click.argument("realm")
@click.option("--enqueue", is_flag=True, help="Queue the job for the workers instead of running it here.")
@pass_context
def nexora_qbo_import(context, realm, enqueue=False):
	"""Initial import: QuickBooks customers and items in, unmapped ERPNext documents out."""
	_run(context, realm, "import", enqueue)


@click.command("nexora-qbo-status")
@click.argument("realm", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def nexora_qbo_status(context, realm=None, as_json=False):
	"""Connection, cursor, queue and review-queue state of one or every realm."""
	frappe = _connect(context)
	try:
		rows = realm_status(frappe, realm)
		if as_json:
			click.echo(json.dumps(rows, indent=1, default=str))
			return
		if not rows:
			click.echo("No QBO Realm.")
		for row in rows:
			click.echo(f"{row['realm']}  (realmId {row['realm_id'] or '-'}, company {row['company']})")
			for key in (
				"connection_status",
				"enabled",
				"last_pull_on",
				"last_push_on",
				"pull_cursor",
				"outbox_pending",
				"outbox_failed",
				"outbox_parked",
				"open_conflicts",
				"refresh_hard_expiry",
				"last_sync_error",
			):
				click.echo(f"  {key:<20} {row[key] if row[key] not in (None, '') else '-'}")
	finally:
		frappe.destroy()


def realm_status(frappe, realm: str | None = None) -> list[dict]:
	from nexora_qbo.erpnext import constants as K

	filters = {}
	if realm:
		name = frappe.db.get_value(K.REALM, realm, "name") or frappe.db.get_value(
			K.REALM, {"realm_id": realm}, "name"
		)
		if not name:
			raise click.ClickException(f"no QBO Realm named or with realmId {realm!r}")
		filters["name"] = name
	out = []
	for r in frappe.get_all(
		K.REALM,
		filters=filters,
		fields=[
			"name",
			"realm_id",
			"company",
			"connection_status",
			"enabled",
			"last_pull_on",
			"last_push_on",
			"refresh_token_hard_expiry",
			"last_sync_error",
		],
		order_by="name asc",
	):

		def outbox(state, realm=r.name):
			return frappe.db.count(K.OUTBOX, {"realm": realm, "state": state})

		out.append(
			{
				"realm": r.name,
				"realm_id": r.realm_id,
				"company": r.company,
				"connection_status": r.connection_status,
				"enabled": bool(r.enabled),
				"last_pull_on": r.last_pull_on,
				"last_push_on": r.last_push_on,
				"pull_cursor": frappe.db.get_value(K.CURSOR, {"realm": r.name}, "changed_since"),
				"outbox_pending": outbox("pending") + outbox("in_flight"),
				"outbox_failed": outbox("failed"),
				"outbox_parked": outbox("parked"),
				"open_conflicts": frappe.db.count(K.CONFLICT, {"realm": r.name, "status": "Open"}),
				"refresh_hard_expiry": r.refresh_token_hard_expiry,
				"last_sync_error": r.last_sync_error,
			}
		)
	return out


@click.command("nexora-qbo-masters-elsewhere")
@click.argument("realm")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def nexora_qbo_masters_elsewhere(context, realm, as_json=False):
	"""Customers and items in this realm's QuickBooks that only another Company uses (reported, not deleted)."""
	frappe = _connect(context)
	try:
		name, realm_id = _resolve(frappe, realm)
		from nexora_qbo.erpnext.jobs import build_engine

		engine = build_engine()
		rows = engine.masters_elsewhere(realm_id)
		if as_json:
			click.echo(json.dumps(rows, indent=1, default=str))
		else:
			company = frappe.db.get_value("QBO Realm", name, "company")
			click.echo(engine.format_masters_elsewhere(rows, company))
	finally:
		frappe.destroy()


@click.command("nexora-qbo-tie-out")
@click.argument("realm")
@click.option("--date", "as_of", help="Day of the tie-out (YYYY-MM-DD); default today.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def nexora_qbo_tie_out(context, realm, as_of=None, as_json=False):
	"""AR tie-out: ERPNext outstanding vs QuickBooks open balances, per document and customer; kept for the day."""
	frappe = _connect(context)
	try:
		name, realm_id = _resolve(frappe, realm)
		from nexora_qbo.erpnext import jobs
		from nexora_qbo.sync.tieout import format_tie_out

		summary = jobs.tie_out_realm(realm_id, as_of)
		frappe.db.commit()
		if as_json or "skipped" in summary:
			click.echo(json.dumps(summary, indent=1, default=str))
		else:
			click.echo(format_tie_out(summary))
	finally:
		frappe.destroy()


commands = [nexora_qbo_sync, nexora_qbo_import, nexora_qbo_status, nexora_qbo_masters_elsewhere, nexora_qbo_tie_out]
