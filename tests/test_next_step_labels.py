"""Bookkeeper-facing refusals name the next step by the review item's button label (sync/constants.ACTION_LABELS),
never a bare "then retry" (there is no such button)."""
from __future__ import annotations

import re
from pathlib import Path

import nexora_qbo

ROOT = Path(nexora_qbo.__file__).parent


def test_no_refusal_says_a_bare_then_retry():
	offenders = []
	for path in list((ROOT / "erpnext").rglob("*.py")) + list((ROOT / "sync").rglob("*.py")):
		if "tests" in path.parts or path.name.startswith("test_"):
			continue
		for n, line in enumerate(path.read_text().splitlines(), 1):
			if re.search(r"\bthen retry\b", line, re.IGNORECASE) and not line.lstrip().startswith("#"):
				offenders.append(f"{path.relative_to(ROOT)}:{n}")
	assert offenders == []


def test_the_retry_step_names_the_button_label():
	from nexora_qbo.sync import constants as C

	src = (ROOT / "erpnext" / "mappers" / "__init__.py").read_text()
	assert "C.ACTION_LABELS[C.ACTION_RETRY]" in src and C.ACTION_LABELS[C.ACTION_RETRY] == "Retry"
