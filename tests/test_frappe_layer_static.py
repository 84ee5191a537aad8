"""Guards for the Frappe layer that CI cannot run (no Frappe there): read the source, never import frappe.

A typo in a hook's dotted path, a DocType's JSON, a Link to a DocType that does not exist, or a whitelisted
function that acts without checking who asks would otherwise only show up on a bench. Each check below fails
on exactly that mistake (see test_the_guards_catch_what_they_claim for the proof on planted examples).
"""

from __future__ import annotations

import ast
import json
import re
import runpy
from pathlib import Path

import nexora_qbo

PACKAGE = Path(nexora_qbo.__file__).resolve().parent
APP = PACKAGE.name
DOTTED = re.compile(rf"^{APP}(\.[A-Za-z_][A-Za-z0-9_]*)+$")

# DocTypes that Frappe 15 / ERPNext 15 ship and that our Link fields may target. A name outside this list and
# outside the app's own DocTypes is a typo (or a new dependency: add it here, deliberately).
FRAMEWORK_DOCTYPES = frozenset(
	{
		# frappe
		"DocType",
		"User",
		"Role",
		"Module Def",
		"Report",
		"Currency",
		"File",
		"Print Format",
		# erpnext
		"Account",
		"Company",
		"Cost Center",
		"Customer",
		"Customer Group",
		"Item",
		"Item Group",
		"Mode of Payment",
		"Payment Entry",
		"Price List",
		"Sales Invoice",
		"Sales Taxes and Charges Template",
		"Item Tax Template",
		"Payment Terms Template",
		"Territory",
		"UOM",
		"Warehouse",
		"Fiscal Year",
	}
)

# Calls that are a role or document-permission check (frappe 15 API), by their dotted tail.
PERMISSION_CALLS = frozenset(
	{"frappe.only_for", "frappe.has_permission", "frappe.get_roles", "check_permission", "has_permission"}
)
# Statements allowed before the check: they read, they do not act.
READ_CALLS = frozenset({"frappe.get_doc", "frappe.get_cached_doc", "frappe.db.get_value", "_"})

# Guest endpoints cannot check a role; each must say what it verifies instead.
GUEST_ENDPOINTS = {
	f"{APP}.erpnext.webhook.receive": "verifies Intuit's HMAC signature on the raw body before enqueueing",
	f"{APP}.erpnext.oauth.callback": "sends a Guest to login, then checks the OAuth state and is_manager()",
}
# Whitelisted functions that act before (or without) a permission check.
# Known, fixed on branch i8 (issue 8): empty this list once i8 is merged.
KNOWN_UNCHECKED: dict[str, str] = {}


# ---- reading the source ----------------------------------------------------------------------------------
def _module_file(parts: list[str]) -> Path | None:
	base = PACKAGE.parent.joinpath(*parts)
	if base.with_suffix(".py").is_file():
		return base.with_suffix(".py")
	if (base / "__init__.py").is_file():
		return base / "__init__.py"
	return None


def _top_level_names(path: Path) -> set[str]:
	names = set()
	for node in ast.parse(path.read_text()).body:
		if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
			names.add(node.name)
		elif isinstance(node, ast.Assign):
			names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
		elif isinstance(node, (ast.ImportFrom, ast.Import)):
			names |= {(a.asname or a.name).split(".")[0] for a in node.names}
	return names


def resolves(dotted: str) -> bool:
	"""`pkg.module.function` names a module file and a top-level name in it (or `module.Class.method`)."""
	parts = dotted.split(".")
	for cut in range(len(parts) - 1, 0, -1):
		path = _module_file(parts[:cut])
		if path is None:
			continue
		rest = parts[cut:]
		tree = ast.parse(path.read_text())
		if len(rest) == 1:
			return rest[0] in _top_level_names(path)
		if len(rest) == 2:
			cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == rest[0]), None)
			return cls is not None and any(
				isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == rest[1] for n in cls.body
			)
		return False
	return False


def _strings(value):
	if isinstance(value, str):
		yield value
	elif isinstance(value, dict):
		for k, v in value.items():
			yield from _strings(k)
			yield from _strings(v)
	elif isinstance(value, (list, tuple, set)):
		for v in value:
			yield from _strings(v)


def _json_files() -> list[Path]:
	return sorted(p for p in PACKAGE.rglob("*.json") if "node_modules" not in p.parts)


