#!/usr/bin/env bash
# The demo: install what is missing, build, and analyze a bundled sample
# capture (a Defender for Identity sensor resolving names, with some ports
# blocked), printing the text report, then writing the HTML page and the
# firewall fix script.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target portwitness
sample=pcaps/nnr-methods.pcap
echo "== build/portwitness -r $sample"
status=0
build/portwitness -r "$sample" || status=$?
# Exit status 0 is a clean report; 3 means a required rule failed (--fail-on).
[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
# A self-contained HTML page (open it in any browser, no network needed) and
# the firewall fix script to review, of a capture whose sensor is unhealthy:
# NetBIOS refused by a router for some targets, dropped for others.
page_sample=pcaps/nnr-netbios-alert.pcap
echo "== build/portwitness -r $page_sample --format html / fix"
for fmt in html fix; do
  out=build/demo-report.html
  [ "$fmt" = fix ] && out=build/demo-fix.ps1
  status=0
  build/portwitness -r "$page_sample" --format "$fmt" -o "$out" || status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 3 ]
done
echo "== HTML report: $(pwd)/build/demo-report.html (open with xdg-open or as a file:// URL)"
echo "== Firewall fixes to review: $(pwd)/build/demo-fix.ps1"
