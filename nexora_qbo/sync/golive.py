"""Go-live: the first contact between a Company's books and its QBO realm, previewed, corrected, then run.

Why: the first import or export decides which ERPNext customer IS which QBO customer and what each one
owes. Done blindly, a wrong match merges two clients, and open QBO invoices booked as ordinary invoices
would book their revenue a second time in ERPNext. So the engine first builds a plan (reads only; nothing is
written to the ledger, the store or QBO), a person corrects a match or excludes a record, and the confirmed
plan is what runs:

- masters: each QBO customer/item is linked to the local one it matches (with the key and why) or imported;
  local masters the Company uses that QBO lacks are created there;
- open documents dated before the go-live date (or all that are open, when no date was chosen; the date then
  becomes QBO's today) come in as OPENING balances, the ERPNext way: one line for the open balance against the
  company's Temporary Opening account (records: `opening: True`), with QBO's DocNumber, mapped to the QBO
  record so a later QBO payment applies to it and the first tie-out is zero; unapplied QBO payments and open
  credit memos come in as opening credits;
- local documents dated on/after the go-live date that QBO lacks are sent (the first export).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities import BY_QBO, ENTITIES
from nexora_qbo.sync.errors import SyncError
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.ports import Cursor, Mapping
from nexora_qbo.sync.services import Collaborator, EngineServices

if TYPE_CHECKING:
	from nexora_qbo.sync.push import Pusher
	from nexora_qbo.sync.services import RealmContext

# plan row actions
LINK, IMPORT, CREATE, OPENING, EXCLUDE = "link", "import", "create", "opening", "exclude"
ACTIONS = (LINK, IMPORT, CREATE, OPENING, EXCLUDE)
OPEN_DOCS = (("Invoice", C.INVOICE), ("CreditMemo", C.CREDIT_MEMO), ("Payment", C.PAYMENT))
_KEY_WORDS = {"email": "same email", "tax_id": "same tax id", "name": "same name", "sku": "same SKU"}


@dataclass
class GoLiveRow:
	"""One line of the plan. `action` may be changed by a person before apply: a `link` row pointed at another
	local record (`local_id`), or turned into `import` ("create new"), or any row set to `exclude`."""

	entity: str  # QBO entity (Customer, Item, Invoice, CreditMemo, Payment)
	local_type: str
	action: str
	qbo_id: str | None = None
	qbo_name: str | None = None  # DisplayName / Name / DocNumber
	local_id: str | None = None
	reason: str = ""
	amount: Decimal | None = None  # open balance (opening rows)
	customer: str | None = None  # QBO customer name (opening rows), for the opening AR
	txn_date: str | None = None


@dataclass
class GoLivePlan:
	realm_id: str
	company: str
	go_live_date: date
	rows: list[GoLiveRow] = field(default_factory=list)
	opening_ar: dict[str, Decimal] = field(default_factory=dict)  # QBO customer name -> open balance
	date_chosen: bool = True  # False: no go-live date was set; the apply stores this one

	def to_dict(self) -> dict:
		return R.plain(asdict(self))

	@classmethod
	def from_dict(cls, data: dict) -> GoLivePlan:
		rows = [GoLiveRow(**{**r, "amount": None if r.get("amount") is None else R.money(r["amount"])})
			for r in data.get("rows") or []]
		return cls(realm_id=data["realm_id"], company=data["company"],
			go_live_date=date.fromisoformat(str(data["go_live_date"])[:10]), rows=rows,
			opening_ar={k: R.money(v) for k, v in (data.get("opening_ar") or {}).items()},
			date_chosen=bool(data.get("date_chosen", True)))


def opening_record(local_type: str, obj: dict, customer: str, balance: Decimal, home_currency: str) -> dict:
	"""The canonical opening document for an open QBO record: one line for the open balance, no items, no
	tax (the revenue is already in the opening books; only what is still owed comes in)."""
	number = obj.get("DocNumber") or obj.get("PaymentRefNum") or obj.get("Id")
	what = {C.INVOICE: "invoice", C.CREDIT_MEMO: "credit memo", C.PAYMENT: "unapplied payment"}[local_type]
	currency = ((obj.get("CurrencyRef") or {}).get("value")) or home_currency
	if local_type == C.PAYMENT:
		return R.normalize(C.PAYMENT, {"customer": customer, "txn_date": obj.get("TxnDate"), "total": balance,
			"currency": currency, "exchange_rate": obj.get("ExchangeRate") or 1, "reference": obj.get("PaymentRefNum"),
			"applications": [], "unapplied": balance, "opening": True})
	return R.normalize(local_type, {
		"doc_number": obj.get("DocNumber"), "customer": customer, "txn_date": obj.get("TxnDate"),
		"due_date": obj.get("DueDate") if local_type == C.INVOICE else None, "currency": currency,
		"exchange_rate": obj.get("ExchangeRate") or 1, "tax_total": 0, "total": balance, "opening": True,
		"memo": f"Opening balance of QuickBooks {what} {number}",
		"lines": [{"item": None, "description": f"Opening balance of QuickBooks {what} {number} of {obj.get('TxnDate')}",
			"qty": 1, "rate": balance, "amount": balance}],
	})


def open_balance(entity: str, obj: dict) -> Decimal:
	if entity == "Payment":
		return R.money(obj.get("UnappliedAmt"))
	if entity == "CreditMemo":
		return R.money(obj.get("RemainingCredit", obj.get("Balance")))
	return R.money(obj.get("Balance"))


class GoLive(Collaborator):
	"""The go-live preview and its application (engine facade: SyncEngine.go_live_preview / apply_go_live)."""

	def __init__(self, services: EngineServices, books: Books, pusher: Pusher):
		super().__init__(services)
		self.books, self.pusher = books, pusher

	def go_live_preview(self, realm_id: str) -> GoLivePlan:
		"""What the first import/export would do, before anything is written (QBO is only read)."""
		ctx = self.services.context(realm_id)
		with self.services.hold(realm_id), audit.operation(C.INBOUND):
			seen_time: list[datetime] = []
			rows: list[GoLiveRow] = []
			names: dict[str, str] = {}
			for entity in ("Customer", "Item"):  # streamed page by page: only the plan's rows are kept, not QBO's records
				rows += self._plan_masters(ctx, entity, ctx.client.query_all(entity, include_inactive=False,
					on_page=lambda p: p.server_time and seen_time.append(p.server_time)), names)
			chosen = ctx.settings.sync_start_date
			start = chosen or qbo_date(min(seen_time) if seen_time else self.clock.now())
			plan = GoLivePlan(realm_id=realm_id, company=ctx.company, go_live_date=start, date_chosen=chosen is not None)
			plan.rows = rows
			plan.rows += self._plan_local_masters(ctx, plan.rows)
			for entity, local_type in OPEN_DOCS:
				objs = ctx.client.query_all(entity, where=None if not chosen else f"TxnDate < '{start.isoformat()}'")
				for obj in objs:
					row = self._plan_opening(ctx, entity, local_type, obj, names, start)
					if row is not None:
						plan.rows.append(row)
			plan.rows += self._plan_local_documents(ctx, start)
		plan.opening_ar = opening_ar(plan.rows)
		return plan

	def _plan_masters(self, ctx: RealmContext, entity: str, objs: Iterable[dict], names: dict[str, str]) -> list[GoLiveRow]:
		spec = BY_QBO[entity]
		rows: list[GoLiveRow] = []
		taken: set[str] = set()
		for obj in objs:
			qid = str(obj.get("Id"))
			name = obj.get("DisplayName") or obj.get("Name")
			if entity == "Customer":
				names[qid] = name
			m = self.store.get_mapping_by_qbo(ctx.realm_id, spec.qbo_entity, qid)
			if m is not None:
				continue  # linked already: nothing to decide
			remote_c = spec.from_qbo(obj, ctx)
			local_id = self.ledger.find_match(ctx.company, spec.local_type, remote_c)
			if local_id is not None and (local_id in taken
					or self.store.get_mapping(ctx.realm_id, spec.local_type, local_id) is not None):
				local_id = None
			if local_id is None:
				rows.append(GoLiveRow(entity, spec.local_type, IMPORT, qid, name, None,
					f"No {LABELS[spec.local_type]} in ERPNext matches it: it will be created in ERPNext."))
				continue
			taken.add(local_id)
			local = self.ledger.get(ctx.company, spec.local_type, local_id) or {}
			rows.append(GoLiveRow(entity, spec.local_type, LINK, qid, name, local_id, match_reason(spec.local_type, remote_c, local)))
		return rows

	def _plan_local_masters(self, ctx: RealmContext, rows: list[GoLiveRow]) -> list[GoLiveRow]:
		linked = {(r.local_type, r.local_id) for r in rows if r.action == LINK}
		out = []
		for local_type in (C.CUSTOMER, C.ITEM):
			for local_id in self.ledger.list_ids(ctx.company, local_type):
				if (local_type, local_id) in linked or self.store.get_mapping(ctx.realm_id, local_type, local_id):
					continue
				out.append(GoLiveRow(C.QBO_ENTITY[local_type], local_type, CREATE, None, None, local_id,
					f"Used by {ctx.company}'s documents and not found in QuickBooks: it will be created there."))
		return out

	def _plan_opening(self, ctx: RealmContext, entity: str, local_type: str, obj: dict, names: dict[str, str],
			start: date) -> GoLiveRow | None:
		balance = open_balance(entity, obj)
		if balance <= 0 or str(obj.get("TxnDate") or "") >= start.isoformat() and ctx.settings.sync_start_date:
			return None
		if self.store.get_mapping_by_qbo(ctx.realm_id, entity, str(obj.get("Id"))) is not None:
			return None
		cust_id = str((obj.get("CustomerRef") or {}).get("value"))
		customer = names.get(cust_id) or (obj.get("CustomerRef") or {}).get("name") or cust_id
		what = {C.INVOICE: "open invoice", C.CREDIT_MEMO: "unused credit", C.PAYMENT: "unapplied payment"}[local_type]
		number = obj.get("DocNumber") or obj.get("PaymentRefNum") or obj.get("Id")
		return GoLiveRow(entity, local_type, OPENING, str(obj.get("Id")), str(number), None,
			f"{what.capitalize()} of {customer} dated {obj.get('TxnDate')}, {balance} still open: it comes into "
			f"ERPNext as an opening balance (Temporary Opening account), so its revenue is not booked twice.",
			amount=balance, customer=customer, txn_date=obj.get("TxnDate"))

	def _plan_local_documents(self, ctx: RealmContext, start: date) -> list[GoLiveRow]:
		out = []
		for local_type in (C.INVOICE, C.CREDIT_MEMO, C.PAYMENT):
			for local_id in self.ledger.list_ids(ctx.company, local_type, start):
				if self.store.get_mapping(ctx.realm_id, local_type, local_id) is None:
					rec = self.ledger.get(ctx.company, local_type, local_id) or {}
					out.append(GoLiveRow(C.QBO_ENTITY[local_type], local_type, CREATE, None, None, local_id,
						f"Dated {rec.get('txn_date')}, on or after the go-live date: it will be sent to QuickBooks.",
						amount=rec.get("total"), txn_date=rec.get("txn_date")))
		return out

	def apply_go_live(self, realm_id: str, plan: GoLivePlan | dict, progress=None) -> dict[str, int]:
		"""Run exactly the confirmed plan (rows as a person left them), then the first push.

		`progress(done, total, message)`, when given, is told after each row and before the push, so a person
		watching the go-live sees it move (the desk draws a bar from it); it is only told, never asked."""
		if isinstance(plan, dict):
			plan = GoLivePlan.from_dict(plan)
		ctx = self.services.context(realm_id)
		if plan.realm_id != realm_id or plan.company != ctx.company:
			raise SyncError("this go-live plan was made for another QuickBooks company")
		counts: dict[str, int] = {}
		with self.services.hold(realm_id):
			seen_time: list[datetime] = []
			order = {LINK: 0, IMPORT: 0, OPENING: 1, CREATE: 2}
			rows = sorted((r for r in plan.rows if r.action != EXCLUDE), key=lambda r: (order[r.action],
				C.RANK[r.local_type]))
			total = len(rows) + 1  # + the first push
			for done, row in enumerate(rows):
				if progress is not None:
					progress(done, total, f"{C.GO_LIVE_PROGRESS_STEP[row.action]} {LABELS[row.local_type]} "
						f"{row.qbo_name or row.local_id}")
				outcome = self._apply_row(ctx, row, seen_time)
				counts[outcome] = counts.get(outcome, 0) + 1
				self.checkpoint()
			counts["excluded"] = sum(1 for r in plan.rows if r.action == EXCLUDE)
			if not plan.date_chosen and ctx.settings.sync_start_date is None:
				ctx.settings.sync_start_date = plan.go_live_date
				self.store.save_settings(ctx.settings)
			cursor = self.store.get_cursor(realm_id)
			if (cursor is None or cursor.changed_since is None) and seen_time:
				self.store.save_cursor(Cursor(realm_id=realm_id, changed_since=min(seen_time), updated_at=self.clock.now()))
		if progress is not None:
			progress(len(rows), total, "Sending ERPNext documents that QuickBooks does not have yet")
		counts.update({f"push_{k}": v for k, v in self.pusher.push(realm_id).items()})
		return counts

	def _read(self, ctx: RealmContext, entity: str, qbo_id: str, seen_time: list[datetime]) -> dict:
		# a one-row query instead of a read: its answer carries QBO's `time`, which starts the pull cursor
		page = ctx.client.query(f"SELECT * FROM {entity} WHERE Id = '{qbo_id}'")
		if page.server_time is not None:
			seen_time.append(page.server_time)
		if not page.records:
			raise SyncError(f"QuickBooks {entity} {qbo_id} no longer exists")
		return page.records[0]

	def _apply_row(self, ctx: RealmContext, row: GoLiveRow, seen_time: list[datetime]) -> str:
		spec = ENTITIES[row.local_type]
		if row.action == CREATE:
			if spec.kind == "master":
				self.services.export_master(ctx.realm_id, row.local_type, row.local_id)
			elif self.store.get_mapping(ctx.realm_id, row.local_type, row.local_id) is None:
				self.services.record_change(ctx.realm_id, row.local_type, row.local_id, "create")
			return "queued"
		if self.store.get_mapping_by_qbo(ctx.realm_id, spec.qbo_entity, str(row.qbo_id)) is not None:
			return "already_linked"
		with audit.operation(C.INBOUND, row.local_type, row.local_id):
			obj = self._read(ctx, spec.qbo_entity, str(row.qbo_id), seen_time)
			if row.action == OPENING:
				return self._book_opening(ctx, spec, obj)
			remote_c = spec.from_qbo(obj, ctx)
		m = Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id="", qbo_entity=spec.qbo_entity,
			qbo_id=str(obj["Id"]), sync_token=obj.get("SyncToken"), base=obj,
			remote_hash=R.content_hash(spec.local_type, remote_c), status=C.ACTIVE, updated_at=self.clock.now())
		if row.action == LINK and row.local_id:
			local = self.books.get_local(ctx, spec.local_type, row.local_id)
			if local is None:
				raise SyncError(f"{LABELS[spec.local_type]} {row.local_id} chosen for {row.qbo_name} does not exist")
			m.local_id = row.local_id
			with self.store.transaction():
				self.store.save_mapping(m)
				self.books.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "linked", f"go-live: {row.reason}")
			self.books.merge_master_remote(ctx, spec, m, local, remote_c, base_c=None, remote_obj=obj)
			return "linked"
		with self.store.transaction():
			m.local_id = self.ledger.upsert_from_qbo(ctx.company, spec.local_type, None, remote_c)
			self.store.save_mapping(m)
			self.books.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "imported", "go-live")
		return "imported"

	def _book_opening(self, ctx: RealmContext, spec, obj: dict) -> str:
		balance = open_balance(spec.qbo_entity, obj)
		if balance <= 0:
			return "closed_since_preview"  # paid in QuickBooks after the preview: nothing is open any more
		customer = ctx.local_ref("Customer", str((obj.get("CustomerRef") or {}).get("value")))
		record = opening_record(spec.local_type, obj, customer, balance, ctx.settings.home_currency)
		try:
			remote_hash = R.content_hash(spec.local_type, spec.from_qbo(obj, ctx))
		except Exception:  # noqa: BLE001 - e.g. a payment's fully paid pre-go-live invoices are not in ERPNext
			remote_hash = None
		with self.store.transaction():
			local_id = self.ledger.upsert_from_qbo(ctx.company, spec.local_type, None, record)
			self.store.save_mapping(Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id=local_id,
				qbo_entity=spec.qbo_entity, qbo_id=str(obj["Id"]), sync_token=obj.get("SyncToken"), base=obj,
				remote_hash=remote_hash, status=C.ACTIVE, updated_at=self.clock.now(),
				origin=C.ORIGIN_QBO))  # born in QBO: an ERPNext cancel never voids it there by itself
			self.books.event(ctx, C.INBOUND, spec, local_id, str(obj["Id"]), "imported", f"opening balance {balance}")
		return "opening"


def qbo_date(moment: datetime) -> date:
	"""QBO's own date at `moment`: the company's books run on Pacific time (qbo-api.md: QBO's times carry the
	Pacific offset), so at 01:00 UTC it is still yesterday in QBO. A go-live date taken from UTC would put
	that evening's QBO invoices after the go-live (never opened) and before the first pull (never pulled)."""
	if moment.tzinfo is None:
		moment = moment.replace(tzinfo=timezone.utc)
	return moment.astimezone(ZoneInfo(C.QBO_TIMEZONE)).date()


