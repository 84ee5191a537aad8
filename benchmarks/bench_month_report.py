"""The month report over 1,000,000 audit rows on the SQLite reference store (issue 9).

Setup (not measured): one realm, N audit rows in one month written straight into the store's audit table
(the columns append_audit writes, with a ~400-byte JSON row like a real exchange's), 2 % of them errors with
codes. Measured: sync.report.month_report (events/conflicts/outbox empty, so the audit summary is the cost),
and for contrast the old way on the same rows: decode every row through list_audit and count in Python.
The issue's figure before: 35 s and 4.2 GB over 1M rows (goal < 2 s).

	bash scripts/bench.sh bench_month_report.py [--rows 1000000] [--old-rows 100000] [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from _common import Stopwatch, load_average, stamp, table, write_section

from nexora_qbo.sync import records as R
from nexora_qbo.sync.ports import RealmSettings
from nexora_qbo.sync.report import month_report
from nexora_qbo.sync.sqlite_store import SqliteStore

REALM = "9130000000000001"
CODES = [("ValidationError", "6000"), ("StaleObjectError", "5010"), ("ThrottleError", None), ("ObjectNotFoundError", "610")]


def fill(store: SqliteStore, n: int) -> None:
	start = datetime(2026, 11, 1, tzinfo=timezone.utc)
	step = timedelta(days=29) / n
	body = R.dumps({"Invoice": {"Id": "1234", "SyncToken": "0", "DocNumber": "SINV-00001", "TotalAmt": "1234.50",
		"Line": [{"Amount": "1234.50", "DetailType": "SalesItemLineDetail"}]}})
	batch = []
	conn = store._audit_conn
	for i in range(n):
		outcome, code = CODES[i % 4] if i % 50 == 0 else ("ok", None)
		at = (start + step * i).isoformat()
		data = {"realm_id": REALM, "direction": "outbound", "qbo_entity": "Invoice", "operation": "create",
			"local_type": "invoice", "local_id": f"SINV-{i:07d}", "http_status": 200 if outcome == "ok" else 400,
			"request_payload": body, "response_payload": body, "request_id": f"nx{i:030d}", "outcome": outcome,
			"error_code": code, "attempt": 1, "duration_ms": 12.5, "timestamp": at}
		batch.append((REALM, at, R.dumps(data), outcome, code))
		if len(batch) == 20000:
			conn.executemany("INSERT INTO sync_audit (realm_id, timestamp, data, outcome, error_code) VALUES (?,?,?,?,?)", batch)
			batch.clear()
	if batch:
		conn.executemany("INSERT INTO sync_audit (realm_id, timestamp, data, outcome, error_code) VALUES (?,?,?,?,?)", batch)


def run(n: int, old_n: int) -> list[list]:
	rows = []
	for count, old in ((n, False), (old_n, True)):
		if not count:
			continue
		store = SqliteStore(str(Path(tempfile.mkdtemp(prefix="bench-report-")) / "sync.db"))
		store.save_settings(RealmSettings(realm_id=REALM, company="Bench Staffing Inc"))
		fill(store, count)
		tracemalloc.start()
		with Stopwatch() as sw:
			if old:
				audit = store.list_audit(REALM, datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc))
				errors = Counter((a.outcome, a.error_code) for a in audit if a.outcome != "ok")
				exchanges = len(audit)
			else:
				data = month_report(store, REALM, 2026, 11)
				exchanges, errors = data["exchanges"], data["exchange_errors"]
		_, peak = tracemalloc.get_traced_memory()
		tracemalloc.stop()
		rows.append([f"{count:,}", "old: list_audit + count in Python" if old else "month_report (audit_summary in SQL)",
			f"{sw.seconds:.2f}", f"{peak / 2**20:.1f}", exchanges, len(errors)])
		print(rows[-1], flush=True)
		store.close()
	return rows


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--rows", type=int, default=1_000_000)
	ap.add_argument("--old-rows", type=int, default=100_000)
	ap.add_argument("--write", action="store_true")
	args = ap.parse_args()
	load0 = load_average()
	text = table(["audit rows in the month", "how", "seconds", "peak traced MB", "exchanges", "error groups"],
		run(args.rows, args.old_rows))
	print(text)
	if args.write:
		cmd = f"bash scripts/bench.sh bench_month_report.py --rows {args.rows} --old-rows {args.old_rows}"
		write_section("month-report", "Month report over 1,000,000 audit rows, SQLite reference store (issue 9)",
			stamp(cmd, load0) + "\n" + __doc__.split("\n\n")[1] + "\n\n" + text)


if __name__ == "__main__":
	main()
