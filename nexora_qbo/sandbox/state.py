"""Everything one running sandbox owns: the clock, realms, the OAuth authority, the webhook dispatcher."""

from __future__ import annotations

import random
import threading

from . import constants as C
from .auth import Authority
from .chaos import FaultInjector
from .clock import SandboxClock
from .model import Realm, RealmOptions
from .ratelimit import RateLimiter
from .seed import seed_staffing_company
from .webhooks import FORMATS, Dispatcher


class SandboxState:
	def __init__(self, speed: float = 1.0, seed: int = 0, clock: SandboxClock | None = None):
		self.clock = clock or SandboxClock(speed=speed)
		self.seed = seed
		self.realms: dict[str, Realm] = {}
		self.lock = threading.Lock()
		self._ids = random.Random(seed)
		self.auth = Authority(grace_for=self._grace)
		self.webhooks = Dispatcher()
		self.seeds: dict[str, dict] = {}
		# The token endpoint is not per realm; its faults (e.g. a lost refresh answer, §11 failure mode 1)
		# come from their own seeded injector.
		self.oauth_faults = FaultInjector(seed)

	def _grace(self, realm_id: str) -> float:
		realm = self.realms.get(realm_id)
		return realm.options.refresh_grace_seconds if realm else 0

	def create_realm(
		self, options: dict | None = None, seed: bool = True, realm_id: str | None = None
	) -> str:
		opts = RealmOptions.from_dict(options)
		with self.lock:
			rid = realm_id
			while rid is None or rid in self.realms:
				rid = "9341" + "".join(str(self._ids.randrange(10)) for _ in range(11))
			realm_seed = self._ids.randrange(2**31)
			realm = Realm(rid, opts, seed=realm_seed)
			realm.faults = FaultInjector(realm_seed)
			realm.limiter = RateLimiter(opts)
			self.realms[rid] = realm
		if seed:
			with realm.lock:
				self.seeds[rid] = seed_staffing_company(realm, self.clock.now())
		else:
			from .seed import company_info, preferences
			from . import service

			with realm.lock:
				now = self.clock.now()
				service.insert(realm, "Preferences", preferences(realm), now, record_id="1")
				service.insert(realm, "CompanyInfo", company_info(realm), now, record_id="1")
		return rid

	def realm(self, realm_id: str) -> Realm | None:
		return self.realms.get(str(realm_id))

	def configure_webhook(
		self, realm_id: str, url: str | None, verifier_token: str = "", fmt: str = "legacy"
	):
		if fmt not in FORMATS:
			raise ValueError(f"webhook format must be one of {FORMATS}")
		realm = self.realms[realm_id]
		with realm.lock:
			realm.webhook = {"url": url, "verifier_token": verifier_token, "format": fmt} if url else None

	def set_options(self, realm_id: str, values: dict) -> dict:
		realm = self.realms[realm_id]
		with realm.lock:
			for key, value in values.items():
				if not hasattr(realm.options, key):
					raise ValueError(f"unknown realm option {key!r}")
				if key == "throttle_format" and value not in C.THROTTLE_FORMATS:
					raise ValueError(f"throttle_format must be one of {C.THROTTLE_FORMATS}")
				setattr(realm.options, key, value)
			return realm.options.to_dict()
