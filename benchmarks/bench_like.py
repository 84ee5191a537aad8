"""Time the sandbox's LIKE matcher on the pathological patterns of issue 8 (print only; not run in CI).

	bash scripts/bench.sh bench_like.py [--regex]

`%a%a…%b` against "aaaa…" made the old regex translation (`^.*a.*a….*b$`) backtrack exponentially: 10 wildcards
over 40 characters took 64 s. The linear matcher's time is printed for that pattern and for much larger ones;
`--regex` also times the old translation on growing inputs, stopping once one run exceeds 2 s.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nexora_qbo.sandbox.query import like_steps  # noqa: E402


def old_regex(text: str, pattern: str) -> bool:
	rx = "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$"
	return re.match(rx, text, re.IGNORECASE | re.DOTALL) is not None


def clock(fn, *args) -> float:
	t0 = time.perf_counter()
	fn(*args)
	return time.perf_counter() - t0


def main() -> None:
	ap = argparse.ArgumentParser()
	ap.add_argument("--regex", action="store_true", help="also time the old regex translation")
	args = ap.parse_args()
	print("| wildcards | text chars | linear matcher ms | characters scanned |")
	print("|---|---|---|---|")
	for wildcards, chars in ((10, 40), (100, 1000), (1000, 100_000)):
		# ends in "b" (so the suffix check passes) and holds no "c": every middle piece is searched
		text, pattern = "a" * chars + "b", "%a" * wildcards + "%c%b"
		seconds = clock(like_steps, text, pattern)
		print(f"| {wildcards} | {chars} | {seconds * 1000:.3f} | {like_steps(text, pattern)[1]} |")
	if args.regex:
		print("\nold regex translation, 8 wildcards:")
		for chars in range(16, 41, 4):
			seconds = clock(old_regex, "a" * chars + "b", "%a" * 8 + "%c%b")
			print(f"  {chars} chars: {seconds:.3f} s")
			if seconds > 2:
				break


if __name__ == "__main__":
	main()
