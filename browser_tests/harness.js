// What every browser test here shares: the run's steps and results (PASS / FAIL / SKIPPED lines, a screenshot
// on failure), screenshots, whitelisted calls through the desk's session (a server error thrown with its own
// message, not "Object"), waiting, Debian's chromium with a fresh profile, the login, and the exit code.
const { chromium } = require("playwright-core");
const fs = require("fs");

function createRun(shots) {
	const run = { results: [], failed: false, page: null };
	run.shot = (p, name) => p.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
	run.step = async (name, fn) => {
		const t = Date.now();
		if (run.failed && !process.env.KEEP_GOING) {
			run.results.push([name, "SKIPPED"]);
			console.log(`SKIP ${name} (an earlier step failed)`);
			return;
		}
		try {
			await fn();
			run.results.push([name, "PASS"]);
			console.log(`PASS ${name} (${Date.now() - t} ms)`);
		} catch (e) {
			run.failed = true;
			run.results.push([name, "FAIL"]);
			console.log(`FAIL ${name}: ${e.message.split("\n")[0]}`);
			await run.shot(run.page, `FAIL-${name.replace(/\W+/g, "-")}`).catch(() => {});
		}
	};
	run.call = (p, method, args) =>
		p.evaluate(async ([m, a]) => {
			const r = await fetch(`/api/method/${m}`, { method: "POST", body: JSON.stringify(a || {}),
				headers: { "Content-Type": "application/json", Accept: "application/json", "X-Frappe-CSRF-Token": frappe.csrf_token } });
			const body = await r.json().catch(() => ({}));
			if (!r.ok) {
				const msgs = JSON.parse(body._server_messages || "[]").map((x) => { try { return JSON.parse(x).message; } catch (e) { return x; } });
				throw new Error(`${m}: HTTP ${r.status} ${body.exc_type || ""} ${msgs.join(" | ")}`.trim());
			}
			return body.message;
		}, [method, args]);
	run.until = async (what, fn, tries = 60, ms = 2000) => {
		for (let i = 0; i < tries; i++) {
			const v = await fn();
			if (v) return v;
			await run.page.waitForTimeout(ms);
		}
		throw new Error(`timed out waiting for ${what}`);
	};
	// a fresh user data dir per run (playwright passes it as --user-data-dir); never a downloaded browser
	run.launch = async (profile) => {
		fs.mkdirSync(shots, { recursive: true });
		const browser = await chromium.launchPersistentContext(`/tmp/${profile}-chromium-${process.pid}`, {
			executablePath: "/usr/bin/chromium",
			headless: true,
			args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync"],
			viewport: { width: 1400, height: 1000 },
		});
		run.page = await browser.newPage();
		run.page.setDefaultTimeout(30000);
		run.page.on("pageerror", (e) => console.log(`  page error: ${e.message.split("\n")[0]}`));
		run.page.on("console", (m) => m.type() === "error" && !/socket\.io|favicon|404/.test(m.text()) && console.log(`  console: ${m.text().slice(0, 200)}`));
		run.browser = browser;
		return run.page;
	};
	// the desk's scripts load after the redirect; a call is made right away by the next step
	run.login = async (base) => {
		const page = run.page;
		await page.goto(`${base}/login`);
		await page.fill("#login_email", "Administrator");
		await page.fill("#login_password", "admin");
		await page.click(".btn-login");
		await page.waitForURL(/\/app/);
		await page.waitForFunction(() => window.frappe && frappe.boot && frappe.csrf_token, null, { timeout: 60000 });
	};
	run.finish = async () => {
		await run.browser.close();
		console.log(JSON.stringify(run.results));
		process.exit(run.results.every(([, r]) => r === "PASS") ? 0 : 1);
	};
	return run;
}

module.exports = { createRun };
