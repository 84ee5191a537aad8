"""Background jobs: the scheduler tick, per-realm pull/push/sync/import entry points, conflict resolution,
disconnect, the daily sweep and log retention.

Enqueueing (`enqueue_realm`): one job id per (kind, realm), deduplicated, on the long queue, after commit.
Frappe's `deduplicate=True` skips an enqueue while the job is QUEUED *or STARTED*; skipping while it runs
would lose a wake-up (the running push may already have read the outbox). So when the primary job is
running, the enqueue goes to a single follow-up slot (`…::next`, itself deduplicated): at most one running
and one waiting run per realm and kind, and every recorded change is seen by a run that starts after it.
The decision is taken at commit time (`frappe.db.after_commit`), not when the document event fires.

Job entry points never raise for a busy realm (another worker is doing the same work) and record their
outcome on the realm autonomously (it must survive the job's rollback). Exceptions other than "busy" are
re-raised after that, so RQ/Frappe log them (Error Log + failed job registry).
"""

from __future__ import annotations

import traceback
from functools import partial
from typing import Any

import frappe
from frappe.utils import now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.errorlog import log_error, scrubbed

JOB_METHOD = "nexora_qbo.erpnext.jobs.run"
KINDS = ("pull", "push", "sync", "import", "export", "companyinfo", "setup")


# --------------------------------------------------------------------------------------------------------
# enqueueing
# --------------------------------------------------------------------------------------------------------


def enqueue_realm(realm_id: str, kind: str, *, after_commit: bool = True, **kwargs) -> None:
	"""Queue `kind` for the realm (see module docstring). `after_commit=False` enqueues right away."""
	if kind not in KINDS:
		raise ValueError(f"unknown job kind {kind!r}")
	call = partial(_enqueue_now, realm_id, kind, kwargs)
	if after_commit:
		frappe.db.after_commit.add(call)
	else:
		call()


def _enqueue_now(realm_id: str, kind: str, kwargs: dict) -> str | None:
	from frappe.utils.background_jobs import get_job
	from rq.job import JobStatus

	primary = K.job_id(kind, realm_id)
	job = get_job(primary)
	status = job.get_status() if job else None
	if status == JobStatus.QUEUED:
		return None  # a queued run will read everything committed before it starts
	job_id = f"{primary}::next" if status == JobStatus.STARTED else primary
	frappe.enqueue(
		JOB_METHOD,
		queue=K.QUEUE,
		job_id=job_id,
		deduplicate=True,
		realm_id=realm_id,
		kind=kind,
		durable_checkpoints=True,
		**kwargs,
	)
	return job_id


def enqueue_once(method: str, job_id: str, *, queue: str = K.QUEUE, after_commit: bool = True, **kwargs) -> None:
	"""Queue one background job, deduplicated by `job_id`. By default only after the caller's transaction
	commits: a job that reads what the request just wrote never starts before it is there, and a rolled-back
	request queues nothing."""
	frappe.enqueue(method, queue=queue, enqueue_after_commit=after_commit, job_id=job_id, deduplicate=True, **kwargs)


def enqueue_resolve(realm_id: str, conflict_id: str, action: str, user: str, note: str | None = None) -> None:
	enqueue_once("nexora_qbo.erpnext.jobs.resolve_conflict", f"qbo-resolve::{realm_id}::{conflict_id}",
		conflict_id=conflict_id, action=action, user=user)


def enqueue_disconnect(realm: str) -> None:
	enqueue_once("nexora_qbo.erpnext.jobs.disconnect_realm", f"qbo-disconnect::{realm}", realm=realm,
		user=frappe.session.user)


# --------------------------------------------------------------------------------------------------------
# the engine, built on the Frappe ports
# --------------------------------------------------------------------------------------------------------


