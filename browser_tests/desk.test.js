// Nexora QBO desk, end to end in headless Chromium, against a bench site and the local QBO sandbox.
// See README.md. Each step asserts what a bookkeeper / admin sees and saves a screenshot into $SHOTS.
const { createRun } = require("./harness");

const BASE = process.env.BASE || "http://i10.localhost:8010";
const SANDBOX = process.env.SANDBOX || "http://127.0.0.1:8766";
const { CLIENT_ID, CLIENT_SECRET } = process.env;
const SHOTS = process.env.SHOTS || "/tmp/i10-shots";
const COMPANY = process.env.COMPANY || "_Test NQB Browser";
const ABBR = process.env.ABBR || "_TNQB";
const run = createRun(SHOTS);
const { step, shot, call, until } = run;
let page;
// the QBO sandbox's own HTTP API, as a bookkeeper's edit in QuickBooks Online would reach it
async function qbo(realmId, method, path, body) {
	const tok = await (await fetch(`${SANDBOX}/_sandbox/tokens`, { method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ realm_id: realmId, client_id: CLIENT_ID }) })).json();
	const r = await fetch(`${SANDBOX}/v3/company/${realmId}${path}`, { method,
		headers: { Authorization: `Bearer ${tok.access_token}`, Accept: "application/json",
			"Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
	if (r.status !== 200) throw new Error(`QBO ${method} ${path}: HTTP ${r.status} ${await r.text()}`);
	return r.json();
}

(async () => {
	page = await run.launch("i10");
	let realm, realmId, invoice, qboInvoiceId, qboDocNumber;

	await step("login", () => run.login(BASE));

	await step("realm form shows the setup checklist", async () => {
		const doc = await call(page, "frappe.client.insert", { doc: {
			doctype: "QBO Realm", company: COMPANY, environment: "custom", custom_base_url: SANDBOX,
			client_id: CLIENT_ID, client_secret: CLIENT_SECRET, enabled: 1, home_currency: "USD",
			receivable_account: `Debtors - ${ABBR}`, income_account: `Sales - ${ABBR}`,
			payment_account: `Cash - ${ABBR}`, cost_center: `Main - ${ABBR}`,
		} });
		realm = doc.name;
		await page.goto(`${BASE}/app/qbo-realm/${encodeURIComponent(realm)}`);
		await page.waitForSelector(".qbo-setup-checklist");
		await shot(page, "01-realm-checklist-before-connect");
	});

	await step("connect through the OAuth redirect to the sandbox", async () => {
		await page.click("button:has-text('Connect to QuickBooks')");
		// Intuit's (the sandbox's) authorize page redirects back to the realm's registered callback
		await page.waitForURL(/qbo-realm/, { timeout: 30000 });
		await page.waitForFunction(() => window.cur_frm && cur_frm.doc.connection_status === "Connected", null, { timeout: 20000 })
			.catch(async () => { await page.reload(); await page.waitForFunction(() => cur_frm && cur_frm.doc.connection_status === "Connected"); });
		realmId = await page.evaluate(() => cur_frm.doc.realm_id);
		await page.waitForSelector(".qbo-setup-checklist [data-step='connect'][data-done='1']");
		await shot(page, "02-realm-connected");
	});

	await step("initial import: Preview -> go-live plan -> Confirm and run, progress bar reaches 100 %", async () => {
		await page.click("button:has-text('Sync')");
		await page.click(".dropdown-menu.show a:has-text('Initial Import')");
		await page.click(".modal.show button:has-text('Yes')");
		await page.waitForURL(/qbo-go-live-plan\//, { timeout: 90000 });
		await page.waitForFunction(() => window.cur_frm && cur_frm.doc.doctype === "QBO Go-Live Plan" && cur_frm.doc.rows.length);
		await page.waitForTimeout(800);
		await shot(page, "03a-go-live-plan");
		// the rows read as a bookkeeper's plan: actions in words, no amount on customers/items, no Add Row/Upload
		const grid = await page.evaluate(() =>
			[...document.querySelectorAll("[data-fieldname='rows'] .grid-body .grid-row")].map((r) => ({
				entity: (r.querySelector("[data-fieldname='entity']") || {}).innerText || "",
				action: ((r.querySelector("[data-fieldname='action']") || {}).innerText || "").trim(),
				amount: ((r.querySelector("[data-fieldname='amount_shown']") || {}).innerText || "").trim(),
			}))
		);
		if (!grid.length) throw new Error("no plan rows on screen");
		const keys = ["link", "import", "create", "opening", "exclude"];
		const raw = grid.filter((r) => keys.includes(r.action.toLowerCase()) || !r.action);
		if (raw.length) throw new Error(`actions shown as keys: ${JSON.stringify(raw.slice(0, 3))}`);
		const masters = grid.filter((r) => /Customer|Item/.test(r.entity));
		if (!masters.length) throw new Error(`no customer/item rows: ${JSON.stringify(grid.slice(0, 3))}`);
		const priced = masters.filter((r) => r.amount !== "");
		if (priced.length) throw new Error(`amounts on masters: ${JSON.stringify(priced.slice(0, 3))}`);
		const buttons = await page.locator("[data-fieldname='rows'] .grid-add-row:visible, [data-fieldname='rows'] .grid-upload:visible").count();
		if (buttons) throw new Error(`${buttons} Add Row / Upload buttons visible on the plan's rows`);
		console.log(`  plan rows: ${grid.length}; actions shown: ${[...new Set(grid.map((r) => r.action))].join(" | ")}`);
		await page.click("button:has-text('Confirm and run')");
		await page.click(".modal.show button:has-text('Yes')");
		await page.waitForSelector(".qbo-import-progress .progress-bar");
		await shot(page, "03b-go-live-progress-running");
		await page.waitForSelector(".qbo-import-progress .progress-bar[data-pct='100']", { timeout: 180000 });
		await shot(page, "03c-go-live-progress-100");
		await page.waitForFunction(() => cur_frm.doc.status === "Applied", null, { timeout: 30000 });
		await page.waitForTimeout(800);
		await shot(page, "03d-go-live-plan-applied");
		await page.goto(`${BASE}/app/qbo-realm/${encodeURIComponent(realm)}`);
		await page.waitForSelector(".form-dashboard");
		await page.waitForTimeout(800);
		await shot(page, "03e-realm-after-go-live");
	});

	await step("sales invoice shows \"In QuickBooks as … · synced …\" at the top of its form", async () => {
		const maps = await call(page, "frappe.client.get_list", { doctype: "QBO Entity Map",
			filters: { realm, reference_doctype: ["in", ["Customer", "Item"]] }, fields: ["reference_doctype", "reference_name"],
			limit_page_length: 100 });
		const customer = maps.find((m) => m.reference_doctype === "Customer" && /Acme/.test(m.reference_name))?.reference_name
			|| maps.find((m) => m.reference_doctype === "Customer").reference_name;
		const item = maps.find((m) => m.reference_doctype === "Item" && /Staffing Hours/.test(m.reference_name))?.reference_name
			|| maps.find((m) => m.reference_doctype === "Item").reference_name;
		const today = await page.evaluate(() => frappe.datetime.get_today());
		const si = await call(page, "frappe.client.insert", { doc: {
			doctype: "Sales Invoice", company: COMPANY, customer, posting_date: today, set_posting_time: 1,
			due_date: today, debit_to: `Debtors - ${ABBR}`, currency: "USD",
			items: [{ item_code: item, qty: 40, rate: 45, income_account: `Sales - ${ABBR}`, cost_center: `Main - ${ABBR}` }],
		} });
		await call(page, "frappe.client.submit", { doc: si });
		invoice = si.name;
		await call(page, "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm.sync_now", { realm });
		await until("the invoice to be synced", async () => (await call(page, "frappe.client.get_value", {
			doctype: "Sales Invoice", filters: invoice, fieldname: "nexora_qbo_sync_status" }))?.nexora_qbo_sync_status === "Synced");
		await page.goto(`${BASE}/app/sales-invoice/${encodeURIComponent(invoice)}`);
		const line = page.locator(".qbo-state [data-qbo-state='synced']");
		await line.waitFor();
		const text = await line.innerText();
		if (!/In QuickBooks as .* · synced/.test(text)) throw new Error(`state line: ${text}`);
		await shot(page, "04-sales-invoice-synced");
		await page.goto(`${BASE}/app/sales-invoice?company=${encodeURIComponent(COMPANY)}`);
		await page.waitForSelector(".list-row-container");
		await page.waitForTimeout(800);
		await shot(page, "05-sales-invoice-list-indicator");
	});

	await step("review item: a line edited in QuickBooks is compared and resolved from its form", async () => {
		const m = await call(page, "frappe.client.get_list", { doctype: "QBO Entity Map",
			filters: { realm, reference_doctype: "Sales Invoice", reference_name: invoice }, fields: ["qbo_id"] });
		qboInvoiceId = m[0].qbo_id;
		// the bookkeeper changes the hours on the invoice's line in QuickBooks (38 instead of 40)
		const cur = (await qbo(realmId, "GET", `/invoice/${qboInvoiceId}`)).Invoice;
		qboDocNumber = cur.DocNumber; // its number in QuickBooks (QuickBooks' own sequence unless custom numbers are on)
		const lines = cur.Line.filter((l) => l.DetailType === "SalesItemLineDetail").map((l) => {
			const qty = 38, rate = Number(l.SalesItemLineDetail.UnitPrice);
			return { ...l, Amount: (qty * rate).toFixed(2), SalesItemLineDetail: { ...l.SalesItemLineDetail, Qty: qty } };
		});
		await qbo(realmId, "POST", "/invoice?operation=update", { Id: cur.Id, SyncToken: cur.SyncToken, sparse: true, Line: lines });
		await call(page, "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm.sync_now", { realm });
		const rows = await until("the review item", async () => {
			const r = await call(page, "frappe.client.get_list", { doctype: "QBO Conflict",
				filters: { realm, status: "Open", reference_name: invoice }, fields: ["name"], limit_page_length: 1 });
			return r && r.length ? r : null;
		});
		await page.goto(`${BASE}/app/sales-invoice/${encodeURIComponent(invoice)}`);
		await page.locator(".qbo-state [data-qbo-state='in_review']").waitFor();
		await shot(page, "08a-sales-invoice-in-review");
		await page.goto(`${BASE}/app/qbo-conflict/${rows[0].name}`);
		await page.waitForSelector(".qbo-conflict-actions");
		await page.waitForTimeout(800);
		await shot(page, "08b-review-item");
		await page.click("button:has-text('Resolve')");
		await page.click(".dropdown-menu.show a:has-text('Keep QuickBooks')");
		await page.waitForSelector(".modal.show:has-text('This will:')");
		await shot(page, "08c-review-confirm");
		await page.click(".modal.show .btn-primary");
		await page.waitForFunction(() => cur_frm && cur_frm.doc.status === "Resolved", null, { timeout: 60000 })
			.catch(async () => { await page.waitForTimeout(5000); await page.reload(); });
		await page.waitForFunction(() => cur_frm && cur_frm.doc.status === "Resolved");
		await page.waitForTimeout(800);
		await shot(page, "08d-review-resolved");
	});

	await step("workspace shows the realm's cards and health", async () => {
		await page.goto(`${BASE}/app/quickbooks`);
		await page.locator(".qbo-card").first().waitFor();
		const cards = await page.locator(`.qbo-realm[data-realm="${realm}"] .qbo-card`).count();
		if (cards !== 4) throw new Error(`${cards} cards`);
		const health = await page.locator(`.qbo-realm[data-realm="${realm}"] [data-health]`).innerText();
		if (health !== "Connected") throw new Error(`health ${health}`);
		const title = await page.locator(`.qbo-realm[data-realm="${realm}"] [data-title]`).innerText();
		if (title.split(COMPANY).length !== 2) throw new Error(`heading names the company ${title.split(COMPANY).length - 1} times: ${title}`);
		await page.waitForTimeout(1500);
		await shot(page, "06-workspace");
	});

	await step("reconciliation report: sync view and the AR tie-out view", async () => {
		await page.goto(`${BASE}/app/query-report/QBO Sync Reconciliation?realm=${encodeURIComponent(realm)}`);
		await page.waitForSelector(".dt-scrollable, .no-result", { timeout: 30000 });
		await page.waitForTimeout(1500);
		await shot(page, "07a-report-sync");
		await page.evaluate(() => frappe.query_report.set_filter_value("view", "AR tie-out"));
		await page.waitForTimeout(1500);
		await page.click("button:has-text('Run tie-out now')");
		await until("the tie-out", async () => (await call(page, "frappe.client.get_count", {
			doctype: "QBO Tie Out", filters: { realm } })) > 0, 30, 1000);
		await page.evaluate(() => frappe.query_report.refresh());
		await page.waitForSelector(".report-summary .summary-item:has-text('AR difference')");
		await page.waitForTimeout(1500);
		await shot(page, "07b-report-tie-out");
		// the trend chart is drawn with the tie-out's totals (it was an empty box when the books tied)
		await page.waitForSelector(".chart-wrapper svg .dataset-units rect, .chart-wrapper svg .dataset-units path, " +
			".chart-container svg .dataset-units rect", { timeout: 15000 });
		const chart = await page.evaluate(() => {
			const c = frappe.query_report.chart;
			return c && c.data ? { labels: c.data.labels, values: c.data.datasets.map((d) => d.values) } : null;
		});
		if (!chart || !chart.labels.length || !chart.values.flat().some((v) => v > 0))
			throw new Error(`tie-out chart without data: ${JSON.stringify(chart)}`);
		console.log(`  tie-out chart: ${JSON.stringify(chart)}`);
		// the totals row counts what differs in a bookkeeper's terms (a customer's row is its documents' sum)
		const totals = await page.evaluate(() => (frappe.query_report.data || []).find((r) => r.section === "AR tie-out: totals"));
		if (!totals || !/^(Books tie|\d+ documents? differs?)/.test(totals.action || ""))
			throw new Error(`tie-out totals row: ${JSON.stringify(totals)}`);
		console.log(`  tie-out totals: ${totals.action}`);
	});

	await step("sync log: every exchange about the invoice is found from the list by its number", async () => {
		await page.goto(`${BASE}/app/qbo-sync-log?realm=${encodeURIComponent(realm)}`);
		const box = page.locator(".standard-filter-section [data-fieldname='search_keys'] input");
		await box.waitFor();
		await box.fill(qboDocNumber); // the number an auditor has: the invoice's number in QuickBooks
		await page.waitForFunction((no) => window.cur_list && cur_list.filter_area.get().some((f) => f[1] === "search_keys"
			&& String(f[3]).includes(no)), qboDocNumber);
		await page.waitForTimeout(2000);
		const shown = await page.evaluate(() => cur_list.data.map((d) => d.name));
		// what the list asked the server for, read back with the fields that say what each exchange was
		const rows = await call(page, "frappe.client.get_list", { doctype: "QBO Sync Log",
			filters: [["realm", "=", realm], ["search_keys", "like", `%${qboDocNumber}%`]],
			fields: ["name", "direction", "operation", "reference_name"], limit_page_length: 100 });
		if (!rows.length || shown.length !== rows.length)
			throw new Error(`list shows ${shown.length}, ${rows.length} exchanges name ${qboDocNumber}`);
		// the send (it carries the ERPNext invoice) and the pulls that read QuickBooks' edit back (only their
		// bodies name the invoice)
		if (!rows.some((r) => r.direction === "Outbound" && r.reference_name === invoice))
			throw new Error(`the send of ${invoice} is not found: ${JSON.stringify(rows)}`);
		if (!rows.some((r) => r.direction === "Inbound"))
			throw new Error(`no exchange from QuickBooks found: ${JSON.stringify(rows)}`);
		console.log(`  sync log rows for invoice ${qboDocNumber}: ${rows.map((r) => `${r.direction} ${r.operation}`).join(", ")}`);
		await shot(page, "09-sync-log-search");
	});

	await run.finish();
})();
