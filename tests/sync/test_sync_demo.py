"""`nexora-qbo demo` runs a month end to end on a fresh sandbox and prints both companies' reports."""
from __future__ import annotations

from nexora_qbo.sync import demo


def test_demo_runs_a_month_and_prints_the_reports(tmp_path, capsys):
	assert demo.main(["--quiet", "--dir", str(tmp_path)]) == 0
	out = capsys.readouterr().out
	assert out.count("Nexora QBO sync report") == 2
	assert "Resolved automatically: 1" in out and "[transaction_edited]" in out
	assert "Payment     QBO → ERPNext" in out and "CreditMemo  QBO → ERPNext" in out
	assert "Failures still queued: 0" in out
