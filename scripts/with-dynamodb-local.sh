#!/usr/bin/env bash
# with-dynamodb-local.sh CMD [ARGS...]
#
# Runs CMD with DYNAMODB_ENDPOINT pointing at a DynamoDB Local instance.
#
# If DYNAMODB_ENDPOINT is already set, CMD is simply exec'd (use this to run
# against an instance you manage yourself). Otherwise the script starts
# DynamoDB Local (installed by scripts/install-dynamodb-local.sh, see
# DYNAMODB_LOCAL_DIR) in memory on a free port, waits until it answers,
# exports DYNAMODB_ENDPOINT=http://127.0.0.1:PORT, runs CMD, stops the JVM
# whatever happens and exits with CMD's exit status.
#
# DynamoDB Local has no option to choose its listen address: it listens on
# all interfaces. The JVM log goes to <repo>/.cache/logs/.
set -euo pipefail

if (($# == 0)); then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

if [[ -n "${DYNAMODB_ENDPOINT:-}" ]]; then
  exec "$@"
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${DYNAMODB_LOCAL_DIR:-$repo_root/.cache/dynamodb-local}"
log_dir="$repo_root/.cache/logs"
start_timeout="${DYNAMODB_LOCAL_START_TIMEOUT:-60}" # seconds
java_heap="${DYNAMODB_LOCAL_XMX:-1g}"

say() { printf 'with-dynamodb-local: %s\n' "$*" >&2; }
die() { printf 'with-dynamodb-local: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ ! -f "$dir/DynamoDBLocal.jar" || ! -d "$dir/DynamoDBLocal_lib" ]]; then
  die "DynamoDB Local is not installed in $dir; run 'make dynamodb-local' (scripts/install-dynamodb-local.sh)"
fi
command -v java >/dev/null 2>&1 ||
  die "java not found on PATH; run 'make dynamodb-local' (scripts/install-dynamodb-local.sh) or install Java 17+"

have_curl=0
command -v curl >/dev/null 2>&1 && have_curl=1

port_in_use() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

random_free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# answers PORT: true once DynamoDB Local answers a ListTables call (with curl),
# or accepts TCP connections (without curl).
answers() {
  if ((have_curl)); then
    curl -fsS -o /dev/null --max-time 2 -X POST \
      -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
      -H 'Content-Type: application/x-amz-json-1.0' \
      -H 'Authorization: AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x' \
      --data '{}' "http://127.0.0.1:$1/" 2>/dev/null
  else
    port_in_use "$1"
  fi
}

java_pid=""
stop_jvm() {
  local i
  if [[ -n "$java_pid" ]]; then
    kill "$java_pid" 2>/dev/null || true
    # Give the JVM a moment to exit on SIGTERM, then force it.
    for ((i = 0; i < 50; i++)); do
      kill -0 "$java_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$java_pid" 2>/dev/null || true
    wait "$java_pid" 2>/dev/null || true
    java_pid=""
  fi
}
trap 'stop_jvm' EXIT
trap 'stop_jvm; exit 130' INT
trap 'stop_jvm; exit 143' TERM

mkdir -p "$log_dir"
port=""
log_file=""
started=0
now_ms() { local t="${EPOCHREALTIME:-$SECONDS.000000}"; t="${t//[.,]/}"; echo $((10#$t / 1000)); }
t0="$(now_ms)"
for _ in 1 2 3; do
  port="$(random_free_port)" || die "could not find a free TCP port"
  log_file="$log_dir/dynamodb-local-$port.log"
  java "-Xmx$java_heap" "-Djava.library.path=$dir/DynamoDBLocal_lib" \
    -jar "$dir/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port" \
    </dev/null >"$log_file" 2>&1 &
  java_pid=$!

  deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$java_pid" 2>/dev/null; then
      break # the JVM died
    fi
    if answers "$port"; then
      ((have_curl)) || sleep 1 # the port is open; give Jetty a moment
      if kill -0 "$java_pid" 2>/dev/null; then # it is our JVM that answered
        started=1
      fi
      break
    fi
    sleep 0.1
  done
  ((started)) && break

  if ! kill -0 "$java_pid" 2>/dev/null && grep -qE 'BindException|Address already in use|Failed to bind' "$log_file"; then
    say "port $port was taken before DynamoDB Local could bind it; retrying with another port"
    wait "$java_pid" 2>/dev/null || true
    java_pid=""
    continue
  fi
  break
done

if ((!started)); then
  if [[ -n "$java_pid" ]] && kill -0 "$java_pid" 2>/dev/null; then
    reason="it did not answer on port $port within ${start_timeout}s"
  else
    reason="the JVM exited"
  fi
  stop_jvm
  say "DynamoDB Local failed to start: $reason. Last lines of $log_file:"
  tail -n 30 "$log_file" >&2 || true
  exit 1
fi

say "DynamoDB Local is up on 127.0.0.1:$port after $(($(now_ms) - t0)) ms (pid $java_pid, log $log_file)"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"

set +e
"$@"
status=$?
set -e

stop_jvm
if ((status == 0)); then
  rm -f "$log_file"
fi
exit "$status"
