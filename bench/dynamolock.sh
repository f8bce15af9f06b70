#!/usr/bin/env bash
# dynamolock.sh [GO TEST FLAGS...]
#
# Runs BenchmarkDynamolockAcquireRelease and BenchmarkDynamolockHandover:
# cirello.io/dynamolock/v2 side by side with lease. dynamolock is not served
# by the Go module proxy and is never a dependency of this module, so:
#
#   - its sources must be in <repo>/.cache/dynamolock (the v2/ folder of
#     github.com/cirello-io/dynamolock, e.g.
#     `git archive master:v2 | tar -x -C .cache/dynamolock`);
#   - the benchmark file is testdata/dynamolock_test.go (build tag
#     "dynamolock"), where `go mod tidy` and `go vet ./...` do not see it; an
#     -overlay puts it into the package as dynamolock_test.go;
#   - a modfile generated under .cache (bench-dynamolock.mod, from go.mod)
#     requires dynamolock through a replace to the local copy.
#
# Then it runs, under scripts/with-dynamodb-local.sh,
#
#   go test -mod=mod -tags dynamolock -modfile=... -overlay=... \
#     -run '^$' -bench Dynamolock -benchtime "${BENCHTIME:-100x}" "$@" .
#
# Nothing in bench/ is modified.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
src="$root/.cache/dynamolock"
mod="$root/.cache/bench-dynamolock.mod"
overlay="$root/.cache/bench-dynamolock.overlay.json"

if [[ ! -f "$src/go.mod" ]] || ! grep -q '^module cirello.io/dynamolock/v2$' "$src/go.mod"; then
  echo "dynamolock.sh: no cirello.io/dynamolock/v2 sources in $src; extract the v2/ folder of github.com/cirello-io/dynamolock there" >&2
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  PATH="$PATH:/usr/local/go/bin"
fi

cd "$here"
cp go.mod "$mod"
cp go.sum "${mod%.mod}.sum"
# Relative paths in the modfile stay relative to the module root (bench/).
go mod edit -modfile="$mod" -require=cirello.io/dynamolock/v2@v2.2.0 -replace=cirello.io/dynamolock/v2="$src"
printf '{"Replace": {"%s": "%s"}}\n' "$here/dynamolock_test.go" "$here/testdata/dynamolock_test.go" >"$overlay"
flags=(-mod=mod -tags dynamolock -modfile="$mod" -overlay="$overlay")
go vet "${flags[@]}" .
exec bash "$root/scripts/with-dynamodb-local.sh" go test "${flags[@]}" \
  -run '^$' -bench Dynamolock -benchtime "${BENCHTIME:-100x}" -timeout 30m "$@" .
