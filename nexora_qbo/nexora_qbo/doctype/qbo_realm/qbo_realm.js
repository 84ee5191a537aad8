// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

const QBO_REALM_METHOD = "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm";

frappe.ui.form.on("QBO Realm", {
	setup(frm) {
		const by_company = (extra) => () => ({
			filters: Object.assign({ company: frm.doc.company, is_group: 0 }, extra || {}),
		});
		frm.set_query("receivable_account", by_company({ account_type: "Receivable" }));
		frm.set_query("income_account", by_company({ root_type: "Income" }));
		frm.set_query("tax_account", by_company());
		frm.set_query("payment_account", by_company({ account_type: ["in", ["Bank", "Cash"]] }));
		frm.set_query("cost_center", by_company());
	},

	onload(frm) {
		frappe.realtime.on("nexora_qbo_go_live_plan", (data) => {
			if (data.realm !== frm.doc.name) return;
			frappe.set_route("Form", "QBO Go-Live Plan", data.plan);
		});
		// live progress of the initial import: realtime (socket.io) when it runs, and a poll of the realm's
		// import status as a fallback, so the bar moves even where the realtime server is not running
		frappe.realtime.on("nexora_qbo_import_progress", (data) => {
			if (data.realm !== frm.doc.name) return;
			show_progress(frm, data.done, data.total, data.message);
			if (data.finished) finish_progress(frm);
		});
	},

	refresh(frm) {
		frm.trigger("show_indicators");
		if (frm.is_new()) return;
		show_checklist(frm);
		if (["Queued", "Running"].includes(frm.doc.initial_import_status)) poll_import(frm);
		const can_manage = frm.doc.__onload && frm.doc.__onload.can_manage;
		if (!can_manage) return;

		const connected = frm.doc.connection_status === "Connected";
		frm.add_custom_button(
			connected ? __("Reconnect to QuickBooks") : __("Connect to QuickBooks"),
			() =>
				connected
					? frappe.confirm(
							__(
								"Reconnect {0} to QuickBooks? You will sign in at Intuit again; pick the same QuickBooks company ({1}). Syncing goes on with the new connection.",
								[frm.doc.company, frm.doc.qbo_company_name || frm.doc.realm_id]
							),
							() => frm.trigger("connect_to_quickbooks")
					  )
					: frm.trigger("connect_to_quickbooks")
		);
		if (connected) {
			frm.add_custom_button(__("Sync Now"), () => call(frm, "sync_now", __("Sync queued")), __("Sync"));
			// the first import/export goes through a go-live plan a person checks and confirms
			const preview = () =>
				frappe.confirm(
					__("Preview what the go-live of {0} would link, import, create and open? Nothing is written until you confirm the plan.", [
						frm.doc.company,
					]),
					() => preview_and_open_plan(frm)
				);
			frm.add_custom_button(__("Preview go-live"), preview, __("Sync"));
			frm.add_custom_button(
				__("Initial Import"),
				preview,
				__("Sync")
			);
			// not under Sync: cutting the connection is not a kind of sync
			frm.add_custom_button(
				__("Disconnect"),
				() =>
					frappe.confirm(
						__("Revoke the connection to QuickBooks? Syncing stops until you connect again."),
						() => call(frm, "disconnect", __("Disconnecting"))
					),
				__("Connection")
			);
		}
		if (frm.doc.__onload && frm.doc.__onload.can_reset && frm.doc.realm_id) {
			frm.add_custom_button(
				__("Reset (to connect another QuickBooks company)"),
				() =>
					frappe.confirm(
						__(
							"Remove this realm's mappings, pull cursor and outbox, close its open review items and disconnect it, so that another QuickBooks company can be connected? The audit trail is kept."
						),
						() => call(frm, "reset_realm", __("Realm reset"))
					),
				__("Connection")
			);
		}
		if (connected) {
			frm.add_custom_button(__("Read QuickBooks settings"), () =>
				call(frm, "read_qbo_settings", __("Reading QuickBooks' settings and lists"))
			, __("Sync"));
		}
		frm.trigger("show_setup_help");
		frm.add_custom_button(__("Review Queue"), () =>
			frappe.set_route("List", "QBO Conflict", { realm: frm.doc.name, status: "Open" })
		);
		frm.add_custom_button(__("Sync Log"), () =>
			frappe.set_route("List", "QBO Sync Log", { realm: frm.doc.name })
		);
	},

	show_indicators(frm) {
		const onload = frm.doc.__onload || {};
		const days = onload.hard_expiry_days_left;
		if (days !== undefined && days !== null && days <= 30) {
			frm.dashboard.set_headline_alert(
				days < 0
					? __("The QuickBooks connection has expired. Connect again.")
					: __("The QuickBooks connection expires in {0} days. Connect again before then.", [days]),
				days < 7 ? "red" : "orange"
			);
		} else if (frm.doc.connection_status === "Needs Reconnect") {
			frm.dashboard.set_headline_alert(
				__("QuickBooks refused the stored tokens. Connect again; nothing is lost, changes wait in the outbox."),
				"red"
			);
		}
		if (onload.health) {
			frm.dashboard.add_indicator(onload.health.label, onload.health.color);
		}
		if (onload.open_conflicts) {
			frm.dashboard.add_indicator(__("{0} open in review queue", [onload.open_conflicts]), "orange");
		}
		if (onload.pending_outbox) {
			frm.dashboard.add_indicator(__("{0} changes waiting to be sent", [onload.pending_outbox]), "blue");
		}
	},

	show_setup_help(frm) {
		const onload = frm.doc.__onload || {};
		if (onload.location_hint) {
			frm.set_intro(onload.location_hint, "orange");
			frm.add_custom_button(__("Create location dimension"), () =>
				frappe.confirm(__("Create the Branch accounting dimension for QuickBooks locations?"), () =>
					frappe.call({
						method: `${QBO_REALM_METHOD}.create_location_dimension`,
						args: { realm: frm.doc.name },
						freeze: true,
						callback: (r) => {
							const ready = r.message && r.message.ready;
							frappe.show_alert({
								message: ready
									? __("Location dimension created")
									: __("Location dimension created; ERPNext adds it to invoices in the background"),
								indicator: "green",
							});
							frm.reload_doc();
						},
					})
				)
			);
		}
		const rows = onload.suggested_maps || [];
		if (rows.length) {
			frm.dashboard.add_indicator(rows.length === 1 ? __("1 suggested mapping to confirm")
				: __("{0} suggested mappings to confirm", [rows.length]), "blue");
			frm.add_custom_button(__("Confirm suggested mappings"), () => {
				const d = new frappe.ui.Dialog({
					title: __("Suggested mappings (by name)"),
					fields: [{
						fieldname: "rows", fieldtype: "Table", cannot_add_rows: true, in_place_edit: false,
						data: rows.map((r) => Object.assign({ use: 1 }, r)),
						fields: [
							{ fieldname: "use", fieldtype: "Check", label: __("Add"), in_list_view: 1 },
							{ fieldname: "map_type", fieldtype: "Data", label: __("ERPNext list"), in_list_view: 1, read_only: 1 },
							{ fieldname: "local_value", fieldtype: "Data", label: __("ERPNext value"), in_list_view: 1, read_only: 1 },
							{ fieldname: "qbo_name", fieldtype: "Data", label: __("QuickBooks"), in_list_view: 1, read_only: 1 },
						],
					}],
					primary_action_label: __("Add checked mappings"),
					primary_action(values) {
						const picked = (values.rows || []).filter((r) => r.use);
						frappe.call({
							method: `${QBO_REALM_METHOD}.add_suggested_maps`,
							args: { realm: frm.doc.name, rows: picked },
							callback: (r) => {
								d.hide();
								frappe.show_alert({ message: __("{0} mappings added", [r.message.added]), indicator: "green" });
								frm.reload_doc();
							},
						});
					},
				});
				// Frappe's grid shows Add Row / Add Multiple / Upload on an editable table even with
				// cannot_add_rows (grid.setup_toolbar un-hides them): a suggestion list takes no new rows
				d.$wrapper.append("<style>.qbo-suggested-maps .grid-add-row, .qbo-suggested-maps .grid-add-multiple-rows,"
					+ " .qbo-suggested-maps .grid-upload { display: none !important; }</style>");
				d.$wrapper.addClass("qbo-suggested-maps");
				d.show();
			});
		}
	},

	connect_to_quickbooks(frm) {
		const go = () =>
			frappe.call({
				method: `${QBO_REALM_METHOD}.connect`,
				args: { realm: frm.doc.name },
				freeze: true,
				callback: (r) => {
					if (r.message && r.message.authorize_url) {
						window.open(r.message.authorize_url, "_self");
					}
				},
			});
		if (frm.is_dirty()) {
			frm.save().then(go);
		} else {
			go();
		}
	},
});

