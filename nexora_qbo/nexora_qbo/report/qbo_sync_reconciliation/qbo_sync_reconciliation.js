// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.query_reports["QBO Sync Reconciliation"] = {
	filters: [
		{
			fieldname: "realm",
			label: __("Realm"),
			fieldtype: "Link",
			options: "QBO Realm",
			reqd: 1,
		},
		{
			fieldname: "month",
			label: __("Month"),
			fieldtype: "Select",
			options: last_months(24),
			default: last_months(1)[0],
			reqd: 1,
		},
		{
			fieldname: "view",
			label: __("View"),
			fieldtype: "Select",
			options: ["Sync", "AR tie-out"].join("\n"),
			default: "Sync",
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "section" && data) {
			if (
				data.section === __("Awaiting review") ||
				data.section.startsWith(__("Still failing")) ||
				data.section === __("AR tie-out: unexplained")
			) {
				value = `<span class="text-danger">${value}</span>`;
			}
		}
		return value;
	},
};

function last_months(n) {
	const out = [];
	const d = new Date();
	d.setDate(1);
	for (let i = 0; i < n; i++) {
		out.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`);
		d.setMonth(d.getMonth() - 1);
	}
	return out;
}
