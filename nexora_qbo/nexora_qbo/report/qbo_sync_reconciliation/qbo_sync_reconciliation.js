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
	onload(report) {
		// the tie-out runs every night; a bookkeeper closing the month runs it now, without a command line
		report.page.add_inner_button(__("Run tie-out now"), () => {
			const realm = report.get_filter_value("realm");
			if (!realm) return frappe.msgprint(__("Choose the realm first."));
			const latest = () =>
				frappe.db
					.get_list("QBO Tie Out", { filters: { realm }, fields: ["run_at"], order_by: "run_at desc", limit: 1 })
					.then((rows) => (rows.length ? rows[0].run_at : null));
			latest().then((before) =>
				frappe.call({
					method: "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm.run_tie_out",
					args: { realm },
					callback: () => {
						frappe.show_alert({ message: __("Comparing ERPNext's receivables with QuickBooks' A/R..."), indicator: "blue" });
						let tries = 0;
						const tick = () =>
							latest().then((now) => {
								if (now && now !== before) {
									report.set_filter_value("view", "AR tie-out");
									report.refresh();
								} else if (tries++ < 60) setTimeout(tick, 2000);
							});
						tick();
					},
				})
			);
		});
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
