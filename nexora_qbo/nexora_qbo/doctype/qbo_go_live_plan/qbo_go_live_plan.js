// QBO Go-Live Plan: rows are editable (Action, Local Record) while Draft; "Confirm and run" runs exactly them.
// While the confirmed plan runs, the form shows the same progress bar as the realm form (realtime event, and a
// poll of the realm's progress where the realtime server is not running).
frappe.ui.form.on("QBO Go-Live Plan", {
	onload(frm) {
		frappe.realtime.on("nexora_qbo_import_progress", (data) => {
			if (data.plan !== frm.doc.name) return;
			show_plan_progress(frm, data);
			if (data.finished) finish_plan_progress(frm);
		});
	},

	refresh(frm) {
		const draft = frm.doc.status === "Draft";
		frm.set_df_property("rows", "cannot_add_rows", true);
		frm.set_df_property("rows", "cannot_delete_rows", true);
		frm.set_df_property("rows", "read_only", draft ? 0 : 1);
		only_corrections(frm.fields_dict.rows.grid);
		frm.disable_save(!draft);
		if (!draft) frm.disable_save();
		if (frm.doc.status === "Confirmed") poll_plan_progress(frm);
		else if (frm.__qbo_last_progress) show_plan_progress(frm, frm.__qbo_last_progress);
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

// The rows come only from the preview: a person corrects a match or excludes a row, nothing else. Frappe's
// grid re-shows "Add Row" and "Upload" on every refresh of an editable table (setup_toolbar looks only at
// is_editable for Upload), so the grid instance itself is told, once, and its toolbar step re-hides them.
function only_corrections(grid) {
	if (!grid) return;
	grid.cannot_add_rows = true;
	grid.cannot_delete_rows = true;
	if (!grid.__qbo_only_corrections) {
		grid.__qbo_only_corrections = true;
		const setup_toolbar = grid.setup_toolbar.bind(grid);
		grid.setup_toolbar = function () {
			setup_toolbar();
			this.wrapper
				.find(".grid-add-row, .grid-add-multiple-rows, .grid-upload, .grid-download, .grid-remove-rows, .grid-remove-all-rows")
				.addClass("hidden");
		};
	}
	grid.refresh();
}

function show_plan_progress(frm, p) {
	const pct = p.total ? Math.round((100 * p.done) / p.total) : 0;
	const esc = frappe.utils.escape_html;
	frm.__qbo_last_progress = p;
	let $box = frm.dashboard.parent.find(".qbo-import-progress");
	if (!$box.length) {
		frm.dashboard.add_section('<div class="qbo-import-progress"></div>', __("Go-live"));
		$box = frm.dashboard.parent.find(".qbo-import-progress");
	}
	frm.dashboard.show();
	$box.html(`<div class="text-muted small">${esc(p.message || __("Waiting for the go-live to start"))}</div>
		<div class="progress" style="height:14px"><div class="progress-bar" role="progressbar" data-pct="${pct}"
		style="width:${pct}%" aria-valuenow="${pct}" aria-valuemin="0" aria-valuemax="100">${pct} %</div></div>`);
}

function finish_plan_progress(frm) {
	frm.__qbo_polling = false;
	setTimeout(() => frm.reload_doc(), 1500);
}

function poll_plan_progress(frm) {
	if (frm.__qbo_polling) return;
	frm.__qbo_polling = true;
	show_plan_progress(frm, { done: 0, total: 1, message: "" });
	const tick = () => {
		if (!frm.__qbo_polling || frm.doc.doctype !== "QBO Go-Live Plan") return;
		frappe.call({
			method: "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm.import_progress",
			args: { realm: frm.doc.realm },
			callback(r) {
				const p = r.message || {};
				if (p.total && (!p.plan || p.plan === frm.doc.name)) show_plan_progress(frm, p);
				if (p.finished && p.plan === frm.doc.name) finish_plan_progress(frm);
				else setTimeout(tick, 1000);
			},
		});
	};
	tick();
}
