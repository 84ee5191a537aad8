"""Issue 12: places where an integration tested against the sandbox would pass here and fail on QBO (or the
other way round). One test per point, over HTTP, each naming the source that says what QBO does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import requests

from nexora_qbo.sandbox.query import like_steps
from sandbox_testkit import Api, load_json

D = Decimal


def _item_line(amount=None, **detail):
	line = {
		"DetailType": "SalesItemLineDetail",
		"SalesItemLineDetail": {"ItemRef": {"value": "1"}, **{k: D(str(v)) for k, v in detail.items()}},
	}
	if amount is not None:
		line["Amount"] = D(str(amount))
	return line


def test_amount_only_lines_are_accepted_and_a_real_mismatch_is_6070(api):
	"""qbo-api.md §9 Invoice: python-quickbooks' integration tests send Qty 0 / UnitPrice 0 with an Amount and
	succeed against a QBO sandbox; fx:minimul-qbo_api create/invoice.yml has an Amount-only line; the refusal
	of a real mismatch is code 6070 (reported by two integrators)."""
	for detail in (
		{"Qty": 0, "UnitPrice": 0},
		{"Qty": 0},
		{"UnitPrice": 0},
		{},
		{"Qty": 3},
		{"UnitPrice": 9},
	):
		inv = api.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [_item_line("150.00", **detail)]})
		assert inv["TotalAmt"] == D("150.00"), detail
		assert inv["Line"][0]["Amount"] == D("150.00")
	err = api.fault(
		"POST",
		"/invoice",
		{"CustomerRef": {"value": "1"}, "Line": [_item_line("150.00", Qty=3, UnitPrice=45)]},
	)
	assert err["code"] == "6070" and err["element"] == "Line.Amount"
	assert err["Detail"].startswith("Amount is not equal to UnitPrice * Qty. Supplied value:")
	ok = api.create(
		"Invoice", {"CustomerRef": {"value": "1"}, "Line": [_item_line("135.00", Qty=3, UnitPrice=45)]}
	)
	assert ok["TotalAmt"] == D("135.00")


def test_star_plus_field_projections_are_valid_queries(api):
	"""qbo-api.md §3: `SELECT *, Sku FROM Item MAXRESULTS 100` is what python-quickbooks 0.9.12 sends,
	"verified in production" (ej2/python-quickbooks#373, PR #379)."""
	star = api.query("SELECT * FROM Item MAXRESULTS 100")
	plus = api.query("SELECT *, Sku FROM Item MAXRESULTS 100")
	assert plus == star and plus["Item"]
	two = api.query("select *, Sku, Description from Item where Type = 'Service'")
	assert two["Item"] and all(i["Type"] == "Service" for i in two["Item"])
	assert api.fault("GET", "/query", params={"query": "SELECT *, FROM Item"})["code"] == "4000"


def test_exchange_rate_is_queryable_and_updated_by_post(server):
	"""qbo-api.md §3 (python-quickbooks tests/integration/test_exchangerate.py) and §9 Multicurrency: the query
	`SELECT * FROM ExchangeRate WHERE SourceCurrencyCode = 'EUR'`, and python-quickbooks' ExchangeRate.save
	(UpdateNoIdMixin) POSTs the whole object back to /exchangerate."""
	api = Api(server, server.create_realm(multicurrency=True, per_second=1000))
	rows = api.query("SELECT * FROM ExchangeRate WHERE SourceCurrencyCode = 'EUR'")["ExchangeRate"]
	assert rows and {r["SourceCurrencyCode"] for r in rows} == {"EUR"}
	row = rows[0]
	assert row["TargetCurrencyCode"] == "USD" and D(str(row["Rate"])) > 0
	row["Rate"] = D("1.3125")
	row["AsOfDate"] = "2026-03-02"
	saved = api.ok("POST", "/exchangerate", row)["ExchangeRate"]
	assert saved["Rate"] == D("1.3125") and saved["AsOfDate"] == "2026-03-02"
	again = api.query(
		"select * from ExchangeRate where SourceCurrencyCode = 'EUR' and AsOfDate = '2026-03-02'"
	)
	assert [r["Rate"] for r in again["ExchangeRate"]] == [D("1.3125")]
	assert api.query("SELECT COUNT(*) FROM ExchangeRate WHERE SourceCurrencyCode = 'EUR'")["totalCount"] >= 1
	home = Api(server, server.create_realm(per_second=1000))  # no multicurrency: no foreign currency rows
	assert home.query("SELECT * FROM ExchangeRate") == {}


def test_invoice_send_updates_email_status_within_the_daily_limit_and_pdf_downloads(server):
	"""python-quickbooks SendMixin (`POST <entity>/<id>/send?sendTo=`, application/octet-stream) and
	QuickbooksPdfDownloadable (`GET <entity>/<id>/pdf`), quickbooks/mixins.py; qbo-api.md §5 "Sandbox adds
	40 emails/day per realm"; §9 lists EmailStatus/BillEmail on Invoice."""
	realm = server.create_realm(per_second=1000, emails_per_day=2)
	api = Api(server, realm)
	inv = api.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [_item_line("10.00")]})
	assert inv["EmailStatus"] == "NotSet"
	headers = {"Content-Type": "application/octet-stream"}
	sent = api.ok("POST", f"/invoice/{inv['Id']}/send", params={"sendTo": "ap@acme.example"}, headers=headers)
	assert sent["Invoice"]["EmailStatus"] == "EmailSent"
	assert sent["Invoice"]["BillEmail"] == {"Address": "ap@acme.example"}
	assert sent["Invoice"]["DeliveryInfo"]["DeliveryType"] == "Email"
	assert int(sent["Invoice"]["SyncToken"]) == int(inv["SyncToken"]) + 1
	assert api.read("Invoice", inv["Id"])["EmailStatus"] == "EmailSent"
	api.ok("POST", f"/invoice/{inv['Id']}/send", headers=headers)  # to BillEmail
	over = api.fault("POST", f"/invoice/{inv['Id']}/send", headers=headers)
	assert over["code"] == "6000" and "daily e-mail limit" in over["Detail"]
	server.advance_clock(days=1)
	api = Api(server, realm)  # a new day, a new access token (they live an hour)
	api.ok("POST", f"/invoice/{inv['Id']}/send", headers=headers)
	pdf = api.call("GET", f"/invoice/{inv['Id']}/pdf", headers={"Accept": "application/pdf"})
	assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
	assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
	assert inv["DocNumber"].encode() in pdf.content
	assert api.fault("GET", "/invoice/99999/pdf")["code"] == "610"


