// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.listview_settings["QBO Conflict"] = {
	add_fields: ["status", "kind_label"],
	filters: [["status", "=", "Open"]],
	get_indicator(doc) {
		const colors = { Open: "orange", Resolved: "green", "Auto-resolved": "blue" };
		const words = { Open: __("Open"), Resolved: __("Resolved"), "Auto-resolved": __("Settled by the sync") };
		return [words[doc.status] || __(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
