# Run inside `bench --site <site> console` (stdin): makes a fresh bench site usable for the browser tests.
# The setup wizard is marked done (the desk would otherwise open it) and the test company exists.
import frappe

from nexora_qbo.erpnext.tests.utils import ensure_company, ensure_fiscal_year

frappe.db.sql("update `tabInstalled Application` set is_setup_complete=1 where app_name in ('frappe','erpnext')")
ensure_fiscal_year()
ensure_company("_Test NQB Browser", "_TNQB")
frappe.db.commit()
print("prepared")
