// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.listview_settings["QBO Conflict"] = {
	add_fields: ["status", "kind"],
	filters: [["status", "=", "Open"]],
	get_indicator(doc) {
		const colors = { Open: "orange", Resolved: "green", "Auto-resolved": "blue" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
