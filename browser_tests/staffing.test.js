// Issue 11 on the realm form, in headless Chromium, against a bench site and the local QBO sandbox:
// the location dimension made on request, and the suggested mapping (by name) of QuickBooks' own lists to
// ERPNext's - opened, accepted, and the saved mappings checked.
//   TEST_FILE=staffing.test.js browser_tests/run.sh <worktree> <site> <company> <abbr>
// (the helpers it shares with desk.test.js are in harness.js).
const { createRun } = require("./harness");

const BASE = process.env.BASE || "http://d11.localhost:8010";
const SANDBOX = process.env.SANDBOX || "http://127.0.0.1:8766";
const { CLIENT_ID, CLIENT_SECRET } = process.env;
const SHOTS = process.env.SHOTS || "/tmp/d11-shots";
const COMPANY = process.env.COMPANY || "_Test NQB Browser";
const ABBR = process.env.ABBR || "_TNQB";
const METHOD = "nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm";
const run = createRun(SHOTS);
const { step, shot, call, until } = run;
let page;
const exists = async (doctype, name) =>
	(await call(page, "frappe.client.get_count", { doctype, filters: { name } })) > 0;
async function ensure(doc, name) {
	if (!(await exists(doc.doctype, name))) await call(page, "frappe.client.insert", { doc });
	return name;
}
const openRealm = async (realm) => {
	await page.goto(`${BASE}/app/qbo-realm/${encodeURIComponent(realm)}`);
	await page.waitForFunction(() => window.cur_frm && cur_frm.doc.doctype === "QBO Realm" && !cur_frm.is_new());
	await page.waitForTimeout(800);
};

