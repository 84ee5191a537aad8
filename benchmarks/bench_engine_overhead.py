"""Engine overhead per document: time spent in engine code (outbox, ledger reads, mapping, audit rows, SQLite)
excluding the time waiting for HTTP, against a sandbox with no latency, no limits and no faults.

For each document type the engine pushes N documents; the client reports every HTTP attempt's duration in
its exchange (`duration_ms`: from sending the request to having the response body), so
	engine time = wall time of push − Σ exchange durations,
and per document = engine time ÷ N. The same HTTP requests sent by a bare QBOClient (no engine) give the
reference cost of the HTTP part alone. A cProfile of the customer push shows where the engine time goes.

	bash scripts/bench.sh bench_engine_overhead.py [--docs 400] [--write]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import uuid
from pathlib import Path

from _common import Rig, SandboxTokens, Stopwatch, load_average, stamp, table, unlimited, write_section

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sandbox.server import SandboxServer
from nexora_qbo.sync import constants as C

CO = "Bench Staffing Inc"


def _http_ms(rig: Rig, rid: str, since_id: int) -> tuple[float, int]:
	rows = [r for r in rig.store.list_audit(rid) if int(r.id) > since_id]
	return sum(r.duration_ms or 0 for r in rows), len(rows)


def _last_audit_id(rig: Rig, rid: str) -> int:
	rows = rig.store.list_audit(rid)
	return int(rows[-1].id) if rows else 0


def _measure(rig: Rig, rid: str, label: str, n: int, profile: bool = False) -> dict:
	before = _last_audit_id(rig, rid)
	prof = cProfile.Profile() if profile else None
	with Stopwatch() as sw:
		if prof:
			prof.enable()
		counts = rig.engine.push(rid)
		if prof:
			prof.disable()
	http_ms, requests = _http_ms(rig, rid, before)
	out = dict(
		label=label,
		docs=n,
		done=counts.get("done", 0),
		wall_ms=sw.seconds * 1000,
		http_ms=http_ms,
		requests=requests,
	)
	if prof:
		s = io.StringIO()
		# engine code only (HTTP wait is the socket recv/send below it): cumulative time per engine function
		pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(r"nexora_qbo/sync|sqlite3", 16)
		out["profile"] = s.getvalue()
	return out


def run(n: int) -> tuple[list[dict], dict, str]:
	sb = SandboxServer(seed=9, speed=1.0)
	try:
		rid = sb.create_realm()
		unlimited(sb, rid)
		rig = Rig(sb, Path(tempfile.mkdtemp(prefix="bench-overhead-")), retry=RetryPolicy(max_attempts=1))
		rig.connect(rid, CO)
		led = rig.ledger
		results = []
		customers = [
			led.create_customer(
				CO, f"Overhead Customer {i:04d}", email=f"o{i}@bench.example", phone=f"555-{i:04d}"
			)
			for i in range(n)
		]
		for c in customers:  # masters go to a realm by a person's choice or with a first document (issue 12)
			rig.engine.export_master(rid, C.CUSTOMER, c)
		results.append(_measure(rig, rid, "customer create (first export: lookup + create)", n))
		items = [led.create_item(CO, f"Overhead Hours {i}", rate=f"{30 + i}.00") for i in range(5)]
		for it in items:
			rig.engine.export_master(rid, C.ITEM, it)
		rig.engine.push(rid)
		for i, c in enumerate(customers):
			led.update_customer(CO, c, notes=f"updated {i}")
		results.append(_measure(rig, rid, "customer update (sparse, batched: 30 per request)", n))
		invoices = [
			led.submit_invoice(
				CO,
				customers[i % n],
				[
					{"item": items[i % 5], "qty": "8", "rate": f"{30 + i % 5}.00"},
					{"item": items[(i + 1) % 5], "qty": "1.5", "rate": f"{30 + (i + 1) % 5}.00"},
				],
				rig.clock.now().date(),
			)
			for i in range(n)
		]
		results.append(_measure(rig, rid, "invoice create, 2 lines (batched: 30 per request)", n))
		single = [led.submit_invoice(CO, customers[i % n], [{"item": items[i % 5], "qty": "8", "rate": f"{30 + i % 5}.00"},
			{"item": items[(i + 1) % 5], "qty": "1.5", "rate": f"{30 + (i + 1) % 5}.00"}], rig.clock.now().date())
			for i in range(n // 2)]
		rig.engine.pusher.batching = False
		results.append(_measure(rig, rid, "invoice create, 2 lines (batching off: one request each)", len(single)))
		rig.engine.pusher.batching = True
		for i, inv in enumerate(invoices[: n // 2]):
			total = led.get(CO, C.INVOICE, inv)["total"]
			led.record_payment(
				CO,
				customers[i % n],
				str(total),
				[{"doc_type": C.INVOICE, "doc_key": inv, "amount": str(total)}],
				rig.clock.now().date(),
				reference=f"OV-{i}",
			)
		results.append(_measure(rig, rid, "payment create, 1 invoice", n // 2))
		# the profile runs on its own batch: cProfile slows everything it watches, HTTP client code included
		for i in range(n // 4):
			rig.engine.export_master(rid, C.CUSTOMER,
				led.create_customer(CO, f"Profiled Customer {i:04d}", email=f"p{i}@bench.example"))
		profiled = _measure(rig, rid, "profiled", n // 4, profile=True)

		# reference: the same HTTP work without the engine (a bare client doing lookup + create per customer), in
		# a fresh realm of the same size the engine's customer push started from (the sandbox's query time grows
		# with the realm, so the comparison must start from the same data)
		raw_rid = sb.create_realm()
		unlimited(sb, raw_rid)
		client = QBOClient(
			raw_rid,
			base_url=sb.base_url,
			tokens=SandboxTokens(sb, raw_rid),
			retry=RetryPolicy(max_attempts=1),
			clock=rig.clock.now,
		)
		durations = []
		client.on_exchange = lambda ex: durations.append(ex.duration_ms)
		with Stopwatch() as sw:
			for i in range(n):
				client.query(f"select * from Customer where DisplayName = 'Raw Customer {i:04d}'")
				client.create(
					"Customer",
					{
						"DisplayName": f"Raw Customer {i:04d}",
						"PrimaryEmailAddr": {"Address": f"raw{i}@bench.example"},
					},
					request_id=uuid.uuid4().hex,
				)
		raw = dict(
			label="bare QBOClient: lookup + create customer",
			docs=n,
			done=n,
			wall_ms=sw.seconds * 1000,
			http_ms=sum(durations),
			requests=len(durations),
		)
		rig.close()
		return results, raw, profiled["profile"]
	finally:
		sb.stop()


def render(results: list[dict], raw: dict) -> str:
	rows = []
	for r in results + [raw]:
		engine_ms = r["wall_ms"] - r["http_ms"]
		rows.append(
			[
				r["label"],
				r["done"],
				r["requests"],
				f"{r['requests'] / max(1, r['done']):.3f}",
				f"{r['wall_ms'] / r['docs']:.2f}",
				f"{r['http_ms'] / r['docs']:.2f}",
				f"{engine_ms / r['docs']:.2f}",
				f"{100 * engine_ms / r['wall_ms']:.0f} %",
			]
		)
	return table(
		[
			"push of",
			"docs",
			"HTTP requests",
			"req/doc",
			"wall ms/doc",
			"HTTP ms/doc",
			"engine ms/doc",
			"engine share",
		],
		rows,
	)


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--docs", type=int, default=400)
	ap.add_argument("--write", action="store_true", help="record the figures in BENCHMARKS.md (default: print only)")
	args = ap.parse_args()
	load0 = load_average()
	results, raw, profile = run(args.docs)
	text = render(results, raw)
	print(text)
	print(profile)
	if args.write:
		cmd = f"bash scripts/bench.sh bench_engine_overhead.py --docs {args.docs}"
		top = "\n".join(line for line in profile.splitlines()[:40] if line.strip())
		write_section(
			"engine-overhead",
			"Engine overhead per document",
			stamp(cmd, load0)
			+ """
Sandbox on 127.0.0.1, no latency, no rate limits, no faults; SQLite store + ledger on local disk (WAL,
synchronous=NORMAL). "HTTP ms" is the sum of the client's per-attempt `duration_ms` (request sent → response
read, which includes the sandbox's own processing: client and server share the 2 cores); "engine ms" is the
rest of the push's wall time: outbox bookkeeping, ledger reads, payload building, mapping and audit-row writes.
The last row is a bare `QBOClient` doing the same lookup + create per customer without the engine.

"""
			+ text
			+ """
Where the time goes (cProfile of a separate push of docs/4 new customers, engine and SQLite functions by cumulative time; the
HTTP calls are inside `_push_create`/`_lookup`, so their cumulative times include the wait):

```
"""
			+ top
			+ """
```
""",
		)


if __name__ == "__main__":
	main()
