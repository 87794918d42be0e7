#!/usr/bin/env bash
# The demo: install what is missing, build, and analyze a bundled sample
# capture (a Defender for Identity sensor resolving names, with some ports
# blocked), printing the text report.
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