def _python_files() -> list[Path]:
	return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _call_name(node: ast.Call) -> str:
	parts, f = [], node.func
	while isinstance(f, ast.Attribute):
		parts.append(f.attr)
		f = f.value
	if isinstance(f, ast.Name):
		parts.append(f.id)
	return ".".join(reversed(parts))


def _enqueue_targets(tree: ast.AST) -> list[tuple[int, str]]:
	out = []
	for node in ast.walk(tree):
		if isinstance(node, ast.Call) and _call_name(node) in (
			"frappe.enqueue",
			"enqueue",
			"frappe.enqueue_doc",
			"enqueue_once",  # erpnext/jobs.py: the app's deduplicated, after-commit enqueue
			"jobs.enqueue_once",
		):
			arg = (
				node.args[0]
				if node.args
				else next((k.value for k in node.keywords if k.arg == "method"), None)
			)
			out.append((node.lineno, arg))
	return out


def _constant_value(arg, module_tree: ast.Module):
	"""A string literal, or a module-level NAME = "literal" (how jobs.py names its job method)."""
	if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
		return arg.value
	if isinstance(arg, ast.Name):
		for node in module_tree.body:
			if isinstance(node, ast.Assign) and any(
				isinstance(t, ast.Name) and t.id == arg.id for t in node.targets
			):
				if isinstance(node.value, ast.Constant):
					return node.value.value
	if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
		module = _imported_module(arg.value.id, module_tree)
		if module is not None:
			value = _constant_value(ast.Name(id=arg.attr), module)
			if value is not None:
				return value
		return f"<attribute {arg.value.id}.{arg.attr}>"
	return None


def _imported_module(alias: str, module_tree: ast.Module) -> ast.Module | None:
	"""The parsed source of an app module imported under `alias` (`from nexora_qbo.erpnext import constants as
	K`, `import nexora_qbo.erpnext.constants as K`), so `K.JOB` resolves to the string it names."""
	for node in module_tree.body:
		dotted = None
		if isinstance(node, ast.ImportFrom) and node.module:
			for a in node.names:
				if (a.asname or a.name) == alias:
					dotted = f"{node.module}.{a.name}"
		elif isinstance(node, ast.Import):
			for a in node.names:
				if a.asname == alias:
					dotted = a.name
		if dotted and dotted.startswith("nexora_qbo."):
			path = PACKAGE.joinpath(*dotted.split(".")[1:]).with_suffix(".py")
			if path.exists():
				return ast.parse(path.read_text())
	return None


# ---- the checks --------------------------------------------------------------------------------------------
def dotted_paths_in_hooks() -> list[str]:
	hooks = runpy.run_path(str(PACKAGE / "hooks.py"))  # a plain config module: it must not import frappe
	# `_NAME` variables are prefixes the hooks are built from (`_EVENTS`), not hooks: their uses are checked.
	return sorted(
		{s for k, v in hooks.items() if not k.startswith("_") for s in _strings(v) if DOTTED.match(s)}
	)


JS_PREFIX = re.compile(r"\bconst\s+([A-Z_][A-Z0-9_]*)\s*=\s*[\"'`]([^\"'`]+)[\"'`]")


def _js_paths(text: str) -> list[str]:
	"""Method paths in desk JS: literals, and `${PREFIX}.method` built from a `const PREFIX = "module"`."""
	prefixes = {name: value for name, value in JS_PREFIX.findall(text) if DOTTED.match(value)}
	paths = [s for s in re.findall(r"[\"'`]([^\"'`\s$]+)[\"'`]", text) if s not in prefixes.values()]
	for name, module in prefixes.items():
		uses = re.findall(r"\$\{" + name + r"\}\.([A-Za-z_][A-Za-z0-9_]*)", text)
		paths += [f"{module}.{method}" for method in uses]
		if not uses:
			paths.append(module)  # an unused module constant must still name a function
	return paths


def unresolved_dotted_paths() -> list[str]:
	bad = [f"hooks.py: {p}" for p in dotted_paths_in_hooks() if not resolves(p)]
	for path in _json_files() + sorted(PACKAGE.rglob("*.js")):
		text = path.read_text()
		values = _strings(json.loads(text)) if path.suffix == ".json" else _js_paths(text)
		bad += [f"{path.relative_to(PACKAGE)}: {s}" for s in values if DOTTED.match(s) and not resolves(s)]
	return bad


