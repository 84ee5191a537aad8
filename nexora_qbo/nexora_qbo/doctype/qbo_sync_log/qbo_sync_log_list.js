// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.listview_settings["QBO Sync Log"] = {
	add_fields: ["outcome", "http_status"],
	get_indicator(doc) {
		if (doc.outcome === "ok") return [__("OK"), "green", "outcome,=,ok"];
		return [__(doc.outcome || "?"), "red", `outcome,=,${doc.outcome}`];
	},
};
