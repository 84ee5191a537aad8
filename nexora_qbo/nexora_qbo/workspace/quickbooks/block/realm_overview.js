// QuickBooks workspace block: per realm, its health and four numbers (AR difference from the latest
// tie-out, awaiting review, still failing, minutes since the last good pull), then the month's volume by
// direction. Every number comes from nexora_qbo.erpnext.workspace_data.realm_overview.
const esc = frappe.utils.escape_html;
const card = (href, label, value, note, tone) =>
	`<a class="qbo-card ${tone || ""}" href="${href}" data-card="${esc(label)}"><div class="label">${esc(label)}</div>` +
	`<div class="value">${esc(String(value))}</div><div class="note">${esc(note || "")}</div></a>`;

frappe.call("nexora_qbo.erpnext.workspace_data.realm_overview").then((r) => {
	const data = r.message || { realms: [] };
	const box = root_element.querySelector(".qbo-realms");
	if (!data.realms.length) {
		box.innerHTML = `<p>${__("No QuickBooks company is set up yet.")} <a href="/app/qbo-realm/new">${__("Add one")}</a></p>`;
	} else {
		box.innerHTML = data.realms
			.map((x) => {
				const realm = encodeURIComponent(x.realm);
				const diff = x.ar_difference === null ? __("no tie-out yet") : format_currency(x.ar_difference, x.currency);
				const diff_tone = x.ar_difference === null ? "" : Math.abs(x.ar_difference) < 0.005 ? "good" : "bad";
				const diff_note = x.ar_as_of
					? __("as of {0}; {1} unexplained", [frappe.datetime.str_to_user(x.ar_as_of), x.ar_unexplained || 0])
					: __("runs every night");
				const mins = x.minutes_since_pull === null ? __("never") : x.minutes_since_pull;
				const mins_tone = x.minutes_since_pull === null || x.minutes_since_pull > 60 ? "warn" : "good";
				return (
					`<div class="qbo-realm" data-realm="${esc(x.realm)}"><div class="qbo-realm-head">` +
					`<a href="/app/qbo-realm/${realm}" data-title>${esc(x.title)}</a>` +
					`<span class="indicator-pill ${x.health.color}" data-health>${esc(x.health.label)}</span></div>` +
					`<div class="qbo-cards">` +
					card(`/app/query-report/QBO Sync Reconciliation?realm=${realm}`, __("AR difference"), diff, diff_note, diff_tone) +
					card(`/app/qbo-conflict?realm=${realm}&status=Open`, __("Awaiting review"), x.awaiting_review, __("open review items"), x.awaiting_review ? "warn" : "good") +
					card(
						data.is_manager ? `/app/qbo-outbox?realm=${realm}&state=failed` : `/app/qbo-realm/${realm}`,
						__("Still failing"), x.still_failing, __("changes QuickBooks has not accepted"), x.still_failing ? "bad" : "good"
					) +
					card(`/app/qbo-realm/${realm}`, __("Minutes since last pull"), mins, __("from QuickBooks, successful"), mins_tone) +
					`</div></div>`
				);
			})
			.join("");
	}
	const v = data.volume;
	if (v && v.labels && v.labels.length) {
		new frappe.Chart(root_element.querySelector(".qbo-volume"), {
			data: { labels: v.labels, datasets: v.datasets },
			type: "bar",
			height: 220,
			colors: ["#2490ef", "#29cd42"],
			barOptions: { stacked: 1 },
			axisOptions: { xIsSeries: 1 },
		});
		root_element.querySelector(".qbo-volume-title").textContent = __(
			"This month's exchanges with QuickBooks, by direction: {0} sent, {1} received",
			[v.totals.Outbound, v.totals.Inbound]
		);
	}
});
