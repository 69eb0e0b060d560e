#!/usr/bin/env bash
# Runs the whole test suite against a throwaway PostgreSQL 15 cluster with
# pgvector 0.8.0, installing whatever is missing first (Debian bookworm).
#
# Environment:
#   MRL_SOLUTION     solution/project to test (default: Mrl.Adapters.sln)
#   MRL_TEST_FILTER  optional `dotnet test --filter` expression
#
# After the tests it packs every project, installs the `mrl` tool from that
# local folder and runs it. Once tests have run, the last line printed is
# "N passed, N failed, N skipped"; the exit code is non-zero if anything failed,
# the build broke, nothing ran, or the packaged tool did not install and run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$PWD

SOLUTION=${MRL_SOLUTION:-Mrl.Adapters.sln}
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
PGVECTOR_VERSION=0.8.0
# deb-src entry used only to fetch the pgvector source (bookworm ships 0.4.x).
TRIXIE_SRC_LIST=/etc/apt/sources.list.d/mrl-trixie-src.sources

log() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Fail fast: the SDK is part of the image, so a missing one is a setup problem.
command -v dotnet >/dev/null 2>&1 ||
  die "'dotnet' is not on PATH; install the .NET 10 SDK (https://dot.net) and retry."
[[ -e $SOLUTION ]] || die "'$SOLUTION' not found in $PWD"

is_root() { [[ $(id -u) -eq 0 ]]; }

# Package installs need root; fall back to sudo on a developer machine.
as_root() {
  if is_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# initdb refuses to run as root, so root runs the server as `postgres`.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Everything below is torn down on any exit, including failures and Ctrl-C.
build_dir='' PG_TMP='' PG_DATA='' added_src_list=false
remove_trixie_src() {
  if $added_src_list; then
    as_root rm -f "$TRIXIE_SRC_LIST"
    added_src_list=false
  fi
}
cleanup() {
  cd /
  remove_trixie_src || true
  [[ -z $build_dir ]] || rm -rf "$build_dir"
  if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
    (cd "$PG_TMP" && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop) \
      >/dev/null 2>&1 || true
  fi
  [[ -z $PG_TMP ]] || rm -rf "$PG_TMP"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap still runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# 1. System packages
# ---------------------------------------------------------------------------

pgvector_installed() {
  local control
  [[ -x $PG_CONFIG ]] || return 1
  control="$("$PG_CONFIG" --sharedir)/extension/vector.control"
  [[ -f $control && -f "$("$PG_CONFIG" --pkglibdir)/vector.so" ]] &&
    grep -Eq "^default_version = '${PGVECTOR_VERSION//./\\.}'" "$control"
}

missing=()
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/postgres ]] ||
  missing+=("postgresql-$PG_MAJOR")
[[ -x $PG_BIN/psql && -x $PG_CONFIG ]] || missing+=("postgresql-client-$PG_MAJOR")
[[ -f /usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/makefiles/pgxs.mk &&
   -f /usr/include/postgresql/$PG_MAJOR/server/postgres.h ]] ||
  missing+=("postgresql-server-dev-$PG_MAJOR")
command -v make >/dev/null 2>&1 || missing+=(make)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)

need_pgvector=false
if ! pgvector_installed; then
  need_pgvector=true
  # apt-get source unpacks with dpkg-source, which lives in dpkg-dev.
  command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
fi

# Mirror URI of the main (non-security) stanza, so the trixie source entry
# uses the same host as the rest of the system.
debian_mirror() {
  local file=/etc/apt/sources.list.d/debian.sources
  [[ -f $file ]] || die "$file not found; cannot derive the Debian mirror"
  awk '
    function flush() { if (uri != "" && main && !done) { print uri; done = 1 } uri = ""; main = 0 }
    /^[[:space:]]*$/ { flush(); next }
    /^URIs:/         { uri = $2 }
    /^Suites:/       { for (i = 2; i <= NF; i++) if ($i !~ /-security$/) main = 1 }
    END              { flush() }
  ' "$file"
}

if $need_pgvector; then
  mirror=$(debian_mirror)
  [[ -n $mirror ]] || die "no Debian mirror URI in /etc/apt/sources.list.d/debian.sources"
  log "adding trixie deb-src entry on $mirror (source packages only)"
  # Types: deb-src only, so no trixie binary package can ever be installed.
  added_src_list=true
  printf '%s\n' "Types: deb-src" "URIs: $mirror" "Suites: trixie" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
    as_root tee "$TRIXIE_SRC_LIST" >/dev/null
fi

