"""Push throughput per realm at QBO's limits (10 req/s, 500 req/min per realm), on a scaled sandbox clock.

Two realms of ONE sandbox, same run, same limits, the same invoices:
- engine: SyncEngine.push with the client's InMemoryPacer (DEFAULT_LIMITS: 8/s, 450/min) and RetryPolicy,
  pushing N submitted invoices whose customers and items are already in QBO;
- naive:  one QBOClient.create per invoice, no pacer, no batching (the client's default RetryPolicy still
  waits out a 429, 60 s + jitter, as QBO asks), for a sandbox-time budget (--naive-minutes).
Time is sandbox time (speed ×S: the pacer's and the retry's sleeps are divided by S). The ceiling derived
from the limits is 500 requests per sandbox minute; the share is achieved requests/min ÷ 500, and documents/min
is compared with 500 ÷ (requests per document).

	bash scripts/bench.sh bench_push_throughput.py [--speed 4 --speed 10 …] [--docs 600]
		[--naive-minutes 5] [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from _common import Rig, SandboxTokens, Stopwatch, load_average, stamp, table, unlimited, write_section

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.qbo.pacer import DEFAULT_LIMITS, InMemoryPacer
from nexora_qbo.sandbox.server import SandboxServer

LIMIT_PER_MIN = 500


def restore_limits(sb: SandboxServer, rid: str) -> None:
	sb.set_options(rid, per_second=10, per_minute=500, batch_per_minute=40)
	sb.realm(rid).limiter.reset()


def run(speed: float, docs: int, naive_budget: float) -> dict:
	sb = SandboxServer(seed=3, speed=speed)
	try:
		scaled_sleep = lambda s: time.sleep(max(0.0, s) / speed)
		sandbox_seconds = sb.clock.timestamp
		pacer = InMemoryPacer(DEFAULT_LIMITS, clock=sandbox_seconds, sleep=scaled_sleep)
		retry = RetryPolicy(sleep=scaled_sleep)
		rig = Rig(sb, Path(tempfile.mkdtemp(prefix="bench-push-")), pacer=pacer, retry=retry)
		eng, naive = sb.create_realm(), sb.create_realm()
		co = "Bench Staffing Inc"
		rig.connect(eng, co)
		# setup without limits: customers and items in QBO before the measured push
		unlimited(sb, eng)
		customers = [
			rig.ledger.create_customer(co, f"Bench Customer {i:03d}", email=f"c{i}@bench.example")
			for i in range(20)
		]
		items = [rig.ledger.create_item(co, f"Bench Hours {i}", rate=f"{40 + i}.00") for i in range(4)]
		for c in customers:  # masters reach a realm by export or with a first document (issue 12): before the run
			rig.engine.export_master(eng, "customer", c)
		for it in items:
			rig.engine.export_master(eng, "item", it)
		rig.engine.push(eng)
		for i in range(docs):
			rig.ledger.submit_invoice(
				co,
				customers[i % len(customers)],
				[
					{"item": items[i % 4], "qty": str(8 + i % 5), "rate": f"{40 + i % 4}.00"},
					{"item": items[(i + 1) % 4], "qty": "2", "rate": f"{40 + (i + 1) % 4}.00"},
				],
				rig.clock.now().date(),
			)
		restore_limits(sb, eng)
		sb.advance_clock(61)  # empty every window of the setup traffic
		out = {}
		s0, t0 = sb.stats(eng), sandbox_seconds()
		with Stopwatch() as sw:
			counts = rig.engine.push(eng)
		s1, t1 = sb.stats(eng), sandbox_seconds()
		out["engine"] = dict(
			docs=counts.get("done", 0),
			requests=s1["requests"] - s0["requests"],
			throttled=s1["throttled"] - s0["throttled"],
			sandbox_s=t1 - t0,
			real_s=sw.seconds,
		)

		# the naive loop: same invoices (same lines) in the other realm, one create each, no pacer
		seed = sb.seed_info(naive)
		cust_ids = list(seed["customers"].values())
		item_ids = [v for k, v in seed["items"].items() if k not in ("Safety Vest", "Hard Hat")]
		client = QBOClient(
			naive, base_url=sb.base_url, tokens=SandboxTokens(sb, naive), retry=retry, clock=rig.clock.now
		)
		bodies = []
		for i in range(docs):
			lines = []
			for item, qty, rate in (
				(item_ids[i % len(item_ids)], 8 + i % 5, 40 + i % 4),
				(item_ids[(i + 1) % len(item_ids)], 2, 40 + (i + 1) % 4),
			):
				lines.append(
					{
						"DetailType": "SalesItemLineDetail",
						"Amount": Decimal(qty * rate),
						"SalesItemLineDetail": {
							"ItemRef": {"value": item},
							"Qty": qty,
							"UnitPrice": Decimal(rate),
						},
					}
				)
			bodies.append(
				{
					"CustomerRef": {"value": cust_ids[i % len(cust_ids)]},
					"Line": lines,
					"DocNumber": f"NAIVE-{i:05d}",
				}
			)
		sb.advance_clock(61)
		s0, t0 = sb.stats(naive), sandbox_seconds()
		with Stopwatch() as sw:
			done = 0
			for body in bodies:  # until every invoice is in, or the sandbox-time budget is spent
				if sandbox_seconds() - t0 >= naive_budget:
					break
				client.create("Invoice", body, request_id=uuid.uuid4().hex)
				done += 1
		s1, t1 = sb.stats(naive), sandbox_seconds()
		out["naive"] = dict(
			docs=done,
			requests=s1["requests"] - s0["requests"],
			throttled=s1["throttled"] - s0["throttled"],
			sandbox_s=t1 - t0,
			real_s=sw.seconds,
		)
		rig.close()
		return out
	finally:
		sb.stop()


def render(results: dict[float, dict], docs: int) -> str:
	rows = []
	for speed, res in results.items():
		for name, r in res.items():
			minutes = r["sandbox_s"] / 60
			req_min = r["requests"] / minutes
			doc_min = r["docs"] / minutes
			per_doc = r["requests"] / max(1, r["docs"])
			rows.append(
				[
					f"×{speed:g}",
					name,
					r["docs"],
					r["requests"],
					f"{per_doc:.2f}",
					r["throttled"],
					f"{r['sandbox_s']:.0f}",
					f"{r['real_s']:.1f}",
					f"{req_min:.0f}",
					f"{100 * req_min / LIMIT_PER_MIN:.0f} %",
					f"{doc_min:.0f}",
					f"{100 * doc_min / (LIMIT_PER_MIN / per_doc):.0f} %",
				]
			)
	return table(
		[
			"clock",
			"pusher",
			"invoices",
			"requests",
			"req/doc",
			"429s",
			"sandbox s",
			"real s",
			"req/min",
			"share of 500/min",
			"invoices/min",
			"share of doc ceiling",
		],
		rows,
	)


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument(
		"--speed", type=float, action="append", help="sandbox clock speed (repeatable); default 4, 10, 20"
	)
	ap.add_argument("--docs", type=int, default=600)
	ap.add_argument("--naive-minutes", type=float, default=5.0, help="sandbox-time budget of the naive loop")
	ap.add_argument("--write", action="store_true", help="record the figures in BENCHMARKS.md (default: print only)")
	args = ap.parse_args()
	speeds = args.speed or [4.0, 10.0, 20.0]
	load0 = load_average()
	results = {s: run(s, args.docs, 60 * args.naive_minutes) for s in speeds}
	text = render(results, args.docs)
	print(text)
	if args.write:
		cmd = "bash scripts/bench.sh bench_push_throughput.py --docs %d --naive-minutes %g %s" % (
			args.docs,
			args.naive_minutes,
			" ".join(f"--speed {s:g}" for s in speeds),
		)
		write_section(
			"push-throughput",
			"Push throughput per realm at QBO's limits",
			stamp(cmd, load0)
			+ """
