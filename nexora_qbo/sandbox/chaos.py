"""Seeded, reproducible fault injection per realm.

Kinds: throttle (429 fault), error500, error503, reset (close the socket before answering), lost_response
(commit the change, then close the socket without answering: a retry with the same requestid must get the
committed response, §6), plus added latency. Each API request draws exactly two numbers from
random.Random(seed), so the same seed and request sequence reproduce the same faults. `script` forces the
next kinds in order (for tests that need one specific fault now).
"""

from __future__ import annotations

import random
import threading

KINDS = ("throttle", "error500", "error503", "reset", "lost_response")


class FaultInjector:
	def __init__(self, seed: int = 0):
		self._lock = threading.Lock()
		self.configure({"seed": seed})

	def configure(self, config: dict) -> dict:
		with self._lock:
			current = getattr(self, "config", {})
			merged = {
				"seed": 0,
				"latency_rate": 0.0,
				"latency_ms": [0, 0],
				"script": [],
				**{k: 0.0 for k in KINDS},
				**current,
				**(config or {}),
			}
			unknown = set(merged) - {"seed", "latency_rate", "latency_ms", "script", *KINDS}
			if unknown:
				raise ValueError(f"unknown fault settings {sorted(unknown)}")
			for kind in merged["script"]:
				if kind not in KINDS and kind != "none":
					raise ValueError(f"unknown fault kind {kind!r}")
			if "seed" in (config or {}) or not hasattr(self, "rng"):
				self.rng = random.Random(merged["seed"])
			self.config = merged
			self.script = list(merged["script"])
			self.config["script"] = []
			return dict(self.config)

	def decide(self) -> tuple[str | None, float]:
		"""(fault kind or None, added latency in seconds)."""
		with self._lock:
			u = self.rng.random()
			v = self.rng.random()
			if self.script:
				kind = self.script.pop(0)
				return (None if kind == "none" else kind), 0.0
			kind = None
			acc = 0.0
			for name in KINDS:
				acc += float(self.config.get(name) or 0.0)
				if u < acc:
					kind = name
					break
			latency = 0.0
			rate = float(self.config.get("latency_rate") or 0.0)
			if rate and v < rate:
				lo, hi = self.config.get("latency_ms") or [0, 0]
				latency = (lo + (hi - lo) * ((v / rate) if rate else 0)) / 1000.0
			return kind, latency
