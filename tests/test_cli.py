"""The command line a newcomer meets first: `nexora-qbo --version`, `nexora-qbo sandbox --help`, the banner."""

from __future__ import annotations

import nexora_qbo
from nexora_qbo import cli
from nexora_qbo.sandbox import cli as sandbox_cli


def test_version(capsys):
	assert cli.main(["--version"]) == 0
	assert capsys.readouterr().out.strip() == f"nexora-qbo {nexora_qbo.__version__}"


def test_sandbox_help_shows_defaults_and_explains_speed(capsys):
	try:
		sandbox_cli.main(["--help"])
	except SystemExit as exit_:
		assert exit_.code == 0
	out = " ".join(capsys.readouterr().out.split())
	assert "(default: 8765)" in out and "(default: 127.0.0.1)" in out and "(default: 2)" in out
	assert "sandbox seconds per real second" in out and "(default: 1.0)" in out


def test_banner_lists_the_token_shortcut_and_the_guide(capsys):
	assert sandbox_cli.main(["--port", "0", "--realms", "1", "--check"]) == 0
	out = capsys.readouterr().out
	realm = out.split("  realm ", 1)[1].split(":", 1)[0]
	client_id = out.split("client_id=", 1)[1].split()[0]
	assert (
		"/_sandbox/tokens" in out and f'"realm_id": "{realm}"' in out and f'"client_id": "{client_id}"' in out
	)
	assert "/.well-known/openid_configuration" in out
