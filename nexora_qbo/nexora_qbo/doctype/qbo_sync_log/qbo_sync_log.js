// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.ui.form.on("QBO Sync Log", {
	refresh(frm) {
		frm.disable_save();
		if (frm.doc.conflict) {
			frm.add_custom_button(__("Open Conflict"), () => frappe.set_route("Form", "QBO Conflict", frm.doc.conflict));
		}
		if (frm.doc.reference_doctype && frm.doc.reference_name) {
			frm.add_custom_button(__("Open {0}", [__(frm.doc.reference_doctype)]), () =>
				frappe.set_route("Form", frm.doc.reference_doctype, frm.doc.reference_name)
			);
		}
	},
});
