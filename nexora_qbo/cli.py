"""`nexora-qbo` command line: the frappe-free entry points (local QBO sandbox, the month demo).

Sub-commands are imported lazily so that `nexora-qbo sandbox` does not load the sync engine and the
other way round.
"""
from __future__ import annotations

import sys

COMMANDS = {
	"sandbox": ("nexora_qbo.sandbox.cli", "main", "serve the local QBO-compatible sandbox"),
	"demo": ("nexora_qbo.demo", "main", "run a month of staffing billing against the sandbox"),
}


def main(argv: list[str] | None = None) -> int:
	argv = list(sys.argv[1:] if argv is None else argv)
	if argv and argv[0] in {"-V", "--version"}:
		from nexora_qbo import __version__

		print(f"nexora-qbo {__version__}")
		return 0
	if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
		print("usage: nexora-qbo [--version] {%s} [options]   (nexora-qbo <command> --help)" % ",".join(COMMANDS))
		for name, (_, _, summary) in COMMANDS.items():
			print(f"  {name:<10} {summary}")
		return 0 if argv and argv[0] in {"-h", "--help"} else 2
	module_name, func_name, _ = COMMANDS[argv[0]]
	module = __import__(module_name, fromlist=[func_name])
	return int(getattr(module, func_name)(argv[1:]) or 0)


if __name__ == "__main__":
	sys.exit(main())
