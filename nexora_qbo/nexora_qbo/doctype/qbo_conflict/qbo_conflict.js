// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

frappe.ui.form.on("QBO Conflict", {
	refresh(frm) {
		const onload = frm.doc.__onload || {};
		frm.get_field("diff_html").$wrapper.html(onload.diff_html || "");
		frm.disable_save();

		if (frm.doc.reason) {
			frm.set_intro(frappe.utils.escape_html(frm.doc.reason), frm.doc.status === "Open" ? "orange" : "blue");
		}
		if (frm.doc.requested_action && frm.doc.status === "Open") {
			frm.dashboard.add_indicator(
				__("{0} requested by {1}", [frm.doc.requested_action, frm.doc.requested_by]),
				"blue"
			);
		}
		if (!onload.can_resolve) return;

		(onload.actions || []).forEach(({ action, label }) => {
			frm.add_custom_button(__(label), () => resolve(frm, action, label), __("Resolve"));
		});
	},
});

function resolve(frm, action, label) {
	const dialog = new frappe.ui.Dialog({
		title: __(label),
		fields: [
			{
				fieldtype: "Small Text",
				fieldname: "note",
				label: __("Note (kept with the conflict)"),
			},
		],
		primary_action_label: __(label),
		primary_action({ note }) {
			dialog.hide();
			frappe.call({
				method: "nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict.resolve",
				args: { conflict: frm.doc.name, action, note },
				freeze: true,
				callback: () => {
					frappe.show_alert({ message: __("Queued: {0}", [__(label)]), indicator: "green" });
					frm.reload_doc();
				},
			});
		},
	});
	dialog.show();
}