def test_throttle_defaults_to_qbo_mix_so_xml_is_met_first(server):
	"""qbo-api.md §5: the 3001 throttle "often comes as XML even when JSON was requested"
	(ej2/python-quickbooks#43); fx:ruckus-quickbooks-ruby/too_many_requests_error.xml is the XML shape."""
	realm = server.create_realm(seed=False, per_second=1)
	api = Api(server, realm)
	kinds = []
	for _ in range(4):
		server.advance_clock(seconds=2)
		api.ok("GET", "/preferences")
		resp = api.call("GET", "/preferences")
		assert resp.status_code == 429
		kinds.append(resp.headers["Content-Type"].split(";")[0])
	assert kinds == ["application/xml", "application/json"] * 2
	server.advance_clock(seconds=2)
	api.ok("GET", "/preferences")
	first_xml = api.call("GET", "/preferences")
	assert ET.fromstring(first_xml.content).find(".//{http://schema.intuit.com/finance/v3}Error").get("code")
	server.set_options(realm, throttle_format="json")
	server.advance_clock(seconds=2)
	api.ok("GET", "/preferences")
	assert api.call("GET", "/preferences").json()["Fault"]["Error"][0]["code"] == "3001"


def test_openid_discovery_names_the_sandbox_own_endpoints_and_they_work(server, realm):
	"""qbo-api.md §7: Intuit's discovery documents at /.well-known/openid_configuration/ and
	/.well-known/openid_sandbox_configuration/; standard OAuth clients read them first."""
	for path in ("/.well-known/openid_configuration", "/.well-known/openid_sandbox_configuration/"):
		doc = requests.get(server.base_url + path, timeout=5).json()
		for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint", "jwks_uri"):
			assert doc[key].startswith(server.base_url), key
	assert requests.get(doc["jwks_uri"], timeout=5).json() == {"keys": []}
	client_id, secret = server.register_app(redirect_uri="http://127.0.0.1/cb", default_realm=realm)
	auth = requests.get(
		doc["authorization_endpoint"],
		params={
			"client_id": client_id,
			"response_type": "code",
			"scope": "com.intuit.quickbooks.accounting",
			"redirect_uri": "http://127.0.0.1/cb",
			"state": "s1",
		},
		allow_redirects=False,
		timeout=5,
	)
	code = parse_qs(urlparse(auth.headers["Location"]).query)["code"][0]
	tokens = requests.post(
		doc["token_endpoint"],
		data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1/cb"},
		auth=(client_id, secret),
		timeout=5,
	).json()
	assert tokens["token_type"] == "bearer" and tokens["access_token"]


