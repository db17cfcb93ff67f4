#!/usr/bin/env bash
# Compiles policies/ to the committed Wasm bundle policies/bundle.tar.gz, after the policies pass
# `opa check --strict`, `opa fmt` and their own tests, and signs it (`.signatures.json`, RS256):
# Governor loads no bundle whose signature does not hold. With --check it builds into a temporary
# directory instead and fails when the committed bundle differs from what the sources compile to
# (the bundle the gateway loads must be the one the reviewed sources describe), and has opa itself
# verify the committed bundle's signature.
#
# Usage: [POLICY_SIGNING_KEY=key.pem] scripts/build-policy.sh [--check]
#   POLICY_SIGNING_KEY  the RSA private key (PEM) to sign with; by default the committed development
#                       key, which anyone with the repository can sign with (policies/signing/README.md).
#
# Bundle mode (-b) everywhere: a bundle directory contributes only *.rego and data.json, which is
# what ships. Plain `opa test policies/` loads every *.json as data (the fixtures cannot merge) and
# bundle.tar.gz as a second copy of the policies (conflicting data); by hand, run
# `opa test -b policies/ -v`.
set -euo pipefail

cd "$(dirname "$0")/.."

OPA_PINNED=1.22.2 # the version .ci/run installs; another version compiles different Wasm
ENTRYPOINT=governor/decision/decision
BUNDLE=policies/bundle.tar.gz
SIGNING_KEY=${POLICY_SIGNING_KEY:-policies/signing/development-INSECURE-private-key.pem}
# The Wasm SDK lists the built-ins it can run (natively in the module or in JavaScript); a policy
# using any other compiles fine and fails only when evaluated, so the check below refuses it first.
SDK_CAPABILITIES=node_modules/@open-policy-agent/opa-wasm/capabilities.json

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

fail() { echo "build-policy: $*" >&2; exit 1; }

find_opa() {
  if command -v opa >/dev/null 2>&1; then command -v opa; return; fi
  if command -v go >/dev/null 2>&1 && [ -x "$(go env GOPATH)/bin/opa" ]; then echo "$(go env GOPATH)/bin/opa"; return; fi
  return 1
}
OPA=$(find_opa) || fail "opa not found on PATH or in \$(go env GOPATH)/bin; install it with: go install github.com/open-policy-agent/opa@v${OPA_PINNED}"
opa_version=$("$OPA" version | sed -n 's/^Version: //p')
echo "opa ${opa_version} (${OPA})"
if [ "$opa_version" != "$OPA_PINNED" ]; then
  echo "build-policy: warning: opa ${opa_version} is not the pinned ${OPA_PINNED}; the bundle it builds will not match CI's" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== opa check --strict"
"$OPA" check --strict -b policies/

[ -f "$SDK_CAPABILITIES" ] || fail "$SDK_CAPABILITIES not found: run npm ci first"
"$OPA" capabilities --current >"$work/opa-capabilities.json"
node -e '
  const fs = require("node:fs");
  const [opaCaps, sdkCaps, out] = process.argv.slice(1);
  const current = JSON.parse(fs.readFileSync(opaCaps, "utf8"));
  const sdk = new Set(JSON.parse(fs.readFileSync(sdkCaps, "utf8")).builtins.map((b) => b.name));
  current.builtins = current.builtins.filter((b) => sdk.has(b.name));
  fs.writeFileSync(out, JSON.stringify(current));
' "$work/opa-capabilities.json" "$SDK_CAPABILITIES" "$work/wasm-capabilities.json"
"$OPA" check --strict -b --capabilities "$work/wasm-capabilities.json" --ignore '*_test.rego' policies/ \
  || fail "the policies use a built-in the Wasm SDK cannot run (see above)"

echo "== opa fmt --list"
unformatted=$("$OPA" fmt --list policies/)
[ -z "$unformatted" ] || fail "not formatted (run: opa fmt -w policies/):
${unformatted}"

echo "== opa test"
"$OPA" test -b policies/

[ -f "$SIGNING_KEY" ] || fail "no signing key at ${SIGNING_KEY} (POLICY_SIGNING_KEY)"
if [ -z "${POLICY_SIGNING_KEY:-}" ]; then
  echo "signing with the development key (${SIGNING_KEY}): anyone with the repository can sign with it"
fi

