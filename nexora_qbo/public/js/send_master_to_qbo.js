// Customers and Items are shared by every company in ERPNext; each QuickBooks company belongs to one.
// A master goes to a company's QuickBooks with that company's first document that uses it, or with this
// button (Accounts Manager / System Manager): a person's choice, per record and per company.
function nexora_qbo_send_master(frm) {
	if (frm.is_new()) return;
	if (!frappe.user.has_role("Accounts Manager") && !frappe.user.has_role("System Manager")) return;
	frm.add_custom_button(__("Send to QuickBooks"), () => {
		frappe.prompt(
			[{ fieldname: "company", fieldtype: "Link", options: "Company", label: __("Company"), reqd: 1,
				description: __("The company whose QuickBooks should get this record now.") }],
			(values) =>
				frappe.call({
					method: "nexora_qbo.erpnext.events.export_master",
					args: { doctype: frm.doctype, name: frm.doc.name, company: values.company },
					freeze: true,
					callback: () => frappe.show_alert({ message: __("Queued for QuickBooks"), indicator: "green" }),
				}),
			__("Send to QuickBooks"),
			__("Send")
		);
	});
}

frappe.ui.form.on("Customer", { refresh: nexora_qbo_send_master });
frappe.ui.form.on("Item", { refresh: nexora_qbo_send_master });
