#!/usr/bin/env bash
# The consumer check (issue 13): what a user of the published package gets. Packs the package,
# lints the tarball (publint, @arethetypeswrong/cli), installs it into fresh projects outside the
# checkout, compiles a strict TypeScript consumer (strict, no skipLibCheck; the bank-account example
# and test/consumer/identity.ts) with CommonJS, node16 and bundler resolution, and runs it through
# require and through import: in memory in a project that installed no database driver (and so no
# native module, nor @opentelemetry/api), and on SQLite in a project that installed better-sqlite3 and
# OpenTelemetry's API and trace SDK (whose spans it then checks). Any failure fails.
#
#   bash test/consumer/check.sh        (.ci/run calls it after npm test)
#
# better-sqlite3 compiles from source on install here (no prebuilt binary can be downloaded): the
# SQLite project installs it from the registry as any user would, but its install script
# (prebuild-install) is pointed at a prebuilt binary made from the checkout's own build, of the same
# version, platform and Node ABI, through prebuild-install's local-prebuilds setting. So the check
# takes seconds, not minutes, and runs the very driver the test suite ran.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/eventsourcing-nact-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
NPM_INSTALL=(npm install --no-audit --no-fund --loglevel=error)

step() { echo "consumer check [$((SECONDS - started)) s]: $*"; }
fail() { echo "consumer check FAILED: $*" >&2; exit 1; }
version_of() { node -p "require('$root/node_modules/$1/package.json').version"; }

