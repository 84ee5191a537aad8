"""Shared plumbing for the benchmark scripts: the engine on SQLite against a local sandbox, byte/request
counters, machine facts, and writing one script's section of BENCHMARKS.md (between its own markers, so the
scripts can run in any order and re-runs replace their numbers instead of appending).

Benchmarks are not tests: they print and record numbers; nothing here asserts a speed.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
	sys.path.insert(0, str(REPO))

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sandbox.server import SandboxServer
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.ports import RealmSettings
from nexora_qbo.sync.runtime import FileRealmLock
from nexora_qbo.sync.sqlite_ledger import SqliteLedger
from nexora_qbo.sync.sqlite_store import SqliteStore

BENCHMARKS_MD = REPO / "BENCHMARKS.md"
HEADER = """# Benchmarks

Numbers measured by the scripts in `benchmarks/` (one script per section; each script rewrites only its own
section, between its markers). They are measurements on the machine named in each section, not targets, and
nothing in CI asserts them. Each section gives its command; run it from the repository root on a fresh
machine (`scripts/bench.sh` creates `.venv/` with the app, like the demo). A run prints its figures; add
`--write` to refresh the section here (nothing is rewritten unless asked).

Everything runs locally: the engine and the QBO client talk real HTTP to the sandbox on 127.0.0.1, with the
SQLite reference store/ledger on local disk. Time that is "sandbox time" runs on the sandbox's scaled clock
(speed ×N means one real second is N sandbox seconds), so QBO's per-minute limits are reached in seconds.
"""


class SandboxTime:
	"""The engine's Clock port on the sandbox clock."""

	def __init__(self, sandbox: SandboxServer):
		self.sandbox = sandbox

	def now(self):
		return self.sandbox.clock.now()

	def seconds(self) -> float:
		return self.sandbox.clock.timestamp()


class SandboxTokens:
	def __init__(self, sandbox: SandboxServer, realm_id: str):
		self.sandbox, self.realm_id = sandbox, realm_id
		self.client_id, _ = sandbox.register_app(redirect_uri="http://127.0.0.1/bench")
		self.tokens = sandbox.issue_tokens(realm_id, self.client_id)

	def access_token(self) -> str:
		return self.tokens["access_token"]

	def refresh(self, stale=None):
		self.tokens = self.sandbox.issue_tokens(self.realm_id, self.client_id)
		return self.tokens


class Meter:
	"""Counts HTTP requests and bytes on a requests.Session (a response hook: every attempt counts)."""

	def __init__(self):
		self.requests = 0
		self.bytes_in = 0
		self.bytes_out = 0
		self.statuses: dict[int, int] = {}

	def hook(self, response, *args, **kwargs):
		self.requests += 1
		self.bytes_in += len(response.content or b"")
		body = response.request.body
		self.bytes_out += len(body or b"") if not isinstance(body, str) else len(body.encode())
		self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1

	def session(self) -> requests.Session:
		s = requests.Session()
		s.hooks["response"].append(self.hook)
		return s

	def snapshot(self) -> tuple[int, int, int]:
		return self.requests, self.bytes_in, self.bytes_out


class Rig:
	"""One engine (SQLite store + ledger in `workdir`) serving realms of one sandbox."""

	def __init__(
		self,
		sandbox: SandboxServer,
		workdir: Path,
		*,
		pacer=None,
		retry: RetryPolicy | None = None,
		meter: Meter | None = None,
	):
		self.sb = sandbox
		self.workdir = Path(workdir)
		self.workdir.mkdir(parents=True, exist_ok=True)
		self.clock = SandboxTime(sandbox)
		self.store = SqliteStore(str(self.workdir / "sync.db"))
		self.ledger = SqliteLedger(self.store, self.clock)
		self.pacer = pacer
		self.retry = retry
		self.meter = meter
		self.tokens: dict[str, SandboxTokens] = {}
		self.engine = SyncEngine(
			self.store,
			self.ledger,
			self.client_for,
			FileRealmLock(str(self.workdir / "locks")),
			self.clock,
			lock_timeout=60,
		)

	def client_for(self, realm_id: str, on_exchange) -> QBOClient:
		tokens = self.tokens.setdefault(realm_id, SandboxTokens(self.sb, realm_id))
		return QBOClient(
			realm_id,
			base_url=self.sb.base_url,
			tokens=tokens,
			pacer=self.pacer,
			on_exchange=on_exchange,
			retry=self.retry or RetryPolicy(max_attempts=6),
			session=self.meter.session() if self.meter else None,
			clock=self.clock.now,
		)

	def connect(self, realm_id: str, company: str, **settings) -> None:
		seed = self.sb.seed_info(realm_id)
		accounts = seed["accounts"]
		self.engine.connect(
			RealmSettings(
				realm_id=realm_id,
				company=company,
				default_income_account_id=accounts["Services"],
				default_expense_account_id=accounts["Cost of Goods Sold"],
				default_asset_account_id=accounts["Inventory Asset"],
				default_deposit_account_id=accounts["Undeposited Funds"],
				terms_map={"Net 30": seed["terms"]["Net 30"], "Net 15": seed["terms"]["Net 15"]},
				**settings,
			)
		)

	def close(self) -> None:
		self.store.close()


def unlimited(sandbox: SandboxServer, realm_id: str) -> None:
	sandbox.set_options(realm_id, per_second=0, per_minute=0, batch_per_minute=0)


def machine() -> str:
	cpu = ""
	try:
		for line in Path("/proc/cpuinfo").read_text().splitlines():
			if line.startswith("model name"):
				cpu = line.split(":", 1)[1].strip()
				break
	except OSError:
		pass
	return (
		f"{os.cpu_count()} cores ({cpu or platform.processor() or 'unknown CPU'}), {platform.system()} "
		f"{platform.release()}, Python {platform.python_version()}"
	)


def git_rev() -> str:
	try:
		return (
			subprocess.run(
				["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
				capture_output=True,
				text=True,
				check=True,
			).stdout.strip()
			+ " + working tree"
		)
	except (OSError, subprocess.CalledProcessError):
		return "unknown"


def load_average() -> str:
	"""The 1/5/15-minute load average (other engineers' test runs share the machine: say so next to a figure)."""
	try:
		return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
	except OSError:
		return "load average unknown"


def stamp(command: str, load_before: str | None = None) -> str:
	now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
	load = f"{load_before} before, {load_average()} after" if load_before else load_average()
	return f"*Measured {now} on {machine()} ({load}); code {git_rev()}. Command: `{command}`*\n"


def write_section(name: str, title: str, body: str) -> None:
	"""Replace (or append) the section between `<!-- bench:name -->` markers in BENCHMARKS.md."""
	start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
	block = f"{start}\n## {title}\n\n{body.rstrip()}\n{end}"
	text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else HEADER
	pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
	text = (
		pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
	)
	BENCHMARKS_MD.write_text(text if text.endswith("\n") else text + "\n")


def table(headers: list[str], rows: list[list]) -> str:
	out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
	out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
	return "\n".join(out) + "\n"


class Stopwatch:
	def __enter__(self):
		self.t0 = time.perf_counter()
		return self

	def __exit__(self, *exc):
		self.seconds = time.perf_counter() - self.t0
