// Copyright (c) 2026, Nexora QBO and contributors
// For license information, please see license.txt

// An audit row: the request and response payloads pretty-printed (secrets were redacted when the row was
// written), with a search box that highlights every match and says how many there are.
frappe.ui.form.on("QBO Sync Log", {
	refresh(frm) {
		frm.disable_save();
		if (frm.doc.conflict) {
			frm.add_custom_button(__("Open Review Item"), () => frappe.set_route("Form", "QBO Conflict", frm.doc.conflict));
		}
		if (frm.doc.reference_doctype && frm.doc.reference_name) {
			frm.add_custom_button(__("Open {0}", [__(frm.doc.reference_doctype)]), () =>
				frappe.set_route("Form", frm.doc.reference_doctype, frm.doc.reference_name)
			);
		}
		render_payloads(frm);
	},
});

function pretty(text) {
	if (!text) return "";
	try {
		return JSON.stringify(JSON.parse(text), null, 2);
	} catch (e) {
		return String(text);
	}
}

function render_payloads(frm) {
	const field = frm.get_field("payload_html");
	if (!field) return;
	const esc = frappe.utils.escape_html;
	const blocks = [
		[__("Request"), pretty(frm.doc.request_payload)],
		[__("Response"), pretty(frm.doc.response_payload)],
	].filter(([, t]) => t);
	if (!blocks.length) {
		field.$wrapper.html(`<p class="text-muted">${__("No payload recorded for this exchange.")}</p>`);
		return;
	}
	field.$wrapper.html(
		`<div class="qbo-payload-search" style="display:flex;gap:8px;align-items:center;margin-bottom:8px">
			<input type="search" class="form-control input-sm" style="max-width:320px" placeholder="${__("Search the payloads")}">
			<span class="text-muted small qbo-payload-hits"></span></div>` +
			blocks
				.map(
					([label, text]) =>
						`<div class="text-muted small" style="margin-top:6px">${esc(label)}</div>` +
						`<pre class="qbo-payload" data-raw="${esc(text)}" style="white-space:pre-wrap;max-height:480px;overflow:auto;font-size:12px;background:var(--control-bg);padding:8px;border-radius:6px">${esc(text)}</pre>`
				)
				.join("")
	);
	const $pres = field.$wrapper.find("pre.qbo-payload");
	field.$wrapper.find("input[type=search]").on("input", function () {
		const q = this.value.trim();
		let hits = 0;
		$pres.each(function () {
			const raw = this.getAttribute("data-raw") || "";
			if (!q) {
				this.innerHTML = esc(raw);
				return;
			}
			const parts = raw.split(new RegExp(`(${q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")})`, "gi"));
			this.innerHTML = parts
				.map((p, i) => {
					if (i % 2 === 0) return esc(p);
					hits += 1;
					return `<mark>${esc(p)}</mark>`;
				})
				.join("");
		});
		field.$wrapper.find(".qbo-payload-hits").text(q ? __("{0} matches", [hits]) : "");
		const first = field.$wrapper.find("mark")[0];
		first && first.scrollIntoView({ block: "nearest" });
	});
}
