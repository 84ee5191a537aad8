"""Issue 11 proof: the fresh-machine demo bills a week from timesheets (two clients, one with two job sites)
on an automated-sales-tax QuickBooks company and ties out at 0 unexplained."""
from __future__ import annotations

from nexora_qbo import demo


def test_demo_week_bills_timesheets_to_job_sites_and_ties_out(tmp_path, capsys):
	assert demo.main(["--week", "--dir", str(tmp_path)]) == 0
	out = capsys.readouterr().out
	assert "automated sales tax on" in out
	assert out.count("job site") == 2 and "Bluebonnet Clinics: 3 timesheet lines" in out
	assert "Unexplained: 0" in out