def test_root_page_says_what_it_is_and_how_to_get_a_token(server, realm):
	page = requests.get(server.base_url + "/", timeout=5)
	assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
	assert "QuickBooks Online" in page.text and "/_sandbox/tokens" in page.text
	assert "/oauth2/authorize" in page.text and realm in page.text


def test_like_is_linear_on_patterns_with_many_wildcards(api):
	"""Issue 8: `%a%a…` over 40 characters took 64 s as a backtracking regex. Bound the characters scanned."""
	text = "a" * 40
	pattern = "%a" * 10 + "%b"
	matched, steps = like_steps(text, pattern)
	assert not matched and steps <= 4 * (len(text) + len(pattern))
	# the prefix/suffix shortcut aside: a text that ends right, with a middle piece that never occurs
	hard_text = "a" * 40 + "b"
	matched, steps = like_steps(hard_text, "%a" * 10 + "%c%b")
	assert not matched and 10 < steps <= 4 * (len(hard_text) + 25)
	assert like_steps(hard_text, "%a" * 10 + "%b")[0]
	long_text = "ab" * 5000
	matched, steps = like_steps(long_text, "%a%" * 200 + "%c")
	assert not matched and steps <= 4 * (len(long_text) + 600)
	assert like_steps("Acme Logistics", "acme%ist%")[0] and like_steps("Acme", "A%c%m%e")[0]
	assert (
		not like_steps("Acme", "A%cme%e")[0] and like_steps("", "%")[0] and not like_steps("ab", "a%%ba")[0]
	)
	name = "a" * 40
	api.create("Customer", {"DisplayName": name})
	found = api.query("select * from Customer where DisplayName like '" + "%a" * 10 + "%'")
	assert [c["DisplayName"] for c in found["Customer"]] == [name]
	assert api.query("select * from Customer where DisplayName like '" + pattern + "'") == {}


def test_field_limits_with_no_recorded_source_are_listed_as_unknown():
	"""qbo-api.md records no length limit for Description and no rule for a negative Qty; the sandbox does not
	guess (it accepts them) and says so in its README."""
	from pathlib import Path

	import nexora_qbo.sandbox as sandbox_pkg

	readme = (Path(sandbox_pkg.__file__).parent / "README.md").read_text()
	unknown = readme.split("**Unknown, so not enforced", 1)[1].split("\n- **", 1)[0]
	for phrase in ("negative `Qty`", "`Description`", "`PrivateNote`", "`DisplayName`"):
		assert phrase in unknown, phrase


def test_negative_quantity_and_long_description_are_accepted_as_documented(api):
	"""The README's "Unknown, so not enforced" entry, held by behaviour: no invented refusal."""
	line = _item_line("-90.00", Qty=-2, UnitPrice=45)
	line["Description"] = "x" * 5000
	inv = api.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [line, _item_line("100.00")]})
	assert inv["TotalAmt"] == D("10.00") and len(inv["Line"][0]["Description"]) == 5000


def test_readme_paths_are_served_and_listed_unserved_paths_are_refused(server, realm):
	"""The README's "Not served" list matches the server: each listed path answers 400 Unsupported
	Operation (code 500, fx:minimul-qbo_api/error/500.yml), and `LineEx`, which the sandbox produces, is not
	claimed as not produced."""
	from pathlib import Path

	import nexora_qbo.sandbox as sandbox_pkg

	readme = (Path(sandbox_pkg.__file__).parent / "README.md").read_text()
	assert "`LineEx` is not produced" not in readme
	api = Api(server, realm)
	block = readme.split("**Not served", 1)[1].split("\n- **", 1)[0]
	paths = [seg.strip("`") for seg in block.split() if seg.startswith("`/")]
	assert len(paths) >= 5
	for path in paths:
		resp = api.call("GET", path.split("?")[0].replace("<id>", "1"))
		assert resp.status_code == 400, path
		assert load_json(resp.text)["Fault"]["Error"][0]["code"] == "500", path


def test_throttle_format_is_one_of_the_documented_shapes(server, realm):
	import pytest

	with pytest.raises(ValueError, match="throttle_format must be one of"):
		server.set_options(realm, throttle_format="yaml")
