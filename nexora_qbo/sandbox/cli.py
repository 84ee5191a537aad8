"""`nexora-qbo sandbox`: serve the local QBO sandbox with a seeded staffing company per realm."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(
		prog="nexora-qbo sandbox",
		description="Serve a local QuickBooks Online sandbox: one seeded staffing company per realm, the QBO "
		"Accounting API v3, OAuth 2.0 and an admin API. Open the printed URL in a browser for a token walkthrough.",
		formatter_class=argparse.ArgumentDefaultsHelpFormatter,
	)
	parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
	parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
	parser.add_argument("--seed", type=int, default=0, help="seed for realm ids and fault injection")
	parser.add_argument("--realms", type=int, default=2, help="number of seeded staffing companies")
	parser.add_argument(
		"--speed",
		type=float,
		default=1.0,
		help="sandbox clock speed: sandbox seconds per real second (60 = a sandbox minute each second, so "
		"per-minute rate limits, the 1 h token expiry and CDC's 30-day window arrive quickly)",
	)
	parser.add_argument("--multicurrency", action="store_true", help="enable multicurrency in every realm")
	parser.add_argument(
		"--redirect-uri",
		default="http://127.0.0.1:8000/api/method/nexora_qbo.erpnext.oauth.callback",
		help="redirect URI registered for the printed OAuth app",
	)
	parser.add_argument("--check", action="store_true", help="start, print, and exit (smoke test)")
	args = parser.parse_args(argv)

	from .server import SandboxServer

	server = SandboxServer(args.host, args.port, seed=args.seed, speed=args.speed, start=False)
	realms = [
		server.create_realm(multicurrency=args.multicurrency, company_name=f"Nexora Staffing {n + 1}")
		for n in range(max(1, args.realms))
	]
	client_id, secret = server.register_app(redirect_uri=args.redirect_uri, default_realm=realms[0])
	print(f"QBO sandbox on {server.base_url}  (environment=custom, custom_base_url={server.base_url})")
	for rid in realms:
		print(f"  realm {rid}: {server.realm(rid).options.company_name}")
	print(f"  OAuth app client_id={client_id}")
	print(f"            client_secret={secret}")
	print(f"            redirect_uri={args.redirect_uri} (authorize with &realmId=<realm> to pick a company)")
	print("  token shortcut (no browser):")
	print(
		f"    curl -s -X POST {server.base_url}/_sandbox/tokens -H 'Content-Type: application/json' "
		f"""-d '{{"realm_id": "{realms[0]}", "client_id": "{client_id}"}}'"""
	)
	print(
		f"  OpenID discovery: {server.base_url}/.well-known/openid_configuration;  guide: {server.base_url}/"
	)
	print(
		"  admin API: /_sandbox/realms, /_sandbox/apps, /_sandbox/tokens, /_sandbox/clock/advance, "
		"/_sandbox/realms/<id>/faults"
	)
	sys.stdout.flush()
	if args.check:
		server.stop()
		return 0
	try:
		server.serve_forever()
	except KeyboardInterrupt:
		pass
	finally:
		server.stop()
	return 0


if __name__ == "__main__":
	sys.exit(main())
