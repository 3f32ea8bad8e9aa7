# Sourced by scripts/serve and scripts/test: make .venv and install SONAR into it.
# Debian's python3 ships without venv/ensurepip unless python3-venv is installed;
# on a fresh box (as root) install it rather than failing.
STAMP=.venv/.installed-stamp
if [[ ! -x .venv/bin/python ]]; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null && [[ $EUID == 0 ]] \
      && command -v apt-get >/dev/null; then
    echo "installing python3-venv" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >&2
  fi
  echo "creating .venv" >&2
  rm -f "$STAMP"   # a fresh venv always needs the install below
  python3 -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last successful install
# (-nt is also true when the stamp does not exist yet).
if [[ pyproject.toml -nt $STAMP ]]; then
  echo "pip install -e '.[dev]'" >&2
  .venv/bin/python -m pip install -q -e '.[dev]' >&2
  touch "$STAMP"   # only after success, so a failed install is retried
fi
