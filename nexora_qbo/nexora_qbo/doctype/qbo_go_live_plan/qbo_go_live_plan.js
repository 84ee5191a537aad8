// QBO Go-Live Plan: rows are editable (Action, Local Record) while Draft; "Confirm and run" runs exactly them.
frappe.ui.form.on("QBO Go-Live Plan", {
	refresh(frm) {
		const draft = frm.doc.status === "Draft";
		frm.set_df_property("rows", "cannot_add_rows", true);
		frm.set_df_property("rows", "cannot_delete_rows", true);
		frm.set_df_property("rows", "read_only", draft ? 0 : 1);
		frm.disable_save(!draft);
		if (!draft) frm.disable_save();
		if (draft && !frm.is_dirty()) {
			frm.add_custom_button(__("Confirm and run"), () =>
				frappe.confirm(
					__("Run exactly this plan for {0}? Linked and imported records, opening balances and the first export are written now.", [frm.doc.company]),
					() =>
						frappe.call({
							method: "nexora_qbo.nexora_qbo.doctype.qbo_go_live_plan.qbo_go_live_plan.confirm_and_run",
							args: { plan: frm.doc.name },
							freeze: true,
							callback: () => {
								frappe.show_alert({ message: __("Go-live queued"), indicator: "green" });
								frm.reload_doc();
							},
						})
				)
			);
		}
	},
});