function call(frm, method, message) {
	return frappe.call({
		method: `${QBO_REALM_METHOD}.${method}`,
		args: { realm: frm.doc.name },
		freeze: true,
		callback: () => {
			frappe.show_alert({ message, indicator: "green" });
			frm.reload_doc();
		},
	});
}

function show_checklist(frm) {
	const steps = (frm.doc.__onload && frm.doc.__onload.setup_steps) || [];
	if (!steps.length || steps.every((s) => s.done)) return;
	const esc = frappe.utils.escape_html;
	const next = steps.find((s) => !s.done);
	const items = steps
		.map((s, i) => {
			const mark = s.done ? "✓" : i + 1;
			const cls = s.done ? "text-success" : s === next ? "" : "text-muted";
			const hint = s === next ? `<div class="text-muted small">${esc(s.hint)}</div>` : "";
			return `<li class="${cls}" data-step="${esc(s.key)}" data-done="${s.done ? 1 : 0}" style="margin-bottom:4px"><b>${mark}</b> ${esc(s.label)}${hint}</li>`;
		})
		.join("");
	const html = `<div class="qbo-setup-checklist"><b>${__("Set up this QuickBooks company")}</b>
		<ol style="list-style:none;padding-left:0;margin:6px 0 0 0">${items}</ol>
		<div class="qbo-import-progress"></div></div>`;
	frm.dashboard.add_section(html, __("Setup"));
	frm.dashboard.show();
}

