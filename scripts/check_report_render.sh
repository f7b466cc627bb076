#!/usr/bin/env bash
# CI check of `gradflow report`: runs a small sweep (twice: SGD and Adam) and three small single
# runs (healthy, born dead, diverged), writes their reports (the sweep alone; the two sweeps
# overlaid, with every figure also as SVG; the three runs overlaid, with their heatmaps over
# time), parses each page as XML (it is written XHTML-compatible, so a stray or unbalanced tag
# fails), checks what each must show, renders it with Debian's headless chromium and checks the
# screenshot is not blank. The screenshots stay in WORK_DIR to look at. Used by ctest.
set -euo pipefail
gradflow="$1"
work="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
python=/usr/bin/python3  # Debian's, which has python3-pil (the first python3 on PATH may not)

rm -rf "$work"
mkdir -p "$work"
"$gradflow" run "$root/configs/regression/flow_small.json" --out "$work/sweep" --jobs 2 -q
"$gradflow" run "$root/configs/regression/flow_small.json" --out "$work/adam" --jobs 2 -q \
  --set train.optimizer=adam --set train.lr=0.01
# Single runs: the quickstart made small; born dead (relu, bias -3: no unit ever fires, every
# hidden gradient is exactly 0); diverged (relu at the quickstart's lr 0.5, step 4).
small=(--set model.depth=6 --set model.width=16 --set train.steps=60)
"$gradflow" run "$root/configs/quickstart.json" "${small[@]}" --out "$work/healthy" -q \
  --set model.activation=relu --set model.init=he_normal --set train.lr=0.1
"$gradflow" run "$root/configs/quickstart.json" "${small[@]}" --out "$work/born_dead" -q \
  --set model.activation=relu --set model.init=he_normal --set model.bias_init=-3
"$gradflow" run "$root/configs/quickstart.json" --out "$work/diverged" -q \
  --set model.activation=relu --set model.init=he_normal --set train.steps=40
# A layer stack (residual blocks with batch norm), whose plots index layers.csv rows.
"$gradflow" run "$root/configs/quickstart.json" "${small[@]}" --out "$work/stack" -q \
  --set model.depth=7 --set model.norm='"batch"' --set 'model.residual={"every": 2, "scale": 1}' \
  --set model.activation=relu --set model.init=he_normal --set train.lr=0.1

"$gradflow" report "$work/sweep" -o "$work/report.html" -q
"$gradflow" report "$work/sweep" "$work/adam" -o "$work/overlay.html" --svg-dir "$work/svg" -q
"$gradflow" report "$work/healthy" "$work/born_dead" "$work/diverged" -o "$work/runs.html" -q
"$gradflow" report "$work/stack" -o "$work/stack.html" -q

"$python" - "$work" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
work = sys.argv[1]
# Each page: well-formed, at least this many figures, and the text each feature writes.
expect = {
    "report.html": (10, ["per layer and step", "update ratio per layer", "global gradient norm"]),
    "overlay.html": (20, ["<th>folder</th>", "Overlay of 2 folders", "per layer and step"]),
    "runs.html": (20, ["0: no gradient", "<b>Diverged:</b>", "per layer and step",
                       "zero outputs (relu sparsity)"]),
    "stack.html": (10, ["layers.csv row", "batch_norm", "per layer and step"]),
}
for name, (figures, needles) in expect.items():
    path = os.path.join(work, name)
    root = ET.parse(path).getroot()
    svgs = root.findall(".//{http://www.w3.org/2000/svg}svg")
    text = open(path, encoding="utf-8").read()
    missing = [n for n in needles if n not in text]
    print(f"{name}: well-formed, {len(svgs)} svg elements")
    if len(svgs) < figures or missing:
        sys.exit(f"{name}: expected at least {figures} figures and {needles}; missing {missing}")
files = sorted(glob.glob(os.path.join(work, "svg", "*.svg")))
for f in files:
    ET.parse(f)  # each standalone figure parses on its own
print(f"svg/: {len(files)} standalone figures, each well-formed")
if len(files) < 20:
    sys.exit("svg/: expected at least 20 figures")
PY

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "chromium not found: install it with scripts/setup.sh chromium (scripts/test.sh does)" >&2
  exit 1
fi
# Measured in the browser: the page never scrolls sideways (wide tables scroll by themselves),
# and no text of a figure (titles, notes, axis labels, ticks) reaches past the figure's edge,
# where it would be cut off. Text inside a plot area's clipping <svg> is clipped on purpose.
layout_probe='<script>
(function () {
  var bad = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    bad.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " px");
  document.querySelectorAll("svg").forEach(function (svg) {
    if (svg.parentElement.closest("svg")) return;
    var box = svg.getBoundingClientRect();
    svg.querySelectorAll("text").forEach(function (t) {
      var inner = t.closest("svg");
      if (inner !== svg && inner.getAttribute("overflow") === "hidden") return;
      var r = t.getBoundingClientRect();
      if (r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 ||
                          r.top < box.top - 1 || r.bottom > box.bottom + 1))
        bad.push("text \u201c" + t.textContent.slice(0, 60) + "\u201d spans x " +
                 Math.round(r.left - box.left) + " to " + Math.round(r.right - box.left) +
                 " of a " + Math.round(box.width) + " x " + Math.round(box.height) + " figure");
    });
  });
  document.body.setAttribute("data-layout", bad.length ? bad.slice(0, 10).join(" | ") : "ok");
})();
</script>'
for page in report overlay runs stack; do
  # --no-sandbox: chromium refuses to run as root with its sandbox; a private profile keeps
  # the check away from $HOME; --virtual-time-budget lets layout finish before the screenshot.
  timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --hide-scrollbars --user-data-dir="$work/profile" \
    --window-size=1280,4000 --virtual-time-budget=5000 \
    --screenshot="$work/$page.png" "file://$work/$page.html" >"$work/chromium.log" 2>&1 || {
    cat "$work/chromium.log" >&2
    exit 1
  }
  "$python" - "$work/$page.png" <<'PY'
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
print(f"{sys.argv[1]}: {width}x{height}, {colours} colours, {inked:.1%} not white, "
      f"{blank_bands} blank bands of the top 4")
if width != 1280 or colours < 50 or inked < 0.03 or blank_bands:
    sys.exit(f"{sys.argv[1]} looks blank or broken")
PY
  { cat "$work/$page.html"; echo "$layout_probe"; } >"$work/$page.probe.html"
  timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$work/profile" --window-size=1280,4000 \
    --virtual-time-budget=5000 --dump-dom "file://$work/$page.probe.html" \
    >"$work/$page.dom.html" 2>"$work/chromium.log" || {
    cat "$work/chromium.log" >&2
    exit 1
  }
  "$python" - "$work/$page.dom.html" "$page" <<'PY'
import html, re, sys
found = re.search(r'data-layout="([^"]*)"', open(sys.argv[1], encoding="utf-8").read())
if not found:
    sys.exit(f"{sys.argv[2]}.html: the layout probe did not run")
problems = html.unescape(found.group(1))
print(f"{sys.argv[2]}.html layout: {problems}")
if problems != "ok":
    sys.exit(f"{sys.argv[2]}.html: {problems}")
PY
done