def _forwarded_parameters(tree: ast.AST) -> set[int]:
	"""Lines of enqueue calls inside an enqueue helper (`enqueue_once(method, ...)`) that pass their own
	`method` parameter on: the helper's callers name the function, and those calls are checked."""
	lines = set()
	for fn in ast.walk(tree):
		if isinstance(fn, ast.FunctionDef) and fn.name.startswith("enqueue"):
			params = {a.arg for a in fn.args.args}
			for line, arg in _enqueue_targets(fn):
				if isinstance(arg, ast.Name) and arg.id in params:
					lines.add(line)
	return lines


def unresolved_enqueues(files=None) -> list[str]:
	bad = []
	for path in files or _python_files():
		tree = ast.parse(path.read_text())
		forwarded = _forwarded_parameters(tree)
		for line, arg in _enqueue_targets(tree):
			if line in forwarded:
				continue
			target = _constant_value(arg, tree)
			if target is None or not DOTTED.match(target) or not resolves(target):
				bad.append(f"{path.name}:{line}: frappe.enqueue({target!r})")
	return bad


def app_doctypes() -> set[str]:
	names = set()
	for path in _json_files():
		data = json.loads(path.read_text())
		if isinstance(data, dict) and data.get("doctype") == "DocType":
			names.add(data["name"])
	return names


def bad_links(files=None) -> list[str]:
	ours = app_doctypes()
	known = ours | FRAMEWORK_DOCTYPES
	bad = []
	for path in files or _json_files():
		data = json.loads(path.read_text())
		if not isinstance(data, dict):
			continue
		where = path.name
		if data.get("doctype") == "DocType":
			fieldnames = {f.get("fieldname") for f in data.get("fields", [])}
			for f in data.get("fields", []):
				kind, target = f.get("fieldtype"), f.get("options")
				if kind == "Link" and target not in known:
					bad.append(f"{where}: {f.get('fieldname')} links to unknown DocType {target!r}")
				if kind in ("Table", "Table MultiSelect") and target not in ours:
					bad.append(f"{where}: {f.get('fieldname')} is a table of unknown DocType {target!r}")
				if kind == "Dynamic Link" and target not in fieldnames:
					bad.append(
						f"{where}: {f.get('fieldname')} reads its DocType from missing field {target!r}"
					)
		if data.get("doctype") == "Report" and data.get("ref_doctype") not in known:
			bad.append(f"{where}: ref_doctype {data.get('ref_doctype')!r}")
		if data.get("doctype") == "Workspace":
			reports = {
				json.loads(p.read_text())["name"]
				for p in _json_files()
				if json.loads(p.read_text()).get("doctype") == "Report"
			}
			for link in data.get("links", []) + data.get("shortcuts", []):
				kind = link.get("link_type") or link.get("type")
				target = link.get("link_to")
				if kind == "DocType" and target not in known:
					bad.append(f"{where}: workspace link to unknown DocType {target!r}")
				if kind == "Report" and target not in reports:
					bad.append(f"{where}: workspace link to unknown Report {target!r}")
	return bad


def _functions_by_name() -> dict[str, list[ast.FunctionDef]]:
	out: dict[str, list] = {}
	for path in _python_files():
		for node in ast.walk(ast.parse(path.read_text())):
			if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
				out.setdefault(node.name, []).append(node)
	return out


def _is_check(node: ast.AST, functions: dict, depth: int = 0) -> bool:
	"""Does this statement (or an app function it calls, 3 levels deep) check a role or a permission?"""
	for sub in ast.walk(node):
		if isinstance(sub, ast.Raise) and sub.exc is not None and "PermissionError" in ast.unparse(sub.exc):
			return True
		if not isinstance(sub, ast.Call):
			continue
		name = _call_name(sub)
		if name in PERMISSION_CALLS or name.rsplit(".", 1)[-1] in PERMISSION_CALLS:
			return True
		if name == "frappe.throw" and any(
			"PermissionError" in ast.unparse(a) for a in sub.args[1:] + [k.value for k in sub.keywords]
		):
			return True
		callee = name.rsplit(".", 1)[-1]
		if depth < 3 and callee in functions:
			if any(_is_check(stmt, functions, depth + 1) for fn in functions[callee] for stmt in fn.body):
				return True
	return False


def _reads_only(stmt: ast.stmt) -> bool:
	if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
		return True
	if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
		return True  # docstring
	value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
	return isinstance(value, ast.Call) and _call_name(value) in READ_CALLS


