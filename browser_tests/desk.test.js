// Nexora QBO desk, end to end in headless Chromium, against a bench site and the local QBO sandbox.
// See README.md. Each step asserts what a bookkeeper / admin sees and saves a screenshot into $SHOTS.
const { chromium } = require("playwright-core");
const fs = require("fs");

const BASE = process.env.BASE || "http://i10.localhost:8010";
const SANDBOX = process.env.SANDBOX || "http://127.0.0.1:8766";
const { CLIENT_ID, CLIENT_SECRET } = process.env;
const SHOTS = process.env.SHOTS || "/tmp/i10-shots";
const COMPANY = process.env.COMPANY || "_Test NQB Browser";
const ABBR = process.env.ABBR || "_TNQB";
const results = [];

async function step(name, fn) {
	const t = Date.now();
	try {
		await fn();
		results.push([name, "PASS"]);
		console.log(`PASS ${name} (${Date.now() - t} ms)`);
	} catch (e) {
		results.push([name, "FAIL"]);
		console.log(`FAIL ${name}: ${e.message.split("\n")[0]}`);
	}
}
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const call = (page, method, args) =>
	page.evaluate(([m, a]) => frappe.call({ method: m, args: a }).then((r) => r.message), [method, args]);

(async () => {
	fs.mkdirSync(SHOTS, { recursive: true });
	// a fresh user data dir per run (playwright passes it as --user-data-dir)
	const browser = await chromium.launchPersistentContext(`/tmp/i10-chromium-${process.pid}`, {
		executablePath: "/usr/bin/chromium",
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync"],
		viewport: { width: 1400, height: 1000 },
	});
	const page = await browser.newPage();
	page.setDefaultTimeout(30000);
	let realm;

	await step("login", async () => {
		await page.goto(`${BASE}/login`);
		await page.fill("#login_email", "Administrator");
		await page.fill("#login_password", "admin");
		await page.click(".btn-login");
		await page.waitForURL(/\/app/);
	});

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
		await page.waitForURL(/qbo-realm/, { timeout: 30000 });
		await page.waitForSelector(".qbo-setup-checklist, .form-dashboard");
		await page.waitForFunction(() => cur_frm && cur_frm.doc.connection_status === "Connected", null, { timeout: 20000 })
			.catch(async () => { await page.reload(); await page.waitForFunction(() => cur_frm && cur_frm.doc.connection_status === "Connected"); });
		await shot(page, "02-realm-connected");
	});

	await step("initial import progress bar reaches 100 %", async () => {
		await page.click("button:has-text('Sync')");
		await page.click("a:has-text('Initial Import')");
		await page.click(".modal.show button:has-text('Yes')");
		await page.waitForSelector(".qbo-import-progress .progress-bar");
		await shot(page, "03a-import-progress-running");
		await page.waitForSelector(".qbo-import-progress .progress-bar[data-pct='100']", { timeout: 180000 });
		await shot(page, "03b-import-progress-100");
	});

	await step("sales invoice shows synced at the top of its form", async () => {
		await call(page, "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm.sync_now", { realm });
		let name = null;
		for (let i = 0; i < 60 && !name; i++) {
			const rows = await call(page, "frappe.client.get_list", { doctype: "Sales Invoice",
				filters: { company: COMPANY, nexora_qbo_sync_status: "Synced" }, fields: ["name"], limit_page_length: 1 });
			name = rows && rows.length ? rows[0].name : null;
			if (!name) await page.waitForTimeout(2000);
		}
		if (!name) throw new Error("no synced Sales Invoice");
		await page.goto(`${BASE}/app/sales-invoice/${encodeURIComponent(name)}`);
		const line = page.locator(".qbo-state [data-qbo-state='synced']");
		await line.waitFor();
		const text = await line.innerText();
		if (!/In QuickBooks as .* · synced/.test(text)) throw new Error(`state line: ${text}`);
		await shot(page, "04-sales-invoice-synced");
		await page.goto(`${BASE}/app/sales-invoice?company=${encodeURIComponent(COMPANY)}`);
		await page.waitForSelector(".list-row-container");
		await shot(page, "05-sales-invoice-list-indicator");
	});

	await step("workspace shows the realm's cards and health", async () => {
		await page.goto(`${BASE}/app/quickbooks`);
		await page.locator(".qbo-card").first().waitFor();
		const cards = await page.locator(`.qbo-realm[data-realm="${realm}"] .qbo-card`).count();
		if (cards !== 4) throw new Error(`${cards} cards`);
		const health = await page.locator(`.qbo-realm[data-realm="${realm}"] [data-health]`).innerText();
		if (health !== "Connected") throw new Error(`health ${health}`);
		await page.waitForTimeout(1500);
		await shot(page, "06-workspace");
	});

	await step("reconciliation report opens", async () => {
		await page.goto(`${BASE}/app/query-report/QBO Sync Reconciliation`);
		await page.waitForSelector(".dt-scrollable, .no-result", { timeout: 30000 });
		await page.waitForTimeout(1500);
		await shot(page, "07-report");
	});

	await step("review item compared and resolved from its form", async () => {
		const rows = await call(page, "frappe.client.get_list", { doctype: "QBO Conflict",
			filters: { realm, status: "Open" }, fields: ["name"], limit_page_length: 1 });
		if (!rows.length) throw new Error("no open review item in this realm");
		await page.goto(`${BASE}/app/qbo-conflict/${rows[0].name}`);
		await page.waitForSelector(".qbo-conflict-actions");
		await shot(page, "08a-review-item");
		await page.click("button:has-text('Resolve')");
		await page.click("[data-label='Dismiss'], a:has-text('Dismiss')");
		await page.waitForSelector(".modal.show:has-text('This will:')");
		await shot(page, "08b-review-confirm");
		await page.click(".modal.show .btn-primary");
		await page.waitForFunction(() => cur_frm && cur_frm.doc.status === "Resolved", null, { timeout: 60000 })
			.catch(async () => { await page.waitForTimeout(5000); await page.reload(); });
		await page.waitForFunction(() => cur_frm && cur_frm.doc.status === "Resolved");
		await shot(page, "08c-review-resolved");
	});

	await browser.close();
	console.log(JSON.stringify(results));
	process.exit(results.every(([, r]) => r === "PASS") ? 0 : 1);
})();
