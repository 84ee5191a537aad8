// The list view's QuickBooks column: the QBO Sync Status stamped by the sync, as a coloured pill that
// filters the list when clicked (the field itself is a standard filter: "QBO Sync Status").
(function () {
	const FIELD = "nexora_qbo_sync_status";
	const COLORS = {
		Synced: "green",
		"In Review": "orange",
		"Needs Review": "orange",
		Failed: "red",
		Queued: "blue",
		"Voided in QBO": "gray",
		"Deleted in QBO": "gray",
	};
	Object.keys({ Customer: 1, Item: 1, "Sales Invoice": 1, "Payment Entry": 1 }).forEach((doctype) => {
		const settings = (frappe.listview_settings[doctype] = frappe.listview_settings[doctype] || {});
		settings.add_fields = (settings.add_fields || []).concat([FIELD]);
		settings.formatters = settings.formatters || {};
		settings.formatters[FIELD] = (value) => {
			if (!value) return "";
			const label = value === "Needs Review" ? "In Review" : value;
			return `<span class="indicator-pill ${COLORS[value] || "gray"} filterable" data-filter="${FIELD},=,${frappe.utils.escape_html(value)}">${__(label)}</span>`;
		};
	});
})();
