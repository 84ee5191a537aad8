"""The app must install into a bench and as a plain wheel: these checks read the *installed* package.

scripts/test.sh installs the repo non-editable (`pip install .`), so a data file that the wheel drops
(DocType JSON, desk JS, modules.txt) makes these tests fail in CI exactly as it would break a bench.
"""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import nexora_qbo

PACKAGE_DIR = Path(nexora_qbo.__file__).resolve().parent
REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = PACKAGE_DIR / "nexora_qbo"


def test_modules_and_patches_files_are_shipped():
	assert (PACKAGE_DIR / "modules.txt").read_text().split() == ["Nexora", "QBO"]
	assert "[post_model_sync]" in (PACKAGE_DIR / "patches.txt").read_text()


def test_required_apps_is_one_line_that_bench_can_eval():
	"""bench reads the first line starting with `required_apps` and evals it on its own."""
	lines = [ln for ln in (PACKAGE_DIR / "hooks.py").read_text().splitlines() if ln.startswith("required_apps")]
	assert lines, "hooks.py must declare required_apps"
	assert ast.literal_eval(lines[0].split("=", 1)[1].strip()) == ["frappe/erpnext"]


def test_hooks_module_does_not_import_frappe_at_top_level():
	"""Bench and the frappe-free tooling parse hooks.py; a top-level frappe import would break both."""
	tree = ast.parse((PACKAGE_DIR / "hooks.py").read_text())
	imported = {
		alias.name.split(".")[0]
		for node in tree.body
		if isinstance(node, (ast.Import, ast.ImportFrom))
		for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
	}
	assert "frappe" not in imported


def test_python_dependencies_never_name_frappe_or_erpnext():
	meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
	names = {dep.split("~")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
		for dep in meta["project"]["dependencies"]}
	assert not names & {"frappe", "erpnext", "payments"}


def test_every_doctype_json_is_shipped_beside_its_controller():
	"""Each DocType folder in the module must carry its JSON (the schema bench migrates from)."""
	doctype_dirs = [p for p in (MODULE_DIR / "doctype").iterdir() if p.is_dir() and not p.name.startswith("__")]
	assert doctype_dirs, "the Nexora QBO module ships DocTypes"
	for folder in doctype_dirs:
		assert (folder / f"{folder.name}.json").is_file(), f"{folder.name}.json missing from the package"
		assert (folder / f"{folder.name}.py").is_file()
		assert (folder / "__init__.py").is_file()