def build_engine(*, durable_checkpoints: bool = False):
	"""SyncEngine on the Frappe Store/Ledger, Redis lock and the realm's own client.

	`durable_checkpoints=True` is for the RQ job entry point only: the engine then commits at its safe points
	(an outbox entry marked in_flight before its HTTP call; each finished entry or inbound record), so a worker
	killed mid-run keeps what QBO already accepted and retries with the same requestid. Direct calls (tests,
	the console, a bench command inside someone else's transaction) keep the caller's transaction intact.
	"""
	from nexora_qbo.erpnext.ledger import FrappeLedger
	from nexora_qbo.erpnext.locks import RedisRealmLock
	from nexora_qbo.erpnext.store import FrappeStore
	from nexora_qbo.sync.engine import SyncEngine
	from nexora_qbo.sync.runtime import SystemClock

	store = FrappeStore()
	return SyncEngine(
		store,
		FrappeLedger(),
		client_for,
		RedisRealmLock(),
		SystemClock(),
		lock_timeout=K.REALM_LOCK_WAIT,
		checkpoint=partial(_commit_checkpoint, store) if durable_checkpoints else None,
	)


def _commit_checkpoint(store) -> None:
	"""Commit the job's work so far; the engine only calls this outside its own store transactions."""
	if not store.in_transaction:
		frappe.db.commit()  # nosemgrep: job entry point, between units of work (see build_engine)


def client_for(realm_id: str, on_exchange=None, *, pacer=None):
	"""The realm's QBOClient: tokens from the durable RealmTokenStore, Redis pacer, Redis refresh lock.

	`on_exchange` (the engine's audit hook) also sees the token refreshes, so they are audited too.
	"""
	from nexora_qbo.erpnext.locks import token_lock_factory
	from nexora_qbo.erpnext.pacer import RedisPacer
	from nexora_qbo.erpnext.token_store import RealmTokenStore
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realm_doc_name
	from nexora_qbo.qbo.client import QBOClient
	from nexora_qbo.qbo.oauth import TokenManager

	realm = frappe.get_doc(K.REALM, realm_doc_name(realm_id))
	app = realm.oauth_app(on_exchange=on_exchange)
	manager = TokenManager(app, realm_id, RealmTokenStore(realm=realm.name), token_lock_factory)
	return QBOClient(
		realm_id,
		base_url=realm.endpoints().api_base_url,
		tokens=RealmTokens(manager, realm.name),
		pacer=pacer or RedisPacer(),
		on_exchange=on_exchange,
	)


class RealmTokens:
	"""The TokenManager as the client sees it, plus one duty: a refresh token Intuit refuses (invalid_grant)
	means the connection is dead until a person reconnects. The engine treats token errors of one entry as
	transient (it retries the entry later), so the realm is marked here, at the source, and at once:
	otherwise every entry would fail quietly while the realm still says Connected (users.md #1)."""

	def __init__(self, manager, realm: str):
		self.manager = manager
		self.realm = realm

	def access_token(self) -> str:
		return self._guard(self.manager.access_token)

	def refresh(self, stale_access_token: str | None = None):
		return self._guard(lambda: self.manager.refresh(stale_access_token))

	def _guard(self, call):
		from nexora_qbo.qbo.errors import InvalidGrantError

		try:
			return call()
		except InvalidGrantError as exc:
			_record_failure(self.realm, self.manager.realm_id, "token refresh", exc)
			raise


# --------------------------------------------------------------------------------------------------------
# job entry points
# --------------------------------------------------------------------------------------------------------


def run(
	realm_id: str,
	kind: str,
	reason: str | None = None,
	events: list[dict] | None = None,
	user=None,
	durable_checkpoints: bool = False,
	**_,
):
	"""One realm job. Pull/push/sync respect the realm's and the site's pause switches.

	Enqueued runs pass `durable_checkpoints=True` (see build_engine); a direct call keeps one transaction."""
	from nexora_qbo.erpnext.locks import RedisRealmLock
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realm_doc_name
	from nexora_qbo.nexora_qbo.doctype.qbo_settings.qbo_settings import sync_paused
	from nexora_qbo.sync.errors import LockBusy

	if frappe.session.user == "Guest":  # enqueued by the webhook endpoint: act as the system, not a guest
		frappe.set_user("Administrator")
	realm = realm_doc_name(realm_id)
	if not realm:
		return {"skipped": "no such realm"}
	row = frappe.db.get_value(K.REALM, realm, ["enabled", "connection_status"], as_dict=True)
	if row.connection_status != K.CONNECTED:
		return {"skipped": f"realm is {row.connection_status}"}
	if kind in ("pull", "push", "sync") and (not row.enabled or sync_paused()):
		return {"skipped": "sync paused"}

	try:
		info = None
		if kind == "companyinfo":  # at connect: the company's name, then QBO's set-up and lists (qbo_setup.py)
			info = _company_info(realm, realm_id)
			kind = "setup"
		engine = build_engine(durable_checkpoints=durable_checkpoints)
		with RedisRealmLock().hold(realm_id, timeout=K.REALM_LOCK_WAIT):
			result = _run_kind(engine, realm, realm_id, kind, events, user)
		if info is not None:
			result = {**info, **result}
	except LockBusy:
		return {"skipped": "realm busy"}
	except Exception as exc:
		_record_failure(realm, realm_id, kind, exc)
		log_error(f"QBO {kind} failed for {realm}", exc)
		raise scrubbed(exc) from None  # RQ logs the job's failure with locals: none below this frame
	return result


