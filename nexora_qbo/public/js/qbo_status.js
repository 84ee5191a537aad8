// The QuickBooks state at the top of a synced document's form (Customer, Item, Sales Invoice, credit note,
// Payment Entry): "In QuickBooks as 1042 · synced 2 min ago" with a link into QuickBooks Online,
// "Waiting: <reason> · Retry", "In review: <reason> · Open". Computed on the server
// (nexora_qbo.erpnext.doc_status), so the form, the list and the review queue say the same thing.
(function () {
	const METHOD = "nexora_qbo.erpnext.doc_status";

	function line(frm, s) {
		const esc = frappe.utils.escape_html;
		const tip = s.reason ? ` title="${esc(s.reason)}"` : "";
		const parts = [`<span class="indicator-pill ${s.color}" data-qbo-state="${esc(s.state)}"${tip}>${esc(s.label)}</span>`];
		if (s.qbo_url) {
			parts.push(`<a href="${encodeURI(s.qbo_url)}" target="_blank" rel="noopener noreferrer">${__("Open in QuickBooks")} ↗</a>`);
		}
		if (s.state === "in_review" && s.conflict) {
			parts.push(`<a href="/app/qbo-conflict/${encodeURIComponent(s.conflict)}" data-qbo-action="open">${__("Open")}</a>`);
		}
		if (s.state === "waiting" && s.can_retry) {
			parts.push(`<a href="#" data-qbo-action="retry">${__("Retry")}</a>`);
		}
		if (s.audit_count) {
			parts.push(`<a href="/app/qbo-sync-log?reference_doctype=${encodeURIComponent(frm.doctype)}&reference_name=${encodeURIComponent(frm.doc.name)}">${__("Audit trail ({0})", [s.audit_count])}</a>`);
		}
		const realm = s.realm ? `<span class="text-muted">${esc(s.realm)}:</span> ` : "";
		return `<div class="qbo-state-line" style="margin: 2px 0">${realm}${parts.join(" · ")}</div>`;
	}

	function show(frm) {
		if (frm.is_new()) return;
		frappe.call({
			method: `${METHOD}.get_document_state`,
			args: { doctype: frm.doctype, name: frm.doc.name },
			callback(r) {
				const states = r.message || [];
				if (!states.length) return;
				const html = states.map((s) => line(frm, s)).join("");
				const worst = states.find((s) => s.state === "in_review") || states.find((s) => s.state === "waiting");
				frm.dashboard.set_headline(`<div class="qbo-state">${html}</div>`, worst ? worst.color : "");
				const $h = $(frm.wrapper).find(".qbo-state");
				$h.find("[data-qbo-action=retry]").on("click", (e) => {
					e.preventDefault();
					frappe.confirm(__("Send this document's waiting change to QuickBooks again now?"), () =>
						frappe.call({
							method: `${METHOD}.retry_document`,
							args: { doctype: frm.doctype, name: frm.doc.name },
							freeze: true,
							callback: () => frappe.show_alert({ message: __("Sent again; it may take a minute"), indicator: "green" }),
						})
					);
				});
			},
		});
	}

	["Customer", "Item", "Sales Invoice", "Payment Entry"].forEach((dt) => frappe.ui.form.on(dt, { refresh: show }));
})();
