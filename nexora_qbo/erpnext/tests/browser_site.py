"""Makes a bench site usable for the browser tests (browser_tests/):

    bench --site <site> execute nexora_qbo.erpnext.tests.browser_site.prepare

`bench execute` (not `bench console`, which never commits what it is fed) commits at the end; this function
commits itself too, so the company is there for the browser whatever runs it. Test-only: refused unless the
site allows tests."""

from __future__ import annotations

import frappe

COMPANY, ABBR = "_Test NQB Browser", "_TNQB"


def prepare(company: str = COMPANY, abbr: str = ABBR) -> str:
	if not frappe.conf.get("allow_tests"):
		frappe.throw("browser_site.prepare runs only on a site with allow_tests set")
	from nexora_qbo.erpnext.tests.utils import ensure_company, ensure_fiscal_year

	frappe.set_user("Administrator")
	# the app's test set-up first (ERPNext's setup wizard on a site without a company): a company made here
	# first would make the Frappe tests' before_tests skip it, and the site would lack price lists, UOMs…
	from nexora_qbo.erpnext.setup import before_tests

	before_tests()
	# the setup wizard is marked done (the desk would otherwise open it)
	frappe.db.sql(
		"update `tabInstalled Application` set is_setup_complete=1 where app_name in ('frappe','erpnext')"
	)
	frappe.db.set_single_value("System Settings", "setup_complete", 1)
	ensure_fiscal_year()
	# what ERPNext's setup wizard would have made and a company's default warehouses link to (a fresh site
	# without the wizard refuses the company: "Could not find Warehouse Type: Transit")
	if not frappe.db.exists("Warehouse Type", "Transit"):
		frappe.get_doc({"doctype": "Warehouse Type", "name": "Transit"}).insert(ignore_permissions=True)
	ensure_company(company, abbr)
	frappe.db.commit()  # noqa: test set-up script run by `bench execute`, not library code
	print(f"prepared {company}: {frappe.db.exists('Company', company)}")
	return company