def _run_kind(engine, realm: str, realm_id: str, kind: str, events, user) -> dict:
	"""Everything a sync job changes in ERPNext comes from QBO (or from the engine's own bookkeeping), so
	the whole job runs under the inbound flag: no document event inside it records a new intent."""
	from nexora_qbo.erpnext import qbo_setup
	from nexora_qbo.erpnext.events import inbound

	stamp: dict[str, Any] = {"last_sync_error": None}
	if kind in ("pull", "sync", "import"):
		stamp["unreachable_since"] = None  # a good exchange with QuickBooks ends an outage
	with inbound():
		if kind == "pull":
			result = {}
			if qbo_setup.due(realm):  # at most daily: see qbo_setup's docstring for the cadence
				result["setup"] = qbo_setup.read_setup(engine, realm_id)
			if events:  # a webhook named the records: apply them first, then catch up with CDC
				result["events"] = engine.pull_events(realm_id, _webhook_events(realm_id, events))
			result["pull"] = engine.pull(realm_id)
			stamp["last_pull_on"] = now_datetime()
		elif kind == "setup":
			result = qbo_setup.read_setup(engine, realm_id)
		elif kind == "push":
			result = engine.push(realm_id)
			stamp["last_push_on"] = now_datetime()
		elif kind == "sync":
			result = engine.sync(realm_id)
			stamp["last_pull_on"] = stamp["last_push_on"] = now_datetime()
		elif kind == "import":
			result = _initial_import(engine, realm, realm_id, user)
			stamp["last_pull_on"] = now_datetime()
		elif kind == "export":
			result = engine.initial_export(realm_id)
			stamp["last_push_on"] = now_datetime()
		else:
			raise ValueError(kind)
	_set_realm(realm, stamp)
	return result


def _webhook_events(realm_id: str, events: list[dict]):
	from nexora_qbo.qbo.timeutil import parse_qbo_datetime
	from nexora_qbo.qbo.webhooks import WebhookEvent

	out = []
	for ev in events or []:
		out.append(
			WebhookEvent(
				realm_id=realm_id,
				entity=ev["entity"],
				entity_id=ev["entity_id"],
				operation=ev["operation"],
				occurred_at=parse_qbo_datetime(ev["occurred_at"]) if ev.get("occurred_at") else None,
				deleted_id=ev.get("deleted_id"),
				event_id=ev.get("event_id"),
				source_format=ev.get("source_format") or "legacy",
			)
		)
	return out


def _initial_import(engine, realm: str, realm_id: str, user: str | None) -> dict:
	"""Masters from QBO, then our unmapped documents to QBO; progress goes to the realm form."""
	steps = [("Customer",), ("Item",)]
	total = len(steps) + 1
	_set_realm(realm, {"initial_import_status": K.IMPORT_RUNNING})
	result: dict[str, Any] = {}
	try:
		from nexora_qbo.erpnext import qbo_setup

		_progress(realm, user, 0, total, "Reading QuickBooks' settings and lists")
		result["setup"] = qbo_setup.read_setup(engine, realm_id)  # the mapping follows them (each import)
		for done, entities in enumerate(steps):
			_progress(realm, user, done, total, f"Importing {entities[0]} records from QuickBooks")
			result[entities[0]] = engine.initial_import(realm_id, entities)
		_progress(
			realm, user, len(steps), total, "Sending ERPNext documents that QuickBooks does not have yet"
		)
		result["export"] = engine.initial_export(realm_id)
	except Exception:
		_set_realm(realm, {"initial_import_status": K.IMPORT_FAILED})
		_progress(
			realm, user, total, total, "Initial import failed; see the realm's last error", finished=True
		)
		raise
	_set_realm(realm, {"initial_import_status": K.IMPORT_DONE})
	_progress(realm, user, total, total, "Initial import finished", finished=True)
	return result