if ((${#missing[@]} > 0)) || $need_pgvector; then
  log "apt-get update"
  as_root apt-get update -qq
fi
if ((${#missing[@]} > 0)); then
  log "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---------------------------------------------------------------------------
# 2. pgvector, built from the Debian trixie source package
# ---------------------------------------------------------------------------

if $need_pgvector; then
  build_dir=$(mktemp -d)
  # apt downloads as the unprivileged _apt user when it can write the target.
  if is_root && id _apt >/dev/null 2>&1; then chown _apt "$build_dir"; fi
  cd "$build_dir"
  log "fetching pgvector source"
  apt-get source -qq --download-only pgvector
  # Not needed any more; keeps later `apt-get update` runs fast.
  remove_trixie_src
  dsc=$(echo pgvector_*.dsc)
  version=$(awk '/^Version:/ { print $2 }' "$dsc")
  [[ ${version%%-*} == "$PGVECTOR_VERSION" ]] ||
    die "Debian trixie ships pgvector $version, expected $PGVECTOR_VERSION"
  # apt already verified the files against the signed Release file; without
  # debian-keyring dpkg-source warns that it cannot check the .dsc signature,
  # so its output is shown only if unpacking fails.
  unpack_log=$(dpkg-source -x "$dsc" src 2>&1) || { echo "$unpack_log" >&2; die "dpkg-source failed"; }
  cd src
  log "building pgvector $version for PostgreSQL $PG_MAJOR"
  make -s PG_CONFIG="$PG_CONFIG"
  as_root make -s install PG_CONFIG="$PG_CONFIG"
  cd "$REPO_ROOT"
  rm -rf "$build_dir"
  build_dir=''
  pgvector_installed || die "pgvector $PGVECTOR_VERSION still not installed"
fi
log "pgvector $PGVECTOR_VERSION present for PostgreSQL $PG_MAJOR"

# ---------------------------------------------------------------------------
# 3. Throwaway cluster
# ---------------------------------------------------------------------------

if is_root && ! id postgres >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin postgres
fi

PG_TMP=$(mktemp -d)
PG_DATA=$PG_TMP/data
if is_root; then chown postgres: "$PG_TMP"; fi

# Server tools run from inside the temp dir: `postgres` may not be allowed to
# read the caller's working directory.
(cd "$PG_TMP" && as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
  -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1) ||
  { cat "$PG_TMP/initdb.log" >&2; die "initdb failed"; }

# Probe for a free port with bash's /dev/tcp (no extra tools needed); a port
# can still be taken between probe and bind, so retry the start a few times.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=false
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  port_free "$port" || continue
  if (cd "$PG_TMP" && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_TMP/postgres.log" -w \
      -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB" \
      start >/dev/null); then
    started=true
    break
  fi
done
$started || { cat "$PG_TMP/postgres.log" >&2 || true; die "could not start PostgreSQL"; }
log "PostgreSQL $PG_MAJOR listening on 127.0.0.1:$port"

# ---------------------------------------------------------------------------
# 4. The extension must load in this server
# ---------------------------------------------------------------------------

ext_version=$("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres \
  -v ON_ERROR_STOP=1 -qAtX \
  -c "CREATE EXTENSION IF NOT EXISTS vector" \
  -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'") ||
  die "CREATE EXTENSION vector failed"
log "vector extension $ext_version loads"

# ---------------------------------------------------------------------------
# 5-6. Tests
# ---------------------------------------------------------------------------

export MRL_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"

RESULTS_DIR=$PG_TMP/results
filter_args=()
if [[ -n ${MRL_TEST_FILTER:-} ]]; then filter_args=(--filter "$MRL_TEST_FILTER"); fi

# LogFilePrefix rather than LogFileName: with a fixed name every test project
# writes the same .trx and only the last one survives.
log "dotnet test $SOLUTION ${filter_args[*]}"
test_rc=0
dotnet test "$SOLUTION" -c Release "${filter_args[@]}" \
  --results-directory "$RESULTS_DIR" \
  --logger "trx;LogFilePrefix=results" \
  --logger "console;verbosity=normal" || test_rc=$?

# ---------------------------------------------------------------------------
# 7. Packages: pack everything, install the mrl tool from the local folder and
#    run it as a user would after `dotnet tool install`
# ---------------------------------------------------------------------------

PACKAGE_DIR=$PG_TMP/packages
TOOL_DIR=$PG_TMP/tool
version=$(dotnet msbuild src/Mrl.Cli/Mrl.Cli.csproj -getProperty:Version) || version=unknown
log "dotnet pack $SOLUTION -> $PACKAGE_DIR; mrl $version into $TOOL_DIR"
package_rc=0
{
  dotnet pack "$SOLUTION" -c Release -o "$PACKAGE_DIR" --nologo -v quiet &&
    # The same script the README tells users to run.
    MRL_PACKAGE_DIR=$PACKAGE_DIR scripts/install-mrl.sh --tool-path "$TOOL_DIR" &&
    "$TOOL_DIR/mrl" --version &&
    "$TOOL_DIR/mrl" demo --count 2000 --queries 20
} || package_rc=$?
if ((package_rc == 0)); then
  log "packages: $(cd "$PACKAGE_DIR" && echo *.nupkg)"
fi

# ---------------------------------------------------------------------------
# 8. Summary from the .trx files (one per test project)
# ---------------------------------------------------------------------------

# One numeric attribute of a <Counters> element; absent attributes count as 0.
counter() {
  local v
  v=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2")
  echo "${v:-0}"
}

passed=0 failed=0 skipped=0
shopt -s nullglob
trx_files=("$RESULTS_DIR"/*.trx)
for trx in "${trx_files[@]}"; do
  counters=$(grep -o '<Counters [^>]*' "$trx" || true)
  passed=$((passed + $(counter passed "$counters")))
  # Errors, timeouts and aborts are failures too.
  failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") \
    + $(counter timeout "$counters") + $(counter aborted "$counters")))
  # Skipped tests show up only as total - executed; notExecuted stays 0.
  skipped=$((skipped + $(counter total "$counters") - $(counter executed "$counters")))
done

rc=0
if ((test_rc != 0)); then
  echo "dotnet test exited with code $test_rc" >&2
  rc=1
fi
if ((package_rc != 0)); then
  echo "packing or running the installed mrl tool failed (exit code $package_rc)" >&2
  rc=1
fi
if ((passed + failed + skipped == 0)); then
  echo "no tests ran" >&2
  rc=1
fi
((failed == 0)) || rc=1

echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
