#!/usr/bin/env bash
# Install the documentation requirements and build the HTML site with warnings
# as errors. Run from anywhere; the site lands in docs/_build/html.
#   bash docs/build.sh            # install + build
#   SKIP_INSTALL=1 bash docs/build.sh   # build only (requirements already there)
# Fails (non-zero exit) on any Sphinx warning: a broken cross-reference, a
# docstring or user-guide example that fails, or a gallery example that raises.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_INSTALL:-0}" != "1" ]; then
    python -m pip install -q -r docs/requirements.txt
fi
start=$(date +%s)
python -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs built in $(( $(date +%s) - start )) s: docs/_build/html/index.html"
