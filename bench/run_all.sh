#!/usr/bin/env bash
# Run the benchmarks one after the other; each starts and stops its own processes.
#   1. propagation at the issue's fixed rate (20/s, 300 samples)
#   2. propagation at 2/s (100 samples): a rate this 2-core machine sustains, see README
#   3. consumer throughput (licensing in-process vs raw batched writes)
#   4. registrations for one popular session (through the gateway vs raw conditional writes)
#   5. royalty computation and distribution for 1,000,000 report lines vs reading them
# Exits non-zero if any of them failed, after running all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  bash scripts/setup
fi
status=0
echo "== bench/propagation.py"
"$PY" bench/propagation.py || status=1
echo
echo "== bench/propagation.py --rate 2 --samples 100"
"$PY" bench/propagation.py --rate 2 --samples 100 || status=1
echo
echo "== bench/consumer_throughput.py"
"$PY" bench/consumer_throughput.py || status=1
echo
echo "== bench/registrations.py"
"$PY" bench/registrations.py || status=1
echo
echo "== bench/royalties.py (1,000,000 lines)"
"$PY" bench/royalties.py --max-seconds 5400 || status=1
exit $status
