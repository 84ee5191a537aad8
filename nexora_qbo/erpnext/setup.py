"""Install, migrate and test setup.

- Custom fields: a small read-only "QuickBooks" section (QBO Id, sync status) on Customer, Item, Sales
  Invoice and Payment Entry, created with `module="Nexora QBO"` so uninstalling the app removes them.
  They are display only: the authoritative ids live in QBO Entity Map. Fieldnames are prefixed
  `nexora_qbo_` (never `quickbooks_id`, which old ERPNext migrator sites still carry, frappe-notes A4).
- QBO Settings defaults and the Log Settings registration of the audit log's retention.
- `before_tests`: our test runs do not run ERPNext's before_tests, so we make sure a Company, a fiscal year
  for today and a second company (for realm-isolation tests) exist, like erpnext and india_compliance do.
"""

from __future__ import annotations

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.utils import cint, getdate

from nexora_qbo.erpnext import constants as K

# Where the section goes: the end of a section/tab, so it never captures standard fields after it.
_INSERT_AFTER = {
	"Customer": "disabled",
	"Item": "total_projected_qty",
	"Sales Invoice": "remarks",
	"Payment Entry": "title",
}

TEST_COMPANY_2 = "_Test Nexora QBO 2"


def get_custom_fields() -> dict[str, list[dict]]:
	fields = {}
	for doctype, insert_after in _INSERT_AFTER.items():
		fields[doctype] = [
			{
				"fieldname": K.CF_SECTION,
				"label": "QuickBooks",
				"fieldtype": "Section Break",
				"insert_after": insert_after,
				"collapsible": 1,
				"module": K.MODULE,
			},
			{
				"fieldname": K.CF_QBO_ID,
				"label": "QBO Id",
				"fieldtype": "Data",
				"insert_after": K.CF_SECTION,
				"read_only": 1,
				"no_copy": 1,
				"allow_on_submit": 1,
				"print_hide": 1,
				"module": K.MODULE,
				"description": "Set by the sync; the authoritative link is in QBO Entity Map.",
			},
			{
				"fieldname": K.CF_SYNC_STATUS,
				"label": "QBO Sync Status",
				"fieldtype": "Select",
				"options": "\n".join(K.SYNC_STATUS_OPTIONS),
				"insert_after": K.CF_QBO_ID,
				"read_only": 1,
				# the list view's QuickBooks indicator and its "filter by sync status"
				"in_list_view": 1,
				"in_standard_filter": 1,
				"no_copy": 1,
				"allow_on_submit": 1,
				"print_hide": 1,
				"module": K.MODULE,
			},
		]
	_staffing_fields(fields)
	return fields


def _staffing_fields(fields: dict) -> None:
	"""Issue 11: QBO's number on the invoice (searchable), client jobs and tax exemption on the customer.
	ERPNext has no customer hierarchy (Customer Group is a classification, not the bill-to client), so a job
	site is its own Customer (its invoices, outstanding and address are its own, as in QBO) with a Link to the
	client it belongs to."""
	common = {"module": K.MODULE, "print_hide": 1}
	fields["Sales Invoice"].append({"fieldname": K.CF_QBO_DOC_NUMBER, "label": "QBO Number", "fieldtype": "Data",
		"insert_after": K.CF_SYNC_STATUS, "read_only": 1, "no_copy": 1, "allow_on_submit": 1, "search_index": 1,
		"in_standard_filter": 1, "in_global_search": 1, **common,
		"description": "The invoice's number in QuickBooks (QuickBooks-born, or numbered by QuickBooks)."})
	fields["Customer"] += [
		{"fieldname": K.CF_PARENT_CUSTOMER, "label": "Job of Client (QBO parent customer)", "fieldtype": "Link",
			"options": "Customer", "insert_after": K.CF_SYNC_STATUS, **common,
			"description": "Set for a job site or department billed as a QuickBooks sub-customer of this client."},
		{"fieldname": K.CF_BILL_WITH_PARENT, "label": "Bill with Client", "fieldtype": "Check",
			"insert_after": K.CF_PARENT_CUSTOMER, "depends_on": f"eval:doc.{K.CF_PARENT_CUSTOMER}", **common},
		{"fieldname": K.CF_TAX_EXEMPT, "label": "Exempt from Sales Tax", "fieldtype": "Check",
			"insert_after": K.CF_BILL_WITH_PARENT, **common},
		{"fieldname": K.CF_EXEMPTION_REASON, "label": "Exemption Reason (QBO)", "fieldtype": "Select",
			"options": "\n" + "\n".join(str(n) for n in range(1, 16)), "insert_after": K.CF_TAX_EXEMPT,
			"depends_on": f"eval:doc.{K.CF_TAX_EXEMPT}", **common,
			"description": "QuickBooks' exemption reason number (TaxExemptionReasonId), e.g. 1 Federal government, "
			"2 State government, 9 Resale; check the list in QuickBooks' customer form."},
	]


def after_install():
	make_custom_fields()
	set_default_settings()
	make_workspace_block()


def after_migrate():
	make_custom_fields()
	set_default_settings()
	make_workspace_block()


WORKSPACE_BLOCK = "QuickBooks Overview"
_BLOCK_DIR = ("nexora_qbo", "workspace", "quickbooks", "block")