# The manifest's revision names the opa release that compiled the bundle (the OPA MCP server's
# list_policies reports it): Wasm from another release is other code, even from the same sources.
# RS256 (PKCS#1 v1.5) is deterministic: the same sources and key give the same .signatures.json,
# so the byte comparison below still holds for a signed bundle.
build_into() {
  "$OPA" build -b -t wasm -e "$ENTRYPOINT" --revision "opa-${opa_version}" --ignore '*_test.rego' --signing-key "$SIGNING_KEY" --signing-alg RS256 -o "$1" policies/
}

# The identity of a bundle, as WasmPolicyEngine computes it (src/policy/wasm-policy-engine.ts):
# sha256 over one line per file naming the sha256 of policy.wasm and of data.json.
policy_version() {
  printf 'policy.wasm %s\ndata.json %s\n' \
    "$(sha256sum <"$1/policy.wasm" | cut -d' ' -f1)" "$(sha256sum <"$1/data.json" | cut -d' ' -f1)" \
    | sha256sum | cut -d' ' -f1
}

extract() {
  mkdir -p "$2"
  tar -xzf "$1" -C "$2" 2>/dev/null || fail "$1 is not a readable tar.gz"
  [ -f "$2/policy.wasm" ] && [ -f "$2/data.json" ] || fail "$1 lacks policy.wasm or data.json"
}

if [ "$mode" = build ]; then
  echo "== opa build -t wasm -e ${ENTRYPOINT}"
  build_into "$work/bundle.tar.gz"
  extract "$work/bundle.tar.gz" "$work/new"
  mv "$work/bundle.tar.gz" "$BUNDLE"
  echo "wrote ${BUNDLE} (policy version $(policy_version "$work/new"))"
  exit 0
fi

echo "== determinism: two builds of the same sources"
build_into "$work/a.tar.gz"
build_into "$work/b.tar.gz"
extract "$work/a.tar.gz" "$work/a"
extract "$work/b.tar.gz" "$work/b"
# Measured with opa 1.22.2: the module, the data and even the tar.gz (zeroed mtimes, fixed gzip
# header) are byte-identical across builds, so the comparison below can be exact. Should a future
# opa stop being deterministic, this says so instead of calling every bundle stale.
diff -r "$work/a" "$work/b" >/dev/null \
  || fail "opa ${opa_version} does not build the same bundle twice from the same sources; the staleness check cannot be exact"

echo "== committed bundle matches the sources"
[ -f "$BUNDLE" ] || fail "${BUNDLE} is missing: run npm run policy:build"
extract "$BUNDLE" "$work/committed"
# Every file the bundle carries (policy.wasm, data.json, the manifest and the Rego sources), so a
# bundle cannot keep stale sources next to a current module either.
if ! differences=$(diff -rq "$work/committed" "$work/a"); then
  echo "$differences" | sed "s|$work/committed|committed|g; s|$work/a|built|g" >&2
  fail "policies/bundle.tar.gz is stale: run npm run policy:build"
fi
echo "up to date (policy version $(policy_version "$work/a"))"

echo "== opa verifies the committed bundle's signature"
node -e '
  const crypto = require("node:crypto"), fs = require("node:fs");
  const key = crypto.createPublicKey(fs.readFileSync(process.argv[1], "utf8"));
  fs.writeFileSync(process.argv[2], key.export({ type: "spki", format: "pem" }));
' "$SIGNING_KEY" "$work/verification-key.pem"
"$OPA" build -b "$BUNDLE" --verification-key "$work/verification-key.pem" --signing-alg RS256 -o "$work/verified.tar.gz" \
  || fail "${BUNDLE} does not verify with the public half of ${SIGNING_KEY}"

echo "== coverage"
"$OPA" test -b --coverage --format json policies/ >"$work/coverage.json"
# opa's figure counts the *_test.rego files too (and, in bundle mode, lists every file twice, once
# without lines); the figure over the shipped policy files alone is the one that says something.
node -e '
  const report = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  if (typeof report.coverage !== "number") { console.error("no coverage figure in the opa report"); process.exit(1); }
  let covered = 0, notCovered = 0;
  for (const [file, f] of Object.entries(report.files ?? {})) {
    if (file.endsWith("_test.rego")) continue;
    covered += f.covered_lines ?? 0;
    notCovered += f.not_covered_lines ?? 0;
  }
  const policyOnly = covered + notCovered === 0 ? 0 : (100 * covered) / (covered + notCovered);
  console.log(`policy test coverage: ${report.coverage.toFixed(1)}% (opa); policy files alone: ${policyOnly.toFixed(1)}% of ${covered + notCovered} lines`);
' "$work/coverage.json"