def _progress(
	realm: str,
	user: str | None,
	done: int,
	total: int,
	message: str,
	finished: bool = False,
	plan: str | None = None,
) -> None:
	data = {"realm": realm, "done": done, "total": total, "message": message, "finished": finished}
	if plan:
		data["plan"] = plan  # the go-live plan being applied (its form shows the same bar)
	# kept in the cache too (not transactional: seen at once) for the form's poll where realtime is not running
	frappe.cache.set_value(K.IMPORT_PROGRESS_CACHE_KEY + realm, data, expires_in_sec=6 * 3600)
	frappe.publish_realtime(
		"nexora_qbo_import_progress",
		data,
		user=user,
		doctype=K.REALM,
		docname=realm,
		after_commit=False,
	)


def _company_info(realm: str, realm_id: str) -> dict:
	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import exchange_hook

	client = client_for(realm_id, exchange_hook(realm=realm, direction="inbound"))
	info = client.company_info()
	company = info.get("CompanyInfo", info) if isinstance(info, dict) else {}
	values = {"qbo_company_name": company.get("CompanyName") or company.get("LegalName")}
	currency = (
		(company.get("HomeCurrency") or {}).get("value")
		if isinstance(company.get("HomeCurrency"), dict)
		else None
	)
	if currency and not frappe.db.get_value(K.REALM, realm, "home_currency"):
		values["home_currency"] = currency
	_set_realm(realm, values)
	return values


def resolve_conflict(conflict_id: str, action: str, user: str, **_):
	"""The engine acts on a review item under the realm lock; the outcome lands on the conflict row."""
	engine = build_engine()
	realm = frappe.db.get_value(K.CONFLICT, conflict_id, "realm")
	realm_id = frappe.db.get_value(K.REALM, realm, "realm_id")
	from nexora_qbo.erpnext.events import inbound

	try:
		with inbound():
			engine.resolve_conflict(str(conflict_id), action, by=user)
	except Exception as exc:
		_record_failure(realm, realm_id, f"resolve {conflict_id}", exc)
		log_error(f"QBO resolve {conflict_id} failed for {realm}", exc)
		raise scrubbed(exc) from None
	enqueue_realm(realm_id, "push", after_commit=True)


def disconnect_realm(realm: str, user: str | None = None, **_):
	"""Revoke at Intuit (best effort: a dead token is already disconnected), then forget the tokens."""
	from nexora_qbo.erpnext.token_store import RealmTokenStore
	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import exchange_hook

	doc = frappe.get_doc(K.REALM, realm)
	tokens = RealmTokenStore(realm=realm).load(doc.realm_id) if doc.realm_id else None
	if tokens:
		try:
			doc.oauth_app(on_exchange=exchange_hook(realm=realm)).revoke(
				tokens.refresh_token, realm_id=doc.realm_id
			)
		except Exception as exc:
			log_error(f"QBO revoke failed for {realm} (tokens are forgotten anyway)", exc)
	RealmTokenStore.clear(realm)
	frappe.db.set_value(K.REALM, realm, {"connection_status": K.DISCONNECTED}, update_modified=False)
	if user:
		frappe.publish_realtime("msgprint", f"{realm} is disconnected from QuickBooks.", user=user)


def enqueue_revoke_pending(realm: str) -> None:
	enqueue_once("nexora_qbo.erpnext.jobs.revoke_pending", f"qbo-revoke::{realm}", realm=realm)