def make_workspace_block():
	"""The workspace's per-realm cards and chart: a Custom HTML Block whose HTML/JS/CSS live in the repo
	(nexora_qbo/workspace/quickbooks/block/), rewritten on every migrate so the record follows the code."""
	import os

	base = frappe.get_app_path(K.APP, *_BLOCK_DIR)

	def read(ext):
		with open(os.path.join(base, f"realm_overview.{ext}")) as f:
			return f.read()

	if frappe.db.exists("Custom HTML Block", WORKSPACE_BLOCK):
		doc = frappe.get_doc("Custom HTML Block", WORKSPACE_BLOCK)
	else:
		doc = frappe.new_doc("Custom HTML Block")
	doc.html, doc.script, doc.style, doc.private = read("html"), read("js"), read("css"), 0
	doc.set("roles", [{"role": r} for r in K.READER_ROLES])
	doc.flags.ignore_permissions = True
	if doc.is_new():
		doc.insert(set_name=WORKSPACE_BLOCK)
	else:
		doc.save()


def make_custom_fields():
	create_custom_fields(get_custom_fields(), update=True)


def set_default_settings():
	days = cint(frappe.db.get_single_value(K.SETTINGS, "log_retention_days"))
	if not days:
		frappe.db.set_single_value(K.SETTINGS, "log_retention_days", K.DEFAULT_LOG_RETENTION_DAYS)
	elif days < K.MIN_LOG_RETENTION_DAYS:  # set by an older version: the floor applies from now on
		frappe.db.set_single_value(K.SETTINGS, "log_retention_days", K.MIN_LOG_RETENTION_DAYS)
	register_log_retention()


def register_log_retention():
	"""Log Settings clears registered logs daily; register ours with our retention (clear_old_logs never
	deletes younger rows than QBO Settings says anyway)."""
	if not frappe.db.exists("DocType", "Log Settings"):
		return
	settings = frappe.get_single("Log Settings")
	days = cint(frappe.db.get_single_value(K.SETTINGS, "log_retention_days")) or K.DEFAULT_LOG_RETENTION_DAYS
	settings.register_doctype(K.SYNC_LOG, days)
	settings.flags.ignore_permissions = True
	settings.save()


def before_uninstall():
	"""Custom fields go with the module (module="Nexora QBO"); nothing else to undo."""


# --------------------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------------------


def allow_custom_base_url_for_tests() -> None:
	"""The app's tests point realms at the local sandbox (environment "custom"): allow it for this process
	only, as a site running the sandbox would in its site_config."""
	frappe.local.conf.setdefault(
		K.ALLOW_CUSTOM_BASE_URL_CONF, 1
	)  # a test that withdraws it keeps it withdrawn


def before_tests():
	frappe.clear_cache()
	allow_custom_base_url_for_tests()
	today = getdate()
	if not frappe.db.a_row_exists("Company"):
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		setup_complete(
			{
				"currency": "USD",
				"full_name": "Test User",
				"company_name": "Nexora Staffing US",
				"timezone": "America/New_York",
				"company_abbr": "NSU",
				"industry": "Services",
				"country": "United States",
				"fy_start_date": f"{today.year}-01-01",
				"fy_end_date": f"{today.year}-12-31",
				"language": "english",
				"company_tagline": "Testing",
				"email": "test@example.com",
				"password": "test",
				"chart_of_accounts": "Standard",
			}
		)
	wizard_fixtures_for_tests()
	ensure_fiscal_year(today)
	ensure_company(TEST_COMPANY_2, "_TNQ2")
	for key in ("Customer Group", "Item Group", "Territory"):
		from frappe.utils.nestedset import get_root_of

		if not frappe.db.get_default(frappe.scrub(key)):
			frappe.db.set_default(frappe.scrub(key), get_root_of(key))
	make_custom_fields()
	set_default_settings()
	frappe.db.commit()  # nosemgrep: test setup, like erpnext.setup.utils.before_tests


def wizard_fixtures_for_tests() -> None:
	"""What ERPNext's setup wizard makes and the tests build on (item groups, UOMs, genders, warehouse types,
	the standard price lists, USD as the global currency), on a test site whose wizard never ran: setup_complete
	above runs only without any company, and a site where a company was made first (by hand, by the browser
	tests' prepare) or marked set up would otherwise lack them ("Could not find Price List: Standard Selling")."""
	if frappe.db.exists("Price List", "Standard Selling"):
		return
	from erpnext.setup.setup_wizard.operations.install_fixtures import install, install_defaults

	install("United States")
	install_defaults(frappe._dict(currency="USD", country="United States", company_name=None))
	for doctype, field, value in (("Selling Settings", "selling_price_list", "Standard Selling"),
		("Buying Settings", "buying_price_list", "Standard Buying")):
		if not frappe.db.get_single_value(doctype, field):
			frappe.db.set_single_value(doctype, field, value)


def ensure_fiscal_year(day) -> None:
	from erpnext.accounts.utils import FiscalYearError, get_fiscal_year

	try:
		get_fiscal_year(day, verbose=0)
		return
	except FiscalYearError:
		pass
	year = frappe.get_doc(
		{
			"doctype": "Fiscal Year",
			"year": str(day.year),
			"year_start_date": f"{day.year}-01-01",
			"year_end_date": f"{day.year}-12-31",
		}
	)
	year.insert(ignore_permissions=True)


def ensure_company(name: str, abbr: str) -> None:
	if frappe.db.exists("Company", name):
		return
	frappe.get_doc(
		{
			"doctype": "Company",
			"company_name": name,
			"abbr": abbr,
			"default_currency": "USD",
			"country": "United States",
			"create_chart_of_accounts_based_on": "Standard Template",
			"chart_of_accounts": "Standard",
		}
	).insert(ignore_permissions=True)
