// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.ui.form.on("QBO Settings", {
	refresh(frm) {
		frm.add_custom_button(__("QBO Realms"), () => frappe.set_route("List", "QBO Realm"));
	},
});