def revoke_pending(realm: str, **_):
	"""Revoke the refresh token of a connection that was cut (qbo_realm.disconnect_now) at the host and app
	it came from, outside any document transaction; then forget it. Best effort: a token Intuit no longer
	knows is as good as revoked, and it is never used again either way."""
	import json

	from frappe.utils.password import get_decrypted_password, remove_encrypted_password

	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url, custom_base_url_allowed
	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import exchange_hook
	from nexora_qbo.qbo.endpoints import resolve_endpoints
	from nexora_qbo.qbo.oauth import OAuthApp

	raw = get_decrypted_password(K.REALM, realm, K.PENDING_REVOKE_FIELD, raise_exception=False)
	if not raw:
		return
	remove_encrypted_password(K.REALM, realm, K.PENDING_REVOKE_FIELD)
	try:
		pending = json.loads(raw)
		if pending.get("environment") == "custom" and not custom_base_url_allowed():
			return
		app = OAuthApp(
			client_id=pending["client_id"],
			client_secret=pending.get("client_secret") or "",
			redirect_uri=frappe.db.get_value(K.REALM, realm, "redirect_uri") or callback_url(),
			endpoints=resolve_endpoints(pending["environment"], pending.get("custom_base_url")),
			on_exchange=exchange_hook(realm=realm),
		)
		app.revoke(pending["token"], realm_id=pending.get("realm_id"))
	except Exception as exc:
		log_error(f"QBO revoke of a cut connection failed for {realm} (the token is forgotten anyway)", exc)


# --------------------------------------------------------------------------------------------------------
# scheduler
# --------------------------------------------------------------------------------------------------------


def scheduler_tick():
	"""cron */5: one pull per connected realm; a push where intents are due."""
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realms_with_id
	from nexora_qbo.nexora_qbo.doctype.qbo_settings.qbo_settings import sync_paused

	if sync_paused():
		return
	for realm in realms_with_id():
		if not realm.enabled or realm.connection_status != K.CONNECTED:
			continue
		enqueue_realm(realm.realm_id, "pull", after_commit=False)
		if _has_due_outbox(realm.name):
			enqueue_realm(realm.realm_id, "push", after_commit=False)


def _has_due_outbox(realm: str) -> bool:
	"""Any open intent counts: the push itself skips failed entries whose retry time has not come."""
	t = frappe.qb.DocType(K.OUTBOX)
	query = (
		frappe.qb.from_(t)
		.select(t.name)
		.where(t.realm == realm)
		.where(t.state.isin(["pending", "failed", "in_flight"]))
		.limit(1)
	)
	return bool(query.run())


def daily_sweep():
	"""Safety net for invariant 5: submitted documents of a connected company with neither a mapping nor an
	outbox entry (a doc event that failed, a bulk update that bypassed hooks) get their intent now."""
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realms_with_id

	for realm in realms_with_id():
		if realm.connection_status != K.CONNECTED:
			continue
		queued = sweep_realm(realm)
		if queued:
			enqueue_realm(realm.realm_id, "push", after_commit=True)


def sweep_realm(realm, limit: int = 500) -> int:
	from nexora_qbo.nexora_qbo.doctype.qbo_outbox.qbo_outbox import OutboxRows
	from nexora_qbo.sync.outbox import record_change
	from nexora_qbo.sync.runtime import SystemClock

	company = frappe.db.get_value(K.REALM, realm.name, "company")
	rows = OutboxRows()
	queued = 0
	for doctype, extra, local_type_of in (
		("Sales Invoice", "", lambda r: "credit_memo" if r.is_return else "invoice"),
		("Payment Entry", " and d.payment_type='Receive' and d.party_type='Customer'", lambda r: "payment"),
	):
		is_return = ", d.is_return" if doctype == "Sales Invoice" else ", 0 as is_return"
		missing = frappe.db.sql(
			f"""
			select d.name{is_return} from `tab{doctype}` d
			where d.docstatus = 1 and d.company = %(company)s {extra}
				and (%(start)s is null or d.posting_date >= %(start)s)
				and not exists (select 1 from `tab{K.ENTITY_MAP}` m where m.realm = %(realm)s
					and m.reference_doctype = %(doctype)s and m.reference_name = d.name)
				and not exists (select 1 from `tab{K.OUTBOX}` o where o.realm = %(realm)s
					and o.reference_doctype = %(doctype)s and o.reference_name = d.name)
			order by d.posting_date, d.creation
			limit %(limit)s
			""",
			{
				"company": company,
				"start": realm.sync_start_date,
				"realm": realm.name,
				"doctype": doctype,
				"limit": limit,
			},
			as_dict=True,
		)
		for row in missing:
			record_change(rows, realm.realm_id, local_type_of(row), row.name, "create", SystemClock().now())
			queued += 1
	return queued


