// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

// The review item as an accountant's comparison (built on the server: nexora_qbo.erpnext.review_view),
// what each button does to each book, and the buttons themselves: each asks for confirmation, names its
// effect on ERPNext and on QuickBooks again, and is recorded (who, when, note) before the engine acts.
frappe.ui.form.on("QBO Conflict", {
	refresh(frm) {
		const onload = frm.doc.__onload || {};
		frm.get_field("diff_html").$wrapper.html(onload.diff_html || "");
		frm.get_field("actions_html").$wrapper.html(frm.doc.status === "Open" ? onload.actions_html || "" : "");
		frm.disable_save();

		if (frm.doc.reason) {
			frm.set_intro(frappe.utils.escape_html(frm.doc.reason), frm.doc.status === "Open" ? "orange" : "blue");
		}
		if (frm.doc.status !== "Open" && onload.resolution_words) {
			frm.dashboard.add_indicator(__("Settled: {0}", [onload.resolution_words]), "green");
		}
		if (frm.doc.requested_action && frm.doc.status === "Open") {
			frm.dashboard.add_indicator(
				__("“{0}” requested by {1}; being carried out", [onload.requested_label || frm.doc.requested_action, frm.doc.requested_by]),
				"blue"
			);
		}
		if (frm.doc.reference_doctype && frm.doc.reference_name) {
			frm.add_custom_button(__("Open {0}", [__(frm.doc.reference_doctype)]), () =>
				frappe.set_route("Form", frm.doc.reference_doctype, frm.doc.reference_name)
			);
		}
		if (onload.qbo_url) {
			frm.add_custom_button(__("Open in QuickBooks"), () => window.open(onload.qbo_url, "_blank", "noopener"));
		}
		frm.add_custom_button(__("Audit Trail ({0})", [onload.audit_count || 0]), () =>
			frappe.set_route(
				"List",
				"QBO Sync Log",
				frm.doc.reference_name
					? { reference_doctype: frm.doc.reference_doctype, reference_name: frm.doc.reference_name }
					: { conflict: frm.doc.name }
			)
		);
		if (!onload.can_resolve || frm.doc.requested_action) return;

		(onload.actions || []).forEach((a) => {
			const btn = frm.add_custom_button(__(a.label), () => resolve(frm, a), __("Resolve"));
			btn && btn.attr && btn.attr("data-qbo-action", a.action);
		});
	},
});

function resolve(frm, a) {
	const esc = frappe.utils.escape_html;
	const dialog = new frappe.ui.Dialog({
		title: __(a.label),
		fields: [
			{
				fieldtype: "HTML",
				fieldname: "effect",
				options:
					`<p>${__("This will:")}</p><ul>` +
					`<li><b>${__("ERPNext")}:</b> ${esc(a.erpnext)}</li>` +
					`<li><b>${__("QuickBooks")}:</b> ${esc(a.quickbooks)}</li></ul>` +
					`<p class="text-muted">${__("Your choice, your name and the note are recorded on this review item.")}</p>`,
			},
			{ fieldtype: "Small Text", fieldname: "note", label: __("Note (kept with the review item)") },
		],
		primary_action_label: __("Yes, {0}", [__(a.label)]),
		primary_action({ note }) {
			dialog.hide();
			frappe.call({
				method: "nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict.resolve",
				args: { conflict: frm.doc.name, action: a.action, note },
				freeze: true,
				callback: () => {
					frappe.show_alert({ message: __("“{0}” is being carried out", [__(a.label)]), indicator: "green" });
					frm.reload_doc();
					// the engine acts in a background job: look again when it has had time to finish
					setTimeout(() => frm.reload_doc(), 4000);
				},
			});
		},
	});
	dialog.show();
}
