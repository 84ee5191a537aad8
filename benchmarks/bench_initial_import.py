"""Initial import scaling (N customers from QBO into an empty ledger) and a delta pull with the ledger full.

For each N: a sandbox realm seeded with N customers (bench_delta_pull.seed_customers, rate limits off), an
empty SQLite store + ledger, then SyncEngine.initial_import(realm, ("Customer",)). Measured: wall seconds,
ms per customer, and the import's peak traced memory (tracemalloc, a separate run of the same import, since
tracing slows it), in kB per customer. With the ledger holding N customers, a bookkeeper then adds 10
customers in QBO and SyncEngine.pull brings them in (a CDC delta: the first pull after the import, which
settles the cursor, is not measured): ms per new record.
The issue's figures before the indexes: 500 / 1k / 2k / 4k customers took 1.9 / 7.5 / 28.7 / 138 s (quadratic,
+3.9 kB per customer), and a delta pull with 10k customers cost 179 ms per new record.

	bash scripts/bench.sh bench_initial_import.py [--sizes 500,1000,2000,4000,10000] [--write]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import tracemalloc
from pathlib import Path

from _common import Rig, Stopwatch, load_average, stamp, table, unlimited, write_section
from bench_delta_pull import seed_customers

from nexora_qbo.sandbox.bookkeeper import Bookkeeper
from nexora_qbo.sandbox.server import SandboxServer
from nexora_qbo.sync import constants as C


def one(n: int, trace: bool) -> dict:
	sb = SandboxServer(seed=5, speed=1.0)
	try:
		rid = sb.create_realm()
		unlimited(sb, rid)
		seed_customers(sb, rid, n)
		rig = Rig(sb, Path(tempfile.mkdtemp(prefix="bench-import-")))
		rig.connect(rid, "Bench Staffing Inc")
		gc.collect()
		if trace:
			tracemalloc.start()
		with Stopwatch() as sw:
			counts = rig.engine.initial_import(rid, ("Customer",))
		out = {"seconds": sw.seconds, "counts": counts}
		if trace:
			_, peak = tracemalloc.get_traced_memory()
			tracemalloc.stop()
			out["peak_kb"] = peak / 1024
		else:
			# the first pull after the import re-reads the import's window (CDC overlap): not measured; the clock
			# moves past the overlap first, so the measured pull sees only the 10 new customers
			sb.advance_clock(C.CDC_OVERLAP.total_seconds() + 60)
			rig.engine.pull(rid)
			sb.advance_clock(120)
			bk = Bookkeeper(sb, rid)
			for i in range(10):
				bk.create("Customer", {"DisplayName": f"Delta Customer {i}", "PrimaryEmailAddr": {"Address": f"d{i}@delta.example"}})
			sb.advance_clock(30)
			with Stopwatch() as pull:
				rig.engine.pull(rid)
			out["pull_ms_per_record"] = pull.seconds * 1000 / 10
		rig.close()
		return out
	finally:
		sb.stop()


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--sizes", default="500,1000,2000,4000,10000")
	ap.add_argument("--write", action="store_true")
	args = ap.parse_args()
	load0 = load_average()
	rows = []
	for n in (int(x) for x in args.sizes.split(",")):
		timed, traced = one(n, trace=False), one(n, trace=True)
		rows.append([n, f"{timed['seconds']:.2f}", f"{1000 * timed['seconds'] / n:.2f}",
			f"{traced['peak_kb'] / 1024:.1f} MB", f"{traced['peak_kb'] / n:.2f}", f"{timed['pull_ms_per_record']:.1f}",
			", ".join(f"{k} {v}" for k, v in sorted(timed["counts"].items()))])
		print(rows[-1], flush=True)
	text = table(["customers in QBO", "import s", "ms/customer", "peak traced memory", "kB/customer",
		"then a delta pull: ms per new record (10 new)", "import counts"], rows)
	print(text)
	if args.write:
		cmd = f"bash scripts/bench.sh bench_initial_import.py --sizes {args.sizes}"
		write_section("initial-import", "Initial import scaling and a delta pull with a full ledger (issue 9)",
			stamp(cmd, load0) + "\n" + __doc__.split("\n\n")[1] + "\n\n" + text)


if __name__ == "__main__":
	main()