(async () => {
	page = await run.launch("d11");
	let realm;

	await step("login", () => run.login(BASE));

	await step("realm connected through the sandbox; QuickBooks' lists read at connect", async () => {
		const doc = await call(page, "frappe.client.insert", { doc: {
			doctype: "QBO Realm", company: COMPANY, environment: "custom", custom_base_url: SANDBOX,
			client_id: CLIENT_ID, client_secret: CLIENT_SECRET, enabled: 1, home_currency: "USD",
			receivable_account: `Debtors - ${ABBR}`, income_account: `Sales - ${ABBR}`,
			payment_account: `Cash - ${ABBR}`, cost_center: `Main - ${ABBR}`,
		} });
		realm = doc.name;
		await openRealm(realm);
		await page.click("button:has-text('Connect to QuickBooks')");
		await page.waitForURL(/qbo-realm/, { timeout: 30000 });
		await until("the connection", async () => (await call(page, "frappe.client.get_value", {
			doctype: "QBO Realm", filters: realm, fieldname: "connection_status" }))?.connection_status === "Connected", 30, 1000);
		// the connect job (companyinfo) reads QBO's Preferences and lists into QBO Reference
		await until("QuickBooks' lists", async () => (await call(page, "frappe.client.get_count", {
			doctype: "QBO Reference", filters: { realm, ref_type: "Department" } })) === 2, 60, 1000);
	});

	await step("location dimension: the form says how to make one, and makes it on request", async () => {
		await openRealm(realm);
		const has = await call(page, "frappe.client.get_count", { doctype: "Accounting Dimension",
			filters: { document_type: "Branch", disabled: 0 } });
		if (has) {
			// a site that has one already (the Frappe test of this button leaves it): no hint, no button
			const intro = (await page.locator(".form-message").allInnerTexts()).join(" ");
			if (/location dimension/i.test(intro)) throw new Error(`hint shown although the dimension exists: ${intro}`);
			console.log("  (the site has a location dimension already: no hint, as it should)");
			await shot(page, "10a-realm-with-location-dimension");
			return;
		}
		const intro = page.locator(".form-message");
		await intro.waitFor();
		if (!/need a location dimension/.test(await intro.innerText())) throw new Error(await intro.innerText());
		await page.evaluate(() => window.scrollTo(0, 0));
		await page.screenshot({ path: `${SHOTS}/10a-realm-location-hint.png` });
		await page.click("button:has-text('Create location dimension')");
		await page.click(".modal.show button:has-text('Yes')");
		// ERPNext adds the field to the accounting DocTypes in a background job (the worker run.sh starts)
		await until("the Branch field on Sales Invoice", async () => (await call(page, "frappe.client.get_count", {
			doctype: "Custom Field", filters: { dt: "Sales Invoice", fieldname: "branch" } })) > 0, 90, 2000);
		await openRealm(realm);
		const after = (await page.locator(".form-message").allInnerTexts()).join(" ");
		if (/location dimension/i.test(after)) throw new Error(`hint still shown: ${after}`);
		await shot(page, "10b-realm-location-dimension-made");
	});

	let expected;
	await step("suggested mappings: the dialog lists them by name, accepting saves them on the realm", async () => {
		// ERPNext values named like QuickBooks' own entries (the sandbox company's classes, locations, terms)
		const cc = await ensure({ doctype: "Cost Center", cost_center_name: "Clerical", company: COMPANY,
			parent_cost_center: `${COMPANY} - ${ABBR}`, is_group: 0 }, `Clerical - ${ABBR}`);
		await ensure({ doctype: "Branch", branch: "Dallas" }, "Dallas");
		await ensure({ doctype: "Payment Terms Template", template_name: "Net 15", terms: [{
			invoice_portion: 100, due_date_based_on: "Day(s) after invoice date", credit_days: 15 }] }, "Net 15");
		const refs = await call(page, "frappe.client.get_list", { doctype: "QBO Reference",
			filters: { realm }, fields: ["ref_type", "qbo_id", "qbo_name"], limit_page_length: 500 });
		const id = (type, name) => refs.find((r) => r.ref_type === type && r.qbo_name === name)?.qbo_id;
		expected = [["Cost Center", cc, id("Class", "Clerical")], ["Branch", "Dallas", id("Department", "Dallas")],
			["Payment Terms Template", "Net 15", id("Term", "Net 15")]];
		if (expected.some(([, , q]) => !q)) throw new Error(`QBO lists: ${JSON.stringify(refs).slice(0, 300)}`);
		await openRealm(realm);
		await page.click("button:has-text('Confirm suggested mappings')");
		const dialog = page.locator(".modal.show:has-text('Suggested mappings')");
		await dialog.waitFor();
		await page.waitForTimeout(600);
		const shown = await dialog.innerText();
		for (const [type, local] of expected) {
			if (!shown.includes(local)) throw new Error(`${type} ${local} not suggested: ${shown.slice(0, 400)}`);
		}
		if (await dialog.locator(".grid-add-row:visible, .grid-upload:visible").count()) {
			throw new Error("the suggestion list offers Add Row / Upload");
		}
		await page.screenshot({ path: `${SHOTS}/11a-suggested-mappings-dialog.png` });
		const offered = await page.evaluate(() => cur_dialog.get_values().rows.filter((r) => r.use).length);
		await dialog.locator("button:has-text('Add checked mappings')").click();
		await page.locator(".alert-message, .desk-alert").filter({ hasText: "mappings added" }).first().waitFor();
		const saved = (await call(page, "frappe.client.get", { doctype: "QBO Realm", name: realm })).reference_maps;
		for (const [type, local, qboId] of expected) {
			const row = saved.find((r) => r.map_type === type && r.local_value === local);
			if (!row || row.qbo_id !== qboId || !row.qbo_reference) throw new Error(`${type} ${local}: ${JSON.stringify(row)}`);
		}
		if (saved.length !== offered) throw new Error(`${offered} accepted, ${saved.length} saved`);
		console.log(`  saved: ${saved.map((r) => `${r.map_type} ${r.local_value} -> ${r.qbo_name} (${r.qbo_id})`).join("; ")}`);
		await openRealm(realm);
		if (await page.locator("button:has-text('Confirm suggested mappings')").count()) {
			throw new Error("the accepted suggestions are offered again");
		}
		await page.locator(".section-head:has-text('Reference Maps')").click();  // a collapsed section
		const grid = page.locator(".frappe-control[data-fieldname='reference_maps'] .grid-body");
		await grid.waitFor();
		await grid.scrollIntoViewIfNeeded();
		await page.waitForTimeout(600);
		for (const [, local] of expected) {
			if (!(await grid.innerText()).includes(local)) throw new Error(`${local} not in the form's Reference Maps`);
		}
		await page.screenshot({ path: `${SHOTS}/11b-realm-reference-maps-saved.png` });
	});

	await run.finish();
})();