case "$work" in "$root"/*) fail "the consumer projects must be outside the checkout ($work)";; esac

step "packing (prepack builds dist/)"
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/eventsourcing-nact-*.tgz)"
shipped="$(tar -tzf "$tarball")"
echo "$shipped" | grep -q '^package/dist/index.js$' || fail "the tarball has no dist/index.js"
echo "$shipped" | grep -q '^package/dist/index.mjs$' || fail "the tarball has no dist/index.mjs"
echo "$shipped" | grep -q '^package/LICENSE$' || fail "the tarball has no LICENSE"
if echo "$shipped" | grep -E '^package/(src|test|bench|examples|scripts|\.ci)/'; then fail "the tarball ships files that are not for users (above)"; fi
step "$(echo "$shipped" | wc -l) files in $(basename "$tarball")"

step "publint"
(cd "$root" && npx --no-install publint run "$tarball" --strict)
step "@arethetypeswrong/cli"
(cd "$root" && npx --no-install attw "$tarball")

# A fresh project of ES modules (so that node16 resolution takes the package's import entries; the
# CommonJS build is marked as such), with the consumer's sources.
make_project() {
  local dir="$1"
  mkdir -p "$dir/src"
  cp "$root"/examples/bank-account/*.ts "$root/test/consumer/identity.ts" "$dir/src/"
  cp "$root"/test/consumer/tsconfig.*.json "$dir/"
  cat >"$dir/package.json" <<'JSON'
{ "name": "consumer", "private": true, "type": "module", "allowScripts": { "better-sqlite3": true } }
JSON
}

# What identity.js prints, checked field by field against a JSON object of expectations.
check_identity() {
  local output="$1" expected="$2"
  node -e '
    const [got, want] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])];
    for (const [key, value] of Object.entries(want)) {
      if (JSON.stringify(got[key]) !== JSON.stringify(value)) {
        console.error(`${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(got[key])}`);
        process.exit(1);
      }
    }' "$output" "$expected" || fail "identity: $output"
}

# Runs the bank (main.js) and checks what it prints; echoes its output.
run_bank() {
  local output
  output="$(node "$@")" || fail "node $* failed"
  node -e '
    const run = JSON.parse(process.argv[1]);
    const ok = run.balances.alice === 70 && run.balances.bob === 30 && /holds 30, less than 50/.test(run.refused) &&
      run.after.accounts === run.before.accounts + 2 && run.after.deposited === run.before.deposited + 130 &&
      run.after.withdrawn === run.before.withdrawn + 30;
    if (!ok) { console.error(`unexpected: ${process.argv[1]}`); process.exit(1); }' "$output" || fail "the bank's run"
  echo "$output"
}

compile() {
  local dir="$1"
  shift
  for config in "$@"; do (cd "$dir" && npx --no-install tsc -p "tsconfig.$config.json") || fail "the strict consumer does not compile with tsconfig.$config.json"; done
  # The CommonJS build of a project of ES modules says what it is.
  if [ -d "$dir/out/cjs" ]; then echo '{ "type": "commonjs" }' >"$dir/out/cjs/package.json"; fi
}

typescript="typescript@$(version_of typescript)"
types_node="@types/node@$(version_of @types/node)"
uuid="uuid@$(version_of uuid)"

# --- In memory, with no database driver installed ---------------------------------------------
memory="$work/memory"
make_project "$memory"
step "memory project: npm install the tarball, $typescript, $types_node, $uuid (no driver)"
(cd "$memory" && "${NPM_INSTALL[@]}" "$tarball" "$typescript" "$types_node" "$uuid")
for peer in pg better-sqlite3 @opentelemetry/api; do [ ! -e "$memory/node_modules/$peer" ] || fail "npm installed $peer, an optional peer dependency"; done
natives="$(find "$memory/node_modules" \( -name '*.node' -o -name 'binding.gyp' \) -print)"
[ -z "$natives" ] || fail "a native module was installed: $natives"

step "memory project: tsc strict with module commonjs, node16 and bundler resolution (no skipLibCheck)"
compile "$memory" commonjs node16 bundler
step "memory project: run through require and through import"
(cd "$memory" && run_bank out/cjs/main.js && run_bank out/esm/main.js) >/dev/null
missing_sqlite="SQLite persistence (PERSISTENCE=sqlite, SqliteInfrastructureFactory) needs the package 'better-sqlite3', which is not installed: npm install better-sqlite3"
missing_pg="PostgreSQL persistence (PERSISTENCE=postgres, PostgresInfrastructureFactory) needs the package 'pg', which is not installed: npm install pg"
for identity in out/cjs/identity.js out/esm/identity.js; do
  check_identity "$(cd "$memory" && node "$identity")" \
    "{\"requireIsImport\":true,\"subpathsAreRoot\":true,\"testing\":true,\"sqlite\":\"$missing_sqlite\",\"postgres\":\"$missing_pg\"}"
done
step "memory project: the test helpers under node --test, through require and through import"
(cd "$memory" && node --test out/cjs/accounts.test.js out/esm/accounts.test.js >"$work/node-test.log" 2>&1) || { cat "$work/node-test.log"; fail "node --test"; }

# --- On SQLite -------------------------------------------------------------------------------------
sqlite="$work/sqlite"
make_project "$sqlite"
cp "$root/test/consumer/traced.ts" "$sqlite/src/"
otel_api="@opentelemetry/api@$(version_of @opentelemetry/api)"
otel_sdk="@opentelemetry/sdk-trace-base@$(version_of @opentelemetry/sdk-trace-base)"
driver_dir="$root/node_modules/better-sqlite3"
better_sqlite3="better-sqlite3@$(version_of better-sqlite3)"
if [ -f "$driver_dir/build/Release/better_sqlite3.node" ]; then
  prebuild_name="$(cd "$driver_dir" && node -e '
    const pkg = require("./package.json");
    const rc = require(require.resolve("prebuild-install/rc", { paths: [process.cwd()] }))(pkg);
    const util = require(require.resolve("prebuild-install/util", { paths: [process.cwd()] }));
    console.log(require("node:path").basename(util.getDownloadUrl({ ...rc, pkg })));')"
  mkdir -p "$work/prebuilds"
  tar -czf "$work/prebuilds/$prebuild_name" -C "$driver_dir" build/Release/better_sqlite3.node
  export npm_config_better_sqlite3_local_prebuilds="$work/prebuilds"
  step "sqlite project: npm install the tarball, $otel_api, $otel_sdk and $better_sqlite3 (its prebuilt binary: $prebuild_name, from the checkout's build)"
else
  step "sqlite project: npm install the tarball, $otel_api, $otel_sdk and $better_sqlite3 (no build in the checkout to reuse: it compiles)"
fi
(cd "$sqlite" && "${NPM_INSTALL[@]}" "$tarball" "$better_sqlite3" "$typescript" "$types_node" "$uuid" "$otel_api" "$otel_sdk")
unset npm_config_better_sqlite3_local_prebuilds
[ ! -e "$sqlite/node_modules/@types/better-sqlite3" ] || fail "@types/better-sqlite3 was installed: the check would not show that the declarations need none"
step "sqlite project: tsc strict (commonjs, node16), then the bank on one SQLite file through require, then through import"
compile "$sqlite" commonjs node16
export PERSISTENCE=sqlite SQLITE_DBNAME="$sqlite/bank.sqlite"
first="$(cd "$sqlite" && run_bank out/cjs/main.js)"
second="$(cd "$sqlite" && run_bank out/esm/main.js)"
unset PERSISTENCE SQLITE_DBNAME
node -e '
  const [first, second] = process.argv.slice(1).map((run) => JSON.parse(run));
  if (first.persistence !== "sqlite" || JSON.stringify(second.before) !== JSON.stringify(first.after)) {
    console.error(`the second run (import) did not carry on from the first (require): ${process.argv[1]} then ${process.argv[2]}`);
    process.exit(1);
  }' "$first" "$second" || fail "resuming on SQLite"
echo "  through require: $first"
echo "  through import:  $second"
for identity in out/cjs/identity.js out/esm/identity.js; do
  check_identity "$(cd "$sqlite" && node "$identity")" "{\"requireIsImport\":true,\"sqlite\":\"opened\",\"postgres\":\"$missing_pg\"}"
done

step "sqlite project: with $otel_api and $otel_sdk, the package traces into the consumer's SDK (require, then import)"
for traced in out/cjs/traced.js out/esm/traced.js; do
  output="$(cd "$sqlite" && node "$traced")" || fail "node $traced failed"
  [ "$output" = '{"names":["policy Readers","process Readers","save Notes"],"linked":true}' ] || fail "$traced: unexpected spans: $output"
done

step "passed in $((SECONDS - started)) s"
