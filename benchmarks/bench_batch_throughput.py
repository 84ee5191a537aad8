"""Push throughput per realm with batch, at 0 ms and 200 ms added latency, against a fair peer (issue 9).

Two realms of ONE sandbox per row, same run, same limits (QBO's: 10 req/s, 500 req/min, 40 batch req/min),
the same N 2-line invoices whose customers and items are already in QBO:
- engine: SyncEngine.push with the client's InMemoryPacer (DEFAULT_LIMITS: 8/s, 450/min, 38 batch/min);
- peer:   a careful hand-written loop: one QBOClient.create per invoice through the same pacer (so it stays
  under 500/min and never meets a 429), for a sandbox-time budget (--peer-minutes).
Latency is added by the sandbox to every request (its fault injector, latency_rate 1.0) in SANDBOX time:
200 ms on the ×S clock is 200/S real ms. The ceiling with batch is 38..40 batches × 30 = 1,140..1,200
invoices/min; the share below is of 1,200.

	bash scripts/bench.sh bench_batch_throughput.py [--speed 2] [--docs 3000] [--peer-minutes 2] [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from _common import Rig, SandboxTokens, Stopwatch, stamp, table, unlimited, write_section

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.qbo.pacer import DEFAULT_LIMITS, InMemoryPacer
from nexora_qbo.sandbox.server import SandboxServer

CEILING = 1200


def restore_limits(sb: SandboxServer, rid: str, latency_ms: float, speed: float) -> None:
	sb.set_options(rid, per_second=10, per_minute=500, batch_per_minute=40)
	sb.realm(rid).limiter.reset()
	real_ms = latency_ms / speed
	sb.set_faults(rid, latency_rate=1.0 if latency_ms else 0.0, latency_ms=[real_ms, real_ms])


def steady_rate(rig: Rig, realm: str) -> float | None:
	"""Invoices/min in the run's SECOND full minute (sandbox time): a fresh 60 s window admits the pacer's
	38 batches at once, so the whole-run rate of a short run includes that burst; one later full minute does
	not (it holds at most 38 batch grants). None when the run was shorter than two minutes."""
	rows = [r for r in rig.store.list_audit(realm) if r.operation == "batch" and r.outcome == "ok"]
	if not rows:
		return None
	first = rows[0].timestamp.timestamp()
	if rows[-1].timestamp.timestamp() < first + 120:
		return None
	return float(sum(r.request_payload.count('"bId"') for r in rows
		if first + 60 <= r.timestamp.timestamp() < first + 120))


def run(speed: float, docs: int, peer_budget: float, latency_ms: float) -> dict:
	sb = SandboxServer(seed=3, speed=speed)
	try:
		scaled_sleep = lambda s: time.sleep(max(0.0, s) / speed)
		sandbox_seconds = sb.clock.timestamp
		retry = RetryPolicy(sleep=scaled_sleep)
		rig = Rig(sb, Path(tempfile.mkdtemp(prefix="bench-batch-")),
			pacer=InMemoryPacer(DEFAULT_LIMITS, clock=sandbox_seconds, sleep=scaled_sleep), retry=retry)
		eng, peer = sb.create_realm(), sb.create_realm()
		co = "Bench Staffing Inc"
		rig.connect(eng, co)
		unlimited(sb, eng)
		customers = [rig.ledger.create_customer(co, f"Bench Customer {i:03d}", email=f"c{i}@bench.example")
			for i in range(20)]
		items = [rig.ledger.create_item(co, f"Bench Hours {i}", rate=f"{40 + i}.00") for i in range(4)]
		for c in customers:  # masters reach a realm on first use: send them BEFORE the measured push (else the
			rig.engine.export_master(eng, "customer", c)  # measured run pays 2 requests per customer and item)
		for it in items:
			rig.engine.export_master(eng, "item", it)
		rig.engine.push(eng)
		for i in range(docs):
			rig.ledger.submit_invoice(co, customers[i % len(customers)], [
				{"item": items[i % 4], "qty": str(8 + i % 5), "rate": f"{40 + i % 4}.00"},
				{"item": items[(i + 1) % 4], "qty": "2", "rate": f"{40 + (i + 1) % 4}.00"},
			], rig.clock.now().date())
		restore_limits(sb, eng, latency_ms, speed)
		sb.advance_clock(61)
		out = {}
		s0, t0 = sb.stats(eng), sandbox_seconds()
		with Stopwatch() as sw:
			counts = rig.engine.push(eng)
		s1, t1 = sb.stats(eng), sandbox_seconds()
		out["engine"] = dict(docs=counts.get("done", 0), requests=s1["requests"] - s0["requests"],
			throttled=s1["throttled"] - s0["throttled"], sandbox_s=t1 - t0, real_s=sw.seconds,
			steady=steady_rate(rig, eng))

		seed = sb.seed_info(peer)
		cust_ids = list(seed["customers"].values())
		item_ids = [v for k, v in seed["items"].items() if k not in ("Safety Vest", "Hard Hat")]
		client = QBOClient(peer, base_url=sb.base_url, tokens=SandboxTokens(sb, peer), retry=retry,
			clock=rig.clock.now, pacer=InMemoryPacer(DEFAULT_LIMITS, clock=sandbox_seconds, sleep=scaled_sleep))
		bodies = []
		for i in range(docs):
			lines = [{"DetailType": "SalesItemLineDetail", "Amount": Decimal(qty * rate),
				"SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": qty, "UnitPrice": Decimal(rate)}}
				for item, qty, rate in ((item_ids[i % len(item_ids)], 8 + i % 5, 40 + i % 4),
					(item_ids[(i + 1) % len(item_ids)], 2, 40 + (i + 1) % 4))]
			bodies.append({"CustomerRef": {"value": cust_ids[i % len(cust_ids)]}, "Line": lines,
				"DocNumber": f"PEER-{i:05d}"})
		restore_limits(sb, peer, latency_ms, speed)
		sb.advance_clock(61)
		s0, t0 = sb.stats(peer), sandbox_seconds()
		with Stopwatch() as sw:
			done = 0
			for body in bodies:
				if sandbox_seconds() - t0 >= peer_budget:
					break
				client.create("Invoice", body, request_id=uuid.uuid4().hex)
				done += 1
		s1, t1 = sb.stats(peer), sandbox_seconds()
		out["peer"] = dict(docs=done, requests=s1["requests"] - s0["requests"],
			throttled=s1["throttled"] - s0["throttled"], sandbox_s=t1 - t0, real_s=sw.seconds)
		rig.close()
		return out
	finally:
		sb.stop()


def render(results: dict[tuple, dict]) -> str:
	rows = []
	for (speed, latency), res in results.items():
		for name, r in res.items():
			minutes = r["sandbox_s"] / 60
			doc_min = r["docs"] / minutes
			rows.append([f"×{speed:g}", f"{latency:g} ms", name, r["docs"], r["requests"],
				f"{r['requests'] / max(1, r['docs']):.3f}", r["throttled"], f"{r['sandbox_s']:.0f}",
				f"{r['real_s']:.1f}", f"{r['requests'] / minutes:.0f}", f"{doc_min:.0f}",
				f"{100 * doc_min / CEILING:.0f} %",
				f"{r['steady']:.0f} ({100 * r['steady'] / CEILING:.0f} %)" if r.get("steady") else "–"])
		e, p = res["engine"], res["peer"]
		ratio = (e["docs"] / e["sandbox_s"]) / max(1e-9, p["docs"] / p["sandbox_s"])
		rows.append(["", "", f"engine ÷ peer: {ratio:.1f}×", "", "", "", "", "", "", "", "", "", ""])
	return table(["clock", "latency", "pusher", "invoices", "requests", "req/doc", "429s", "sandbox s", "real s",
		"req/min", "invoices/min", "share of 1,200/min",
		"invoices in the 2nd minute"], rows)


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--speed", type=float, default=2.0)
	ap.add_argument("--docs", type=int, default=3000)
	ap.add_argument("--latency", type=float, action="append", help="added ms per request (repeatable); 0, 200")
	ap.add_argument("--peer-minutes", type=float, default=2.0)
	ap.add_argument("--write", action="store_true", help="record the figures in BENCHMARKS.md (default: print only)")
	args = ap.parse_args()
	latencies = args.latency or [0.0, 200.0]
	results = {(args.speed, lat): run(args.speed, args.docs, 60 * args.peer_minutes, lat) for lat in latencies}
	text = render(results)
	print(text)
	if args.write:
		cmd = "bash scripts/bench.sh bench_batch_throughput.py --speed %g --docs %d --peer-minutes %g %s" % (
			args.speed, args.docs, args.peer_minutes, " ".join(f"--latency {x:g}" for x in latencies))
		write_section("batch-throughput", "Push throughput per realm with batch, at 0 and 200 ms latency",
			stamp(cmd) + "\n" + __doc__.split("\n\n")[1] + "\n\n" + text + "\n")


if __name__ == "__main__":
	main()
