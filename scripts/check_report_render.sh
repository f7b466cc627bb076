#!/usr/bin/env bash
# CI check of `gradflow report`: runs a small sweep, writes its report, parses the page as XML
# (it is written XHTML-compatible, so a stray or unbalanced tag fails), renders it with
# Debian's headless chromium and checks the screenshot is not blank. Used by ctest.
# usage: check_report_render.sh GRADFLOW_BINARY WORK_DIR
set -euo pipefail
gradflow="$1"
work="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
python=/usr/bin/python3  # Debian's, which has python3-pil (the first python3 on PATH may not)

rm -rf "$work"
mkdir -p "$work"
"$gradflow" run "$root/configs/regression/flow_small.json" --out "$work/sweep" --jobs 2 -q
"$gradflow" report "$work/sweep" -o "$work/report.html" -q

"$python" - "$work/report.html" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
svgs = root.findall(".//{http://www.w3.org/2000/svg}svg")
print(f"report.html: well-formed, {len(svgs)} svg elements")
if len(svgs) < 10:
    sys.exit("report.html: expected at least 10 figures")
PY

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "chromium not found: install it with scripts/setup.sh chromium (scripts/test.sh does)" >&2
  exit 1
fi
# --no-sandbox: chromium refuses to run as root with its sandbox; a private profile keeps the
# check away from $HOME; --virtual-time-budget lets layout finish before the screenshot.
timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --no-first-run --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=1280,4000 --virtual-time-budget=5000 \
  --screenshot="$work/report.png" "file://$work/report.html" >"$work/chromium.log" 2>&1 || {
  cat "$work/chromium.log" >&2
  exit 1
}

"$python" - "$work/report.png" <<'PY'
import sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
width, height = image.size
small = image.resize((width // 4, height // 4))
pixels = list(small.getdata())
colours = len(set(pixels))
inked = sum(1 for p in pixels if sum(p) < 720) / len(pixels)
# Each of the top four bands of the page holds text or figures, not just white.
bands = [small.crop((0, i * small.height // 8, small.width, (i + 1) * small.height // 8))
         for i in range(4)]
blank_bands = sum(1 for b in bands if b.getextrema() == ((255, 255),) * 3)
print(f"report.png: {width}x{height}, {colours} colours, {inked:.1%} not white, "
      f"{blank_bands} blank bands of the top 4")
if width != 1280 or colours < 50 or inked < 0.03 or blank_bands:
    sys.exit("report.png looks blank or broken")
PY
