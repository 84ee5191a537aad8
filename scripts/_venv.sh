# Sourced by the scripts: make .venv hold the app as the work tree has it, reinstalling only when it changed.
# Why: a reinstall costs ~14 s, the demo ~1 s. The stamp is a hash of everything a wheel is built from
# (pyproject.toml, setup.py, the package's files) and the extras installed with it, so any edit triggers one
# reinstall and switching between demo.sh and test.sh triggers none.
# Usage: ensure_venv [extra]   e.g. ensure_venv test   ->   pip install '.[test]'
ensure_venv() {
	local extra="${1:-}" stamp=".venv/.nexora-install-stamp" hash have="" extras spec="."
	if [ ! -x .venv/bin/python ]; then
		python3 -m venv .venv
		.venv/bin/pip install --quiet --upgrade pip
	fi
	hash="$(find pyproject.toml setup.py nexora_qbo -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
		| LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
	[ -f "$stamp" ] && have="$(cat "$stamp")"
	extras="$(echo "${have#* }" | tr ' ' '\n' | grep -v '^$' || true)"
	if [ "${have%% *}" = "$hash" ] && { [ -z "$extra" ] || echo "$extras" | grep -qx "$extra"; }; then
		return 0
	fi
	[ "${have%% *}" = "$hash" ] || extras=""
	extras="$(printf '%s\n%s\n' "$extras" "$extra" | grep -v '^$' | sort -u | paste -sd, - || true)"
	[ -n "$extras" ] && spec=".[$extras]"
	rm -rf build  # a stale build/ would put deleted modules back into the wheel
	.venv/bin/pip install --quiet "$spec"
	echo "$hash ${extras//,/ }" > "$stamp"
}