function show_progress(frm, done, total, message) {
	const pct = total ? Math.round((100 * done) / total) : 0;
	const esc = frappe.utils.escape_html;
	let $box = frm.dashboard.parent.find(".qbo-import-progress");
	if (!$box.length) {
		frm.dashboard.add_section('<div class="qbo-import-progress"></div>', __("Initial Import"));
		frm.dashboard.show();
		$box = frm.dashboard.parent.find(".qbo-import-progress");
	}
	$box.html(`<div class="text-muted small" style="margin-top:8px">${__("Initial import")}: ${esc(message || "")}</div>
		<div class="progress" style="height:14px"><div class="progress-bar" role="progressbar" data-pct="${pct}"
		style="width:${pct}%" aria-valuenow="${pct}" aria-valuemin="0" aria-valuemax="100">${pct} %</div></div>`);
}

function finish_progress(frm) {
	show_progress(frm, 1, 1, __("finished"));
	frm.__qbo_polling = false;
	setTimeout(() => frm.reload_doc(), 1500);
}

function poll_import(frm) {
	if (frm.__qbo_polling) return;
	frm.__qbo_polling = true;
	const tick = () => {
		if (!frm.__qbo_polling || frm.doc.doctype !== "QBO Realm") return;
		frappe.call({
			method: `${QBO_REALM_METHOD}.import_progress`,
			args: { realm: frm.doc.name },
			callback(r) {
				const p = r.message || {};
				if (p.total) show_progress(frm, p.done, p.total, p.message);
				if (p.finished) finish_progress(frm);
				else setTimeout(tick, 1500);
			},
		});
	};
	tick();
}

// Preview: the plan is built in the background; it opens when it is ready. The realtime event (socket.io) opens
// it at once; a poll for the realm's newest Draft plan does where the realtime server is not running.
function preview_and_open_plan(frm) {
	const open_new = (seen) => {
		let tries = 0;
		const tick = () => {
			if (frappe.get_route_str() !== `Form/QBO Realm/${frm.doc.name}` || tries++ > 90) return;
			frappe.db
				.get_list("QBO Go-Live Plan", {
					filters: { realm: frm.doc.name, status: "Draft" },
					fields: ["name"],
					order_by: "creation desc",
					limit: 1,
				})
				.then((rows) => {
					if (rows.length && !seen.includes(rows[0].name)) frappe.set_route("Form", "QBO Go-Live Plan", rows[0].name);
					else setTimeout(tick, 1500);
				});
		};
		tick();
	};
	frappe.db
		.get_list("QBO Go-Live Plan", { filters: { realm: frm.doc.name }, fields: ["name"], limit: 500 })
		.then((rows) =>
			frappe.call({
				method: `${QBO_REALM_METHOD}.preview_go_live`,
				args: { realm: frm.doc.name },
				freeze: true,
				callback: () => {
					frappe.show_alert({
						message: __("Preparing the go-live plan: it opens here when it is ready"),
						indicator: "blue",
					});
					open_new(rows.map((r) => r.name));
				},
			})
		);
}
