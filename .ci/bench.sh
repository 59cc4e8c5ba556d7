#!/bin/sh
# CI smoke for the cross-library benchmark module (bench/): vet, the echo
# and load-generator tests against every implementation, and one tiny
# bounded run of the whole pipeline (echo, idle memory, broadcast,
# micro-benchmarks). Takes about 3 minutes; numbers
# from it mean nothing.
set -eu
cd "$(dirname "$0")/../bench"
test -z "$(gofmt -l .)" || { gofmt -l .; echo "bench: gofmt needed" >&2; exit 1; }
go vet ./...
go test -count=1 -timeout 120s ./...
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 300 go run ./cmd/runall -matrix smoke -runs 1 -warmup 50ms -duration 100ms \
	-idle 200 -idleruns 1 -broadcast 200 -micro 1x -out "$tmp/RESULTS.md" -raw "$tmp/results.json"
grep -q '^| starling |' "$tmp/RESULTS.md"
if grep -q '^## Failed runs' "$tmp/RESULTS.md"; then
	sed -n '/^## Failed runs/,$p' "$tmp/RESULTS.md" >&2
	exit 1
fi
# The budget table is computed from the raw runs the smoke just wrote.
budget=$(go run ./cmd/runall -budget "$tmp/results.json")
echo "$budget" | grep -q '^| scenario | target µs/msg |'
echo "bench smoke: ok"