def purge_logs():
	"""Daily retention of the audit trail (QBO Settings.log_retention_days; Log Settings runs it too)."""
	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import QBOSyncLog

	QBOSyncLog.clear_old_logs(None)


# --------------------------------------------------------------------------------------------------------
# realm status (autonomous: a failing job rolls back, its error must stay visible)
# --------------------------------------------------------------------------------------------------------


def _set_realm(realm: str, values: dict) -> None:
	from nexora_qbo.erpnext.token_store import set_values_autonomously

	set_values_autonomously(K.REALM, realm, values)


def _record_failure(realm: str | None, realm_id: str | None, kind: str, exc: Exception) -> None:
	if not realm:
		return
	from nexora_qbo.qbo.errors import AuthenticationError, ConnectionFailed, InvalidGrantError, ServerError

	values: dict[str, Any] = {
		"last_sync_error": f"{kind}: {type(exc).__name__}: {exc}"[:1000],
		"last_error_on": now_datetime(),
	}
	needs_reconnect = isinstance(exc, InvalidGrantError) or (
		isinstance(exc, AuthenticationError) and "refresh" in str(exc).lower()
	)
	if needs_reconnect:
		values["connection_status"] = K.NEEDS_RECONNECT
	elif isinstance(exc, (ConnectionFailed, ServerError)) and not frappe.db.get_value(
		K.REALM, realm, "unreachable_since"
	):
		values["unreachable_since"] = values["last_error_on"]  # the outage starts at its first failure
	try:
		_set_realm(realm, values)
		notified = frappe.flags.setdefault("nexora_qbo_reconnect_notified", set())
		if needs_reconnect and realm not in notified:  # once per job, though both the token guard and
			notified.add(realm)  # the job entry point report the same failure
			_notify_managers(realm)
	except Exception:
		frappe.logger("nexora_qbo").error(f"could not record failure on {realm}: {traceback.format_exc()}")


def _notify_managers(realm: str) -> None:
	"""A dead connection must not be silent (users.md #1): the realm's admins are told at once. The failing
	job's transaction is rolled back when it re-raises, so the notification is written by a job of its own,
	put on the queue now (not after a commit that never comes); the admins online see an alert at once."""
	from nexora_qbo.erpnext.notify import alert_needs_reconnect

	alert_needs_reconnect(realm)
	enqueue_once("nexora_qbo.erpnext.notify.notify_needs_reconnect", f"qbo-reconnect-notice::{realm}",
		queue="short", after_commit=False, realm=realm)


# --------------------------------------------------------------------------------------------------------
# AR tie-out (nightly; also the bench command nexora-qbo-tie-out)
# --------------------------------------------------------------------------------------------------------


def nightly_tie_out():
	"""daily_long: one tie-out job per enabled, connected realm (deduplicated per realm and day), so each
	realm's result is kept for the day and the month's trend builds up."""
	from frappe.utils import today

	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realms_with_id

	day = today()
	for realm in realms_with_id():
		if not realm.enabled or realm.connection_status != K.CONNECTED:
			continue
		enqueue_once(K.TIE_OUT_JOB, f"{K.JOB_PREFIX}-tie-out::{realm.realm_id}::{day}", after_commit=False,
			realm_id=realm.realm_id, as_of=day)


def tie_out_realm(realm_id: str, as_of=None, **_) -> dict:
	"""Run and keep the realm's tie-out of `as_of` (default today) under the realm lock (the engine takes
	it); an unexplained difference opens its review item. Returns the summary (the bench command prints it).
	Busy realm: skipped, the next night (or a re-run of the command) catches up."""
	from frappe.utils import getdate

	from nexora_qbo.erpnext.events import inbound
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realm_doc_name
	from nexora_qbo.sync.errors import LockBusy

	realm = realm_doc_name(realm_id)
	if not realm:
		return {"skipped": "no such realm"}
	engine = build_engine()
	try:
		with inbound():
			result = engine.tie_out(realm_id, getdate(as_of) if as_of else None)
	except LockBusy:
		return {"skipped": "realm busy"}
	except Exception as exc:
		_record_failure(realm, realm_id, "tie-out", exc)
		raise
	return result.summary()
