"""Memory of the reads that cover a whole realm: the >30-day delta-pull fallback and the go-live preview.

For each N: a sandbox realm seeded with N customers (bench_delta_pull.seed_customers, rate limits off).
- fallback pull: the ledger already holds the N customers (initial import, not measured), then the pull
  cursor is set 40 days back, so SyncEngine.pull takes the query fallback (every customer changed since the
  cursor is read again, each an echo of what the ledger has) and the Id sweep. Measured: its peak traced
  memory (tracemalloc, in a forked child: only the engine's allocations, not the in-process sandbox's) and, for contrast on the same realm, the peak of what the fallback did before issue 9's
  streaming: `list(query_all("Customer", where=LastUpdatedTime ≥ …))` (every record held at once).
- go-live preview: a fresh engine with an empty ledger, SyncEngine.go_live_preview (every customer becomes
  a plan row: the plan itself grows with N; QBO's records are no longer held), peak traced memory.

	bash scripts/bench.sh bench_stream_memory.py [--sizes 1000,4000,10000] [--write]
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import tempfile
import tracemalloc
from datetime import timedelta
from pathlib import Path

from _common import Rig, Stopwatch, load_average, stamp, table, unlimited, write_section
from bench_delta_pull import seed_customers

from nexora_qbo.qbo.timeutil import format_qbo_datetime
from nexora_qbo.sandbox.server import SandboxServer
from nexora_qbo.sync.ports import Cursor


def _traced(fn):
	"""Run fn in a forked child and trace only the child's allocations: the sandbox serves from this (the
	parent) process's thread, so its own per-page work (it renders every record of a query before slicing a
	page) is not counted as the engine's. Returns (what fn returned, peak kB, seconds)."""
	r, w = os.pipe()
	pid = os.fork()
	if pid == 0:  # child: the engine's objects are copies; the sandbox answers over HTTP from the parent
		os.close(r)
		code = 0
		try:
			gc.collect()
			tracemalloc.start()
			with Stopwatch() as sw:
				result = fn()
			_, peak = tracemalloc.get_traced_memory()
			tracemalloc.stop()
			payload = (result, peak / 1024, sw.seconds)
		except BaseException as exc:  # noqa: BLE001 - reported by the parent
			payload, code = ("error", repr(exc)), 1
		with os.fdopen(w, "wb") as f:
			pickle.dump(payload, f)
		os._exit(code)
	os.close(w)
	with os.fdopen(r, "rb") as f:
		payload = pickle.load(f)
	os.waitpid(pid, 0)
	if payload and payload[0] == "error":
		raise RuntimeError(payload[1])
	return payload


def one(n: int) -> dict:
	sb = SandboxServer(seed=5, speed=1.0)
	try:
		rid = sb.create_realm()
		unlimited(sb, rid)
		seed_customers(sb, rid, n)
		out: dict = {}
		fresh = Rig(sb, Path(tempfile.mkdtemp(prefix="bench-preview-")))
		fresh.connect(rid, "Bench Staffing Inc")
		fresh.engine.client(rid).query("select count(*) from Customer")  # tokens issued here, in the parent
		out["preview_rows"], out["preview_kb"], out["preview_s"] = _traced(
			lambda: len(fresh.engine.go_live_preview(rid).rows))
		fresh.close()

		rig = Rig(sb, Path(tempfile.mkdtemp(prefix="bench-fallback-")))
		rig.connect(rid, "Bench Staffing Inc")
		rig.engine.initial_import(rid, ("Customer",))
		sb.advance_clock(120)
		old = sb.clock.now() - timedelta(days=40)
		rig.store.save_cursor(Cursor(realm_id=rid, changed_since=old))
		counts, out["fallback_kb"], out["fallback_s"] = _traced(lambda: rig.engine.pull(rid))
		out["fallback_counts"] = counts
		client = rig.engine.client(rid)
		where = f"Metadata.LastUpdatedTime >= '{format_qbo_datetime(old)}'"
		out["list_rows"], out["list_kb"], _ = _traced(lambda: len(list(client.query_all("Customer", where=where))))
		rig.close()
		return out
	finally:
		sb.stop()


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--sizes", default="1000,4000,10000")
	ap.add_argument("--write", action="store_true")
	args = ap.parse_args()
	load0 = load_average()
	rows = []
	for n in (int(x) for x in args.sizes.split(",")):
		r = one(n)
		c = r["fallback_counts"]
		rows.append([n, f"{r['fallback_kb'] / 1024:.1f} MB", f"{r['fallback_kb'] / n:.2f}", f"{r['fallback_s']:.1f}",
			", ".join(f"{k} {v}" for k, v in sorted(c.items())), f"{r['list_kb'] / 1024:.1f} MB", f"{r['list_kb'] / n:.2f}",
			f"{r['preview_kb'] / 1024:.1f} MB", f"{r['preview_kb'] / n:.2f}", r["preview_rows"]])
		print(rows[-1], flush=True)
	text = table(["customers", "fallback pull: peak traced", "kB/customer", "s (traced)", "pull counts",
		"before: list(query_all) alone", "kB/customer", "go-live preview: peak traced", "kB/customer", "plan rows"], rows)
	print(text)
	if args.write:
		cmd = f"bash scripts/bench.sh bench_stream_memory.py --sizes {args.sizes}"
		write_section("stream-memory", "Memory of the fallback pull and the go-live preview (issue 9)",
			stamp(cmd, load0) + "\n" + __doc__.split("\n\n")[1] + "\n\n" + text)


if __name__ == "__main__":
	main()