def whitelisted(files=None) -> list[tuple[str, ast.FunctionDef, bool]]:
	out = []
	for path in files or _python_files():
		try:
			module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
		except ValueError:  # a planted example outside the package
			module = path.stem
		for node in ast.parse(path.read_text()).body:
			if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
				continue
			for dec in node.decorator_list:
				call = dec if isinstance(dec, ast.Call) else None
				name = _call_name(call) if call else ast.unparse(dec)
				if name in ("frappe.whitelist", "whitelist"):
					guest = bool(call) and any(
						k.arg == "allow_guest" and isinstance(k.value, ast.Constant) and k.value.value
						for k in call.keywords
					)
					out.append((f"{module}.{node.name}", node, guest))
	return out


def unchecked_whitelisted(files=None) -> list[str]:
	"""Whitelisted, not guest, and acting before any role/permission check."""
	functions = _functions_by_name()
	bad = []
	for dotted, fn, guest in whitelisted(files):
		if guest:
			continue
		checked = False
		for stmt in fn.body:
			if _is_check(stmt, functions):
				checked = True
				break
			if not _reads_only(stmt):
				break
		if not checked:
			bad.append(dotted)
	return bad


# ---- tests -------------------------------------------------------------------------------------------------
def test_every_json_file_parses():
	for path in _json_files():
		json.loads(path.read_text())  # raises with the file's name in the traceback


def test_every_dotted_path_in_hooks_json_and_js_names_an_existing_function():
	assert len(dotted_paths_in_hooks()) >= 10  # the events, the scheduler and the install hooks are read
	assert unresolved_dotted_paths() == []


def test_every_frappe_enqueue_names_an_existing_function():
	assert sum(len(_enqueue_targets(ast.parse(p.read_text()))) for p in _python_files()) >= 3
	assert unresolved_enqueues() == []


def test_every_link_field_targets_a_known_doctype():
	assert {"QBO Realm", "QBO Conflict", "QBO Sync Log"} <= app_doctypes()
	assert bad_links() == []


def test_every_whitelisted_function_checks_a_role_or_permission_before_it_acts():
	found = {dotted for dotted, _, _ in whitelisted()}
	assert len(found) >= 5
	guests = {dotted for dotted, _, guest in whitelisted() if guest}
	assert guests == set(GUEST_ENDPOINTS), "a guest endpoint must say what it verifies instead of a role"
	assert sorted(set(unchecked_whitelisted()) - set(KNOWN_UNCHECKED)) == []
	assert sorted(set(KNOWN_UNCHECKED) - set(unchecked_whitelisted())) == [], (
		"fixed: remove from KNOWN_UNCHECKED"
	)


def test_the_guards_catch_what_they_claim(tmp_path):
	"""Planted mistakes, one per guard: each must be reported."""
	assert resolves(f"{APP}.erpnext.jobs.scheduler_tick")
	assert not resolves(f"{APP}.erpnext.jobs.scheduler_tik")
	assert not resolves(f"{APP}.erpnext.jbos.scheduler_tick")
	js = 'const M = "nexora_qbo.erpnext.jobs";\nfrappe.call({method: `${M}.scheduler_tick`});\nfrappe.call(`${M}.nope`);'
	assert [p for p in _js_paths(js) if not resolves(p)] == [f"{APP}.erpnext.jobs.nope"]
	bad_enqueue = tmp_path / "enq.py"
	bad_enqueue.write_text(f'import frappe\nfrappe.enqueue("{APP}.erpnext.jobs.no_such_job", queue="long")\n')
	assert unresolved_enqueues([bad_enqueue]) == [
		f"enq.py:2: frappe.enqueue('{APP}.erpnext.jobs.no_such_job')"
	]
	doctype = tmp_path / "thing.json"
	doctype.write_text(
		json.dumps(
			{
				"doctype": "DocType",
				"name": "Thing",
				"fields": [
					{"fieldname": "realm", "fieldtype": "Link", "options": "QBO Relam"},
					{"fieldname": "company", "fieldtype": "Link", "options": "Company"},
					{"fieldname": "ref", "fieldtype": "Dynamic Link", "options": "ref_type"},
				],
			}
		)
	)
	assert bad_links([doctype]) == [
		"thing.json: realm links to unknown DocType 'QBO Relam'",
		"thing.json: ref reads its DocType from missing field 'ref_type'",
	]
	api = tmp_path / "api.py"
	api.write_text(
		"import frappe\n"
		"@frappe.whitelist()\n"
		"def acts_first(name):\n"
		"	frappe.db.set_value('QBO Realm', name, 'enabled', 0)\n"
		"	frappe.only_for('System Manager')\n"
		"@frappe.whitelist(methods=['POST'])\n"
		"def never_checks(name):\n"
		"	return frappe.get_doc('QBO Realm', name).as_dict()\n"
		"@frappe.whitelist()\n"
		"def checks_doc(name):\n"
		"	doc = frappe.get_doc('QBO Realm', name)\n"
		"	doc.check_permission('write')\n"
		"	doc.save()\n"
		"@frappe.whitelist()\n"
		"def throws(name):\n"
		"	if not frappe.session.user:\n"
		"		frappe.throw('no', frappe.PermissionError)\n"
	)
	names = sorted(d.rsplit(".", 1)[-1] for d in unchecked_whitelisted([api]))
	assert names == ["acts_first", "never_checks"]


