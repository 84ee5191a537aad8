"""Realms scale (issue 9): N realms pushed by N worker processes at once, against one realm alone.

One sandbox enforcing QBO's limits per realm (10/s, 500/min, 40 batch/min) on a ×S clock; per realm its own
SQLite store + ledger and D 2-line invoices whose customers and items are already in QBO. Each worker is a
forked process running SyncEngine.push for its realm with its own InMemoryPacer (8/s, 450/min, 38 batch/min)
and FileRealmLock: nothing is shared between realms but the sandbox (as in production, where QBO's limits
and our lock and pacer are all per realm). Measured in sandbox time: invoices/min per realm and in total;
the scale factor is the total over N realms ÷ the one-realm figure (goal ≥ 0.9·N).

	bash scripts/bench.sh bench_realms_scale.py [--realms 1,2] [--docs 1200] [--speed 2] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _common import Rig, load_average, stamp, table, unlimited, write_section

from nexora_qbo.qbo import RetryPolicy
from nexora_qbo.qbo.pacer import DEFAULT_LIMITS, InMemoryPacer
from nexora_qbo.sandbox.server import SandboxServer


def prepare(sb: SandboxServer, workdir: Path, docs: int, speed: float) -> tuple[str, Rig]:
	scaled_sleep = lambda s: time.sleep(max(0.0, s) / speed)
	rig = Rig(sb, workdir, pacer=InMemoryPacer(DEFAULT_LIMITS, clock=sb.clock.timestamp, sleep=scaled_sleep),
		retry=RetryPolicy(sleep=scaled_sleep))
	rid = sb.create_realm()
	co = f"Bench Staffing {rid[-4:]}"
	rig.connect(rid, co)
	unlimited(sb, rid)
	customers = [rig.ledger.create_customer(co, f"Bench Customer {i:03d}", email=f"c{i}@b{rid[-4:]}.example") for i in range(10)]
	items = [rig.ledger.create_item(co, f"Bench Hours {rid[-4:]} {i}", rate="40.00") for i in range(4)]
	for c in customers:
		rig.engine.export_master(rid, "customer", c)
	for it in items:
		rig.engine.export_master(rid, "item", it)
	rig.engine.push(rid)
	for i in range(docs):
		rig.ledger.submit_invoice(co, customers[i % 10], [
			{"item": items[i % 4], "qty": str(8 + i % 5), "rate": "40.00"},
			{"item": items[(i + 1) % 4], "qty": "2", "rate": "41.00"}], rig.clock.now().date())
	rig.client_for(rid, None)  # tokens issued now, in this process (the sandbox serves from here)
	sb.set_options(rid, per_second=10, per_minute=500, batch_per_minute=40)
	sb.realm(rid).limiter.reset()
	return rid, rig


def run(n: int, docs: int, speed: float) -> dict:
	sb = SandboxServer(seed=3, speed=speed)
	try:
		base = Path(tempfile.mkdtemp(prefix="bench-realms-"))
		realms = [prepare(sb, base / f"r{k}", docs, speed) for k in range(n)]
		sb.advance_clock(61)
		for _, rig in realms:
			rig.store.close()
		pids = []
		for k, (rid, rig) in enumerate(realms):
			pid = os.fork()
			if pid == 0:  # worker: its own store connection, lock dir, pacer; the parent keeps serving
				code = 1
				try:
					tokens = rig.tokens
					mine = Rig(sb, rig.workdir, pacer=rig.pacer, retry=rig.retry)
					mine.tokens = tokens
					t0 = sb.clock.timestamp()
					counts = mine.engine.push(rid)
					t1 = sb.clock.timestamp()
					(base / f"out{k}.json").write_text(json.dumps({"docs": counts.get("done", 0), "sandbox_s": t1 - t0}))
					code = 0
				finally:
					os._exit(code)
			pids.append(pid)
		for pid in pids:
			os.waitpid(pid, 0)
		outs = [json.loads((base / f"out{k}.json").read_text()) for k in range(n)]
		throttled = sum(sb.stats(rid)["throttled"] for rid, _ in realms)
		span = max(o["sandbox_s"] for o in outs)
		return {"realms": n, "docs": sum(o["docs"] for o in outs), "per_realm": [60 * o["docs"] / o["sandbox_s"] for o in outs],
			"total_per_min": 60 * sum(o["docs"] for o in outs) / span, "throttled": throttled, "span": span}
	finally:
		sb.stop()


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--realms", default="1,2")
	ap.add_argument("--docs", type=int, default=1200)
	ap.add_argument("--speed", type=float, default=2.0)
	ap.add_argument("--write", action="store_true")
	args = ap.parse_args()
	load0 = load_average()
	results = [run(int(n), args.docs, args.speed) for n in args.realms.split(",")]
	one = results[0]["total_per_min"] / results[0]["realms"]
	rows = [[r["realms"], r["docs"], ", ".join(f"{x:.0f}" for x in r["per_realm"]), f"{r['total_per_min']:.0f}",
		f"{r['span']:.0f}", r["throttled"], f"{r['total_per_min'] / one:.2f}× (goal ≥ {0.9 * r['realms']:.1f}×)"] for r in results]
	text = table(["realms = workers", "invoices", "invoices/min per realm", "total invoices/min", "sandbox s (slowest)",
		"429s", "scale vs one realm"], rows)
	print(text)
	if args.write:
		cmd = f"bash scripts/bench.sh bench_realms_scale.py --realms {args.realms} --docs {args.docs} --speed {args.speed:g}"
		write_section("realms-scale", "Realms scale: N realms on N workers (issue 9)",
			stamp(cmd, load0) + "\n" + __doc__.split("\n\n")[1] + "\n\n" + text)


if __name__ == "__main__":
	main()
