"""Entry point for the bench figures of benchmarks/bench_frappe.py (issue 9), for `bench execute`.

`bench execute` only resolves dotted paths inside installed apps, and the benchmark code is not part of the
app (it lives in the repository's benchmarks/ folder, next to the other benchmark scripts, and is not in the
wheel). This loads it from the work tree the bench's app symlink points to. Console use only; not whitelisted.

	bench --site <site> execute nexora_qbo.erpnext.bench_entry.run --kwargs "{'fn': 'push', 'n': 1000}"
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def run(fn: str, **kwargs):
	path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_frappe.py"
	if not path.exists():
		raise SystemExit(f"{path} not found: run from a work tree (the bench's app symlink), not an installed wheel")
	spec = importlib.util.spec_from_file_location("nexora_qbo_bench_frappe", path)
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return getattr(module, fn)(**kwargs)
