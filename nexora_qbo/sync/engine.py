"""SyncEngine: the facade the Frappe jobs, the demo and the tests use.

	engine = SyncEngine(store, ledger, client_for, lock, clock)
	engine.connect(RealmSettings(realm_id, company, ...))   # binds one Company to one realm
	engine.record_change(realm_id, "invoice", "SINV-0001", "create")   # or ledger local operations
	engine.push(realm_id); engine.pull(realm_id); engine.pull_events(realm_id, events)
	engine.initial_import(realm_id); engine.initial_export(realm_id)
	plan = engine.go_live_preview(realm_id); engine.apply_go_live(realm_id, plan)   # sync/golive.py
	engine.resolve_conflict(conflict_id, "keep_qbo", by="jane@agency")
	engine.report(realm_id, 2026, 11)

`client_for(realm_id, on_exchange) -> QBOClient` builds the realm's client with the engine's audit hook, so
every HTTP exchange leaves exactly one audit row. Everything is keyed by realm (invariant 4): the context of
a realm only ever reads that realm's mappings, and the company comes from that realm's settings.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.checks import BooksCheck
from nexora_qbo.sync.edits import BookkeeperEdits
from nexora_qbo.sync.entities import ordered
from nexora_qbo.sync.golive import GoLive, GoLivePlan
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.ports import Clock, Ledger, OutboxEntry, RealmLock, RealmSettings, Store
from nexora_qbo.sync.preferences_reader import Preferences
from nexora_qbo.sync.references import References
from nexora_qbo.sync.pull import Puller
from nexora_qbo.sync.push import Pusher
from nexora_qbo.sync.review import Reviewer
from nexora_qbo.sync.services import EngineServices, RealmContext


def _shared(name: str, doc: str) -> property:
	"""A facade attribute that lives in the shared services (so every collaborator sees a swap)."""
	return property(lambda self: getattr(self.services, name), lambda self, v: setattr(self.services, name, v), doc=doc)


class SyncEngine:
	"""The facade: wires the collaborators (one job each) over the shared services and delegates to them.

	- Pusher (sync/push.py): drains the outbox into QBO.
	- Puller (sync/pull.py): CDC, webhooks, the fallback query and the Id sweep, the initial import.
	- Reviewer (sync/review.py): review actions; BooksCheck (sync/checks.py) the post-action check;
	  BookkeeperEdits (sync/edits.py) the cancels/amendments that meet a bookkeeper's record.
	- GoLive (sync/golive.py): the go-live preview and its application.
	- Books (sync/books.py): the review-item, event and park writes they all share.
	"""

	store = _shared("store", "the Store port")
	ledger = _shared("ledger", "the Ledger port")
	client_for = _shared("client_for", "builds a realm's QBO client with the audit hook")
	lock = _shared("lock", "the realm lock")
	clock = _shared("clock", "the Clock port")
	lock_timeout = _shared("lock_timeout", "seconds to wait for the realm lock")
	checkpoint = _shared("checkpoint", "makes the work done so far durable")

	def __init__(
		self,
		store: Store,
		ledger: Ledger,
		client_for: Callable[[str, Callable[[Any], None]], Any],
		lock: RealmLock,
		clock: Clock,
		*,
		lock_timeout: float | None = 30.0,
		checkpoint: Callable[[], None] | None = None,
	):
		"""`checkpoint` makes the work done so far durable. The engine calls it at safe points only (outside
		any `store.transaction()`): after an outbox entry is marked in_flight and before its HTTP call, and
		after each entry or inbound record is finished. Stores whose writes are already durable (the SQLite
		reference commits every unit of work) need none; the Frappe job entry point passes a commit, so a
		worker killed mid-run keeps the mappings of everything QBO already accepted and the in_flight marker
		that makes the retry reuse the same requestid (invariant 1)."""
		self.services = EngineServices(store, ledger, client_for, lock, clock, lock_timeout=lock_timeout,
			checkpoint=checkpoint)
		self.books = Books(self.services)
		self.checks = BooksCheck(self.services, self.books)
		self.edits = BookkeeperEdits(self.services, self.books)
		self.pusher = Pusher(self.services, self.books, self.checks, self.edits)
		self.puller = Puller(self.services, self.books, self.pusher)
		self.reviewer = Reviewer(self.services, self.books, self.checks, self.pusher, self.puller)
		self.golive = GoLive(self.services, self.books, self.pusher)
		self.preferences = Preferences(self.services)
		self.references = References(self.services)
		self.services.importer = self.puller.apply_remote

	@property
	def _clients(self) -> dict[str, Any]:
		return self.services.clients

	# ------------------------------------------------------------------------------------------ realms
	def connect(self, settings: RealmSettings) -> None:
		"""Bind a Company to a realm (refused if the company already belongs to another realm)."""
		self.store.save_settings(settings)
		self.services.clients.pop(settings.realm_id, None)

	def settings(self, realm_id: str) -> RealmSettings:
		return self.services.settings(realm_id)

	def context(self, realm_id: str) -> RealmContext:
		return self.services.context(realm_id)

	def client(self, realm_id: str) -> Any:
		return self.services.client(realm_id)

	# ------------------------------------------------------------------------------------------ outbox
	def record_change(self, realm_id: str, local_type: str, local_id: str, action: str) -> OutboxEntry:
		"""Record an intent (what doc_events do, inside the document's transaction). No HTTP."""
		return self.services.record_change(realm_id, local_type, local_id, action)

	def record_change_for_company(self, company: str, local_type: str, local_id: str, action: str) -> OutboxEntry | None:
		realm_id = self.store.realm_for_company(company)
		if realm_id is None:
			return None
		return self.record_change(realm_id, local_type, local_id, action)

	def initial_export(self, realm_id: str, local_types: tuple[str, ...] = C.LOCAL_TYPES) -> dict[str, int]:
		"""First connection: queue every existing, unmapped local document (masters first) and push. Creates
		look for the same record in QBO by stable key first, so existing QBO customers are linked, not
		duplicated."""
		ctx = self.context(realm_id)
		queued = 0
		for spec in ordered():
			if spec.local_type not in local_types:
				continue
			for local_id in self.ledger.list_ids(ctx.company, spec.local_type, ctx.settings.sync_start_date):
				if self.store.get_mapping(realm_id, spec.local_type, local_id) is None:
					self.record_change(realm_id, spec.local_type, local_id, "create")
					queued += 1
		counts = self.pusher.push(realm_id, look_up_existing=True)
		counts["queued"] = queued
		return counts

	def push(self, realm_id: str, *, limit: int | None = None) -> dict[str, int]:
		"""Send the realm's due outbox entries to QBO (sync/push.py)."""
		return self.pusher.push(realm_id, limit=limit)

	# ------------------------------------------------------------------------------------------ inbound
	def pull(self, realm_id: str) -> dict[str, int]:
		"""Pull QBO changes since the realm cursor (sync/pull.py)."""
		return self.puller.pull(realm_id)

	def pull_events(self, realm_id: str, events: Iterable) -> dict[str, int]:
		"""Apply the records named by webhook events of THIS realm only (sync/pull.py)."""
		return self.puller.pull_events(realm_id, events)

	def initial_import(self, realm_id: str, entities: Iterable[str] = ("Customer", "Item")) -> dict[str, int]:
		"""Bring an existing QBO company's master data into the ledger (sync/pull.py)."""
		return self.puller.initial_import(realm_id, entities)

	@property
	def _last_pull_error(self) -> Exception | None:
		return self.puller._last_pull_error

	# ------------------------------------------------------------------------------------------ go-live
	def go_live_preview(self, realm_id: str) -> GoLivePlan:
		"""What the first import/export would do, before anything is written (sync/golive.py)."""
		return self.golive.go_live_preview(realm_id)

	def apply_go_live(self, realm_id: str, plan: GoLivePlan | dict, progress=None) -> dict[str, int]:
		return self.golive.apply_go_live(realm_id, plan, progress)

	# ------------------------------------------------------------------------- QBO set-up and lists
	def read_preferences(self, realm_id: str) -> dict:
		"""QBO's Preferences and CompanyInfo, summarised onto the realm settings (the mapping follows them)."""
		return self.preferences.read_preferences(realm_id)

	def refresh_references(self, realm_id: str, types: tuple[str, ...] | None = None) -> dict[str, int]:
		"""Read QBO's reference lists (classes, locations, terms, tax codes, payment methods, accounts)."""
		return self.references.refresh_references(realm_id, *(() if types is None else (types,)))

	def suggest_mapping(self, realm_id: str, ref_type: str, local_names: list[str]) -> dict[str, str]:
		"""A suggested local-name → QBO-Id mapping by name (a person confirms it on the realm form)."""
		return self.references.suggest_mapping(realm_id, ref_type, local_names)

	# ------------------------------------------------------------------------------- masters per realm
	def export_master(self, realm_id: str, local_type: str, local_id: str) -> OutboxEntry:
		"""A person's explicit choice to send one customer or item to this realm (see EngineServices)."""
		return self.services.export_master(realm_id, local_type, local_id)

	def masters_elsewhere(self, realm_id: str) -> list[dict]:
		"""Customers and items already in this realm's QuickBooks that this realm's Company does not use but
		another Company does (sent before masters were kept per entity). Only those the sync SENT there: a
		customer this QuickBooks company had already, linked to the same (global) ERPNext customer by the pull
		or the go-live, is the bookkeeper's own record, not a crossover. Reported for a person to clean up in
		QuickBooks, never deleted or made inactive by the sync: the bookkeeper may have used them there."""
		ctx = self.context(realm_id)
		out: list[dict] = []
		for local_type in (C.CUSTOMER, C.ITEM):
			for m in self.store.list_mappings(realm_id, local_type):
				if m.status != C.ACTIVE or m.origin == C.ORIGIN_QBO:
					continue  # one this QuickBooks company had already (linked, not sent): not ours to report
				users = self.ledger.used_by(local_type, m.local_id)
				if users and ctx.company not in users:
					out.append({"local_type": local_type, "local_id": m.local_id, "qbo_entity": m.qbo_entity,
						"qbo_id": m.qbo_id, "used_by": sorted(users)})
		return out

	@staticmethod
	def format_masters_elsewhere(rows: list[dict], company: str) -> str:
		"""Plain words for a bookkeeper, naming the next step."""
		if not rows:
			return f"Every customer and item in this QuickBooks company is used by {company}. Nothing to do."
		lines = [f"{len(rows)} customer(s)/item(s) in this QuickBooks company are used only by another company, "
			f"not by {company}. The sync will not change them. Make them inactive in QuickBooks if nobody "
			"there uses them:"]
		for r in rows:
			what = LABELS.get(r["local_type"], r["local_type"])
			lines.append(f"  {what} {r['local_id']} (QuickBooks Id {r['qbo_id']}): used by {', '.join(r['used_by'])}")
		return "\n".join(lines)

	def sync(self, realm_id: str) -> dict[str, dict[str, int]]:
		"""One full cycle: pull first (so merges see QBO's latest), then push."""
		return {"pull": self.pull(realm_id), "push": self.push(realm_id)}

	# --------------------------------------------------------------------------------------- conflicts
	def resolve_conflict(self, conflict_id: str, action: str, by: str) -> None:
		"""Act on a review item (sync/review.py; button labels in constants.ACTION_LABELS)."""
		return self.reviewer.resolve_conflict(conflict_id, action, by)

	def _park(self, ctx, e, kind, reason, actions, **kw):
		"""Park an entry with a review item (sync/books.py; used by the reliability checks' own tests)."""
		return self.books.park(ctx, e, kind, reason, actions, **kw)

	# ------------------------------------------------------------------------------------------ report
	def report(self, realm_id: str, year: int, month: int) -> dict:
		from nexora_qbo.sync.report import month_report

		return month_report(self.store, realm_id, year, month)

	# ------------------------------------------------------------------------------------------ AR tie-out
	def tie_out(self, realm_id: str, as_of: date | None = None, *, persist: bool = True):
		"""The AR tie-out of the realm (sync/tieout.py): every open document and customer compared, each
		difference with its cause; unexplained ones become review items (refreshed, resolved when gone).
		`persist` keeps the summary as the realm's tie-out of `as_of` (default: today, UTC), replacing an
		earlier run of that day. Runs under the realm lock, so it never sees a push half done."""
		from nexora_qbo.sync.tieout import TieOutRun

		as_of = as_of or self.clock.now().date()
		with self.lock.hold(realm_id, timeout=self.lock_timeout):
			run = TieOutRun(self.services, realm_id, as_of)
			result = run.compare()
			run.reconcile_items(result)
			if persist:
				self.store.save_tie_out(realm_id, as_of, result.summary())
		return result



__all__ = ["RealmContext", "SyncEngine"]
