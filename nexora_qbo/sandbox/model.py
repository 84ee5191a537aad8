"""The per-realm store: records, id counters, the requestid replay cache and per-realm knobs.

Why one `RLock` per realm: QBO realms are independent companies; a write and its side effects (a Payment
bumping every Invoice it touches, §1) must be atomic, while different realms never contend.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from . import constants as C


@dataclass
class Record:
	"""One QBO object. `data` is exactly what QBO would answer; `extra` holds hidden server state."""

	entity: str
	data: dict
	seq: int
	updated: datetime
	deleted: bool = False
	extra: dict = field(default_factory=dict)

	@property
	def id(self) -> str:
		return self.data["Id"]

	def snapshot(self) -> dict:
		return copy.deepcopy(self.data)


@dataclass
class RealmOptions:
	"""Company set-up chosen at realm creation (mirrored into Preferences) plus sandbox knobs."""

	company_name: str = "Nexora Staffing Sandbox"
	multicurrency: bool = False
	home_currency: str = "USD"
	track_classes: bool = True
	class_per_line: bool = False
	track_departments: bool = True
	custom_txn_numbers: bool = False
	automated_sales_tax: bool = False  # US AST (Preferences.TaxPrefs.PartnerTaxEnabled), see ast.py
	per_second: int = C.DEFAULT_PER_SECOND
	per_minute: int = C.DEFAULT_PER_MINUTE
	batch_per_minute: int = C.DEFAULT_BATCH_PER_MINUTE
	cdc_cap: int = C.CDC_MAX_OBJECTS
	refresh_grace_seconds: int = C.REFRESH_GRACE_SECONDS
	# mix (default: QBO's, XML first then JSON, alternating, §5) | json | xml | xml403 | random
	throttle_format: str = C.DEFAULT_THROTTLE_FORMAT
	emails_per_day: int = C.SANDBOX_EMAILS_PER_DAY  # §5, counted by /invoice/<id>/send
	retry_after: int | None = None  # QBO documents no Retry-After; off by default (§5)

	@classmethod
	def from_dict(cls, values: dict | None) -> "RealmOptions":
		opts = cls()
		for key, value in (values or {}).items():
			if not hasattr(opts, key):
				raise ValueError(f"unknown realm option {key!r}")
			setattr(opts, key, value)
		return opts

	def to_dict(self) -> dict:
		return dict(self.__dict__)


class Realm:
	def __init__(self, realm_id: str, options: RealmOptions, seed: int = 0):
		self.id = realm_id
		self.options = options
		self.seed = seed
		self.lock = threading.RLock()
		self.records: dict[str, dict[str, Record]] = {}
		self.counters: dict[str, int] = {}
		self.doc_numbers: dict[str, int] = {}
		self.seq = 0
		self.request_cache: dict[str, tuple[int, bytes, str]] = {}
		self.rates: dict[tuple[str, date], Decimal] = {}
		self.throttles_sent = 0  # picks the next shape when throttle_format is "mix"
		self.emails_sent: dict[str, int] = {}  # company date -> sends (documents.send)
		self.webhook: dict | None = None
		self.stats: dict = {
			"requests": 0,
			"by_status": {},
			"throttled": 0,
			"faults_injected": {},
			"replays": 0,
			"webhooks_sent": 0,
			"webhooks_failed": 0,
		}
		# set by the server: FaultInjector and RateLimiter
		self.faults = None
		self.limiter = None

	# ---- ids and records -------------------------------------------------------------------------------
	def next_id(self, entity: str) -> str:
		n = self.counters.get(entity, 0) + 1
		table = self.records.get(entity, {})
		while str(n) in table:
			n += 1
		self.counters[entity] = n
		return str(n)

	def next_doc_number(self, entity: str) -> str:
		n = self.doc_numbers.get(entity, C.DOC_NUMBER_START - 1) + 1
		self.doc_numbers[entity] = n
		return str(n)

	def next_seq(self) -> int:
		self.seq += 1
		return self.seq

	def table(self, entity: str) -> dict[str, Record]:
		return self.records.setdefault(entity, {})

	def get(self, entity: str, record_id: str, include_deleted: bool = False) -> Record | None:
		rec = self.records.get(entity, {}).get(str(record_id))
		if rec is None or (rec.deleted and not include_deleted):
			return None
		return rec

	def live(self, entity: str) -> list[Record]:
		return [r for r in self.records.get(entity, {}).values() if not r.deleted]

	def counts(self) -> dict[str, int]:
		return {
			name: len([r for r in table.values() if not r.deleted]) for name, table in self.records.items()
		}

	# ---- preferences shortcuts ---------------------------------------------------------------------------
	def prefs(self) -> dict:
		rec = self.get("Preferences", "1")
		return rec.data if rec else {}

	def pref(self, *path, default=None):
		node = self.prefs()
		for key in path:
			if not isinstance(node, dict) or key not in node:
				return default
			node = node[key]
		return node

	@property
	def multicurrency(self) -> bool:
		return bool(self.pref("CurrencyPrefs", "MultiCurrencyEnabled", default=False))

	@property
	def home_currency(self) -> str:
		return self.pref("CurrencyPrefs", "HomeCurrency", "value", default=self.options.home_currency)

	def count_stat(self, key: str, sub: str | None = None) -> None:
		if sub is None:
			self.stats[key] = self.stats.get(key, 0) + 1
		else:
			bucket = self.stats.setdefault(key, {})
			bucket[sub] = bucket.get(sub, 0) + 1