def match_reason(local_type: str, remote: dict, local: dict) -> str:
	"""Why two records are the same, in a bookkeeper's words (the strongest shared stable key)."""
	theirs = R.match_keys(local_type, remote)
	ours = set(R.match_keys(local_type, local))
	for key in theirs:
		if key in ours:
			return f"{_KEY_WORDS.get(key[0], key[0])} ({key[1]}): it will be linked, not created again."
	return "matched by its stable key: it will be linked, not created again."


def opening_ar(rows: list[GoLiveRow]) -> dict[str, Decimal]:
	"""Opening receivable per QBO customer: open invoices minus unused credits and unapplied payments."""
	out: dict[str, Decimal] = {}
	for r in rows:
		if r.action != OPENING or r.amount is None:
			continue
		sign = 1 if r.local_type == C.INVOICE else -1
		out[r.customer or ""] = R.money(out.get(r.customer or "", Decimal(0)) + sign * r.amount)
	return dict(sorted(out.items()))


def format_result(counts: dict[str, int]) -> str:
	"""A finished go-live's counts in words (the plan form's Result and its history show this, never the keys):
	"9 created in ERPNext; 2 opening balances booked; 1 sent to QuickBooks". Nothing done reads as such."""
	parts = [f"{counts[k]} {words}" for k, words in C.GO_LIVE_RESULT_WORDS.items() if counts.get(k)]
	parts += [f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()) if v and k not in C.GO_LIVE_RESULT_WORDS]
	return "; ".join(parts) or "Nothing to do: every row was excluded or already in both books."


def format_plan(plan: GoLivePlan) -> str:
	"""The plan in plain words, for the bench command and the demo."""
	lines = [f"Go-live of {plan.company} on {plan.go_live_date.isoformat()}:"]
	for action in (LINK, IMPORT, CREATE, OPENING, EXCLUDE):
		label = C.GO_LIVE_ACTION_GROUPS[action]
		rows = [r for r in plan.rows if r.action == action]
		if rows:
			lines.append(f"  {label}: {len(rows)}")
			lines += [f"    {r.entity} {r.qbo_name or r.local_id}: {r.reason}" for r in rows]
	if plan.opening_ar:
		lines.append("  Opening receivables by customer:")
		lines += [f"    {name}: {amount}" for name, amount in plan.opening_ar.items()]
	lines.append("Correct a match or exclude a record if needed, then confirm to run exactly this plan.")
	return "\n".join(lines)