# ---- test companies ----------------------------------------------------------------------------------------
ABBR_LITERAL = re.compile(r"[\"'](_T[A-Z0-9]{2,6})[\"']")


def test_every_frappe_test_company_has_an_abbreviation_of_its_own():
	"""ERPNext refuses a second company with the same abbreviation, and the refusal comes from the setUpClass
	of whichever test class runs second: one shared abbreviation fails a whole other module in the bench."""
	seen: dict[str, list[str]] = {}
	for path in _python_files():
		for abbr in set(ABBR_LITERAL.findall(path.read_text())):
			seen.setdefault(abbr, []).append(path.name)
	assert len(seen) >= 8  # the Frappe test modules declare their companies' abbreviations as literals
	assert {a: files for a, files in seen.items() if len(files) > 1} == {}


def test_the_light_sales_invoice_read_loads_every_field_the_mapping_uses():
	"""mappers/sales_invoice.to_record reads a Sales Invoice with two queries (issue 9) instead of get_doc: a
	field the mapping uses but the query does not load reads as None, silently (an invoice discount was lost
	that way, so QBO's total differed)."""
	path = PACKAGE / "erpnext" / "mappers" / "sales_invoice.py"
	text = path.read_text()
	start = text.index("def to_record(")
	body = text[start : text.index("\ndef ", start + 10)]
	used = set(re.findall(r"\bdoc\.([a-z_]+)", body)) | set(re.findall(r'doc\.get\("([a-z_]+)"', body))
	loaded = set(re.findall(r'"([a-z_]+)"', re.search(r"_READ_FIELDS = \((.*?)\)\n", text, re.S).group(1)))
	assert used - loaded - {"get"} == set()


def test_the_light_sales_invoice_read_loads_every_row_field_the_line_mapping_uses():
	"""The same for the child rows (issue 11): the item rows (`it.`), the tax rows (`t.`) and the billed
	timesheet rows (`ts.`, and `r.` in timesheet_lines.py, which builds a timesheet line's description) are
	read with a field list each; a field used but not listed reads as None (a timesheet line would lose its
	worker and week)."""
	mappers = PACKAGE / "erpnext" / "mappers"
	si = (mappers / "sales_invoice.py").read_text()
	ts = (mappers / "timesheet_lines.py").read_text()

	def listed(pattern, text):
		return set(re.findall(r'"([a-z_]+)"', re.search(pattern, text, re.S).group(1)))

	def used(var, text):
		return set(re.findall(rf"\b{var}\.([a-z_]+)\b", text)) | set(re.findall(rf'\b{var}\.get\("([a-z_]+)"', text))

	items = listed(r"_ITEM_FIELDS = \((.*?)\)\n", si)
	taxes = listed(r'\("taxes", "Sales Taxes and Charges", \((.*?)\)\)', si)
	sheets = listed(r"TIMESHEET_FIELDS = \((.*?)\)\n", ts)
	assert "timesheet_lines.TIMESHEET_FIELDS" in si  # the light read loads the module's own list
	line_mapping = si[si.index("def _taxable_rows(") : si.index("\ndef list_ids(")]
	assert used("it", line_mapping) - items - {"get"} == set()
	assert used("t", line_mapping) - taxes == set()
	assert used("ts", line_mapping) - sheets == set()
	assert used("it", ts) - items - {"get"} == set()
	assert used("r", ts) - sheets == set()
	assert {"time_sheet", "billing_hours", "to_time"} <= sheets
