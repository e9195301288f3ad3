#!/usr/bin/env bash
# Regenerates docs/img/report.png, the README's picture of `grader report`: sample_data/ in a throwaway store,
# its report, rendered by headless Chromium (apt-get install -y chromium). Run from the checkout:
#   bash docs/report_screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
grader="${GRADER:-.venv/bin/grader}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="$(dirname "$grader")/python"
"$python" -c "
from pathlib import Path
from grader.cli.review_commands import load_demo
load_demo('sqlite:///$work/demo.db', Path('sample_data'))
"
"$grader" report --db "$work/demo.db" --title "Verifier audit: sample data" -o "$work/audit.html"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$work/profile" --window-size=1000,1500 \
    --screenshot="docs/img/report.png" "file://$work/audit.html" 2>/dev/null
echo "wrote docs/img/report.png"