Sandbox limits per realm: 10 req/s, 500 req/min, 40 batch req/min (QBO's). Engine = `SyncEngine.push` with
`InMemoryPacer` (DEFAULT_LIMITS 8/s, 450/min, 38 batch/min) pushing submitted 2-line invoices whose customers and items are already in QBO.
Naive = one `QBOClient.create` per invoice, no pacer, no batching, default `RetryPolicy` (waits 60 s + jitter
after a 429), run for a fixed sandbox-time budget (it is too slow to finish the same count). Both in the same
sandbox run, one realm each. "Sandbox s" is time on the scaled clock; the
share of the ceiling is requests per sandbox minute ÷ 500; the document ceiling is 500 ÷ requests per document.

"""
			+ text
			+ "\n"
			+ NOTES,
		)


NOTES = """Reading the table:
- The engine sends invoices in batch requests since issue 9 (sync/batch.py, 30 per request, the stable-key
  lookup only where a duplicate is possible), so req/doc is ~0.03 and the 500 requests/min limit is not what
  bounds it: the 40 batch requests/min are (the pacer allows 38, i.e. 1,140 invoices/min). The "share" columns
  compare with 500 requests/min, the ceiling of a one-request-per-invoice pusher; for a batching pusher they
  are not meaningful (the engine finishes its invoices inside the first minute's batch window). The batch
  section (bench_batch_throughput.py) measures the engine against the 1,200/min batch ceiling at 0 and
  200 ms latency, with a fair paced peer.
- The naive loop has no pacer: it bursts past 10 requests per second, gets a 429, and then sits out 60 s
  (+ up to 25 % jitter) as QBO asks, so it manages ~10 requests per minute, whatever the clock speed.
- At ×10 and ×20 one real millisecond is 10 or 20 sandbox milliseconds: the local machine's own cost per
  step (engine + SQLite + the in-process sandbox) is magnified in sandbox time.
"""


if __name__ == "__main__":
	main()
