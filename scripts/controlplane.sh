#!/usr/bin/env bash
# A real Kubernetes control plane for the control-plane tests (test/controlplane): etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler built from the Go modules pinned in
# test/controlplane/go/, and kwok for the nodes (it fakes the kubelets and marks pods Running).
#
#   scripts/controlplane.sh build        build the binaries once into the cache; print their folder
#   scripts/controlplane.sh cached       exit 0 when every binary is already in the cache
#   scripts/controlplane.sh start DIR [OWNER_PID]
#                                        start everything on free loopback ports with state in DIR;
#                                        writes DIR/kubeconfig (cluster admin) and DIR/pids; with
#                                        OWNER_PID, stops it all by itself once that process is gone
#                                        (a test run that was killed leaves nothing running)
#   scripts/controlplane.sh stop DIR     stop what `start DIR` started (by the pids it recorded)
#
# The binaries live outside the clone, in ${GOVERNOR_CACHE:-$HOME/.cache/governor}/controlplane/<key>/,
# where <key> hashes the modules' go.mod and go.sum, the Go version and this script's build flags: a
# new pin builds anew, anything else reuses the cache. It never listens on anything but 127.0.0.1,
# never touches a kubeconfig of the user's, and stops only the processes it started.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODULES="$ROOT/test/controlplane/go"
export PATH="$(go env GOPATH 2>/dev/null || echo /root/go)/bin:/usr/local/go/bin:$PATH"
# Part of the cache key: change it whenever the flags below change.
BUILD_FLAGS_VERSION=1
KUBE_VERSION=v1.37.2

log() { echo "controlplane: $*" >&2; }
die() { log "error: $*"; exit 1; }

cache_dir() {
  local key
  key=$( {
    echo "flags=$BUILD_FLAGS_VERSION"
    go env GOVERSION GOOS GOARCH
    cat "$MODULES"/kube/go.mod "$MODULES"/kube/go.sum "$MODULES"/etcd/go.mod "$MODULES"/etcd/go.sum "$MODULES"/kwok/go.mod "$MODULES"/kwok/go.sum
  } | sha256sum | cut -c1-16)
  echo "${GOVERNOR_CACHE:-$HOME/.cache/governor}/controlplane/$key"
}

BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

cached() {
  local dir bin
  dir="$(cache_dir)"
  for bin in "${BINARIES[@]}"; do [ -x "$dir/bin/$bin" ] || return 1; done
  [ -s "$dir/bin/kwok-stages.yaml" ]
}

build() {
  local dir bin missing=()
  dir="$(cache_dir)"
  for bin in "${BINARIES[@]}"; do [ -x "$dir/bin/$bin" ] || missing+=("$bin"); done
  [ -s "$dir/bin/kwok-stages.yaml" ] || [[ " ${missing[*]} " == *" kwok "* ]] || missing+=(kwok)
  if [ ${#missing[@]} -eq 0 ]; then
    log "binaries cached in $dir/bin"
    echo "$dir/bin"
    return
  fi
  command -v go >/dev/null || die "no Go toolchain on PATH: the control plane is built from Go modules"
  log "building ${missing[*]} into $dir/bin (first run: this takes a while)"
  mkdir -p "$dir/bin"
  local tmp
  tmp="$(mktemp -d "$dir/build.XXXXXX")"
  # -mod=readonly: the committed go.sum is the pin; a build never rewrites it.
  local goflags=(-mod=readonly -trimpath)
  local kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  for bin in "${missing[@]}"; do
    case "$bin" in
      etcd) (cd "$MODULES/etcd" && go build "${goflags[@]}" -ldflags '-s -w' -o "$tmp/etcd" go.etcd.io/etcd/server/v3) ;;
      kwok)
        (cd "$MODULES/kwok" && go build "${goflags[@]}" -ldflags '-s -w' -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)
        # kwok itself has no stages built in (kwokctl passes them): its default "fast" stages, from
        # the same module version, go beside the binary.
        local src
        src="$(cd "$MODULES/kwok" && go list -mod=readonly -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
        local stage first=1
        for stage in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
          [ "$first" = 1 ] || echo '---'
          first=0
          cat "$src/$stage.yaml"
        done > "$dir/bin/kwok-stages.yaml"
        ;;
      kube-*) (cd "$MODULES/kube" && go build "${goflags[@]}" -ldflags "$kube_ldflags" -o "$tmp/$bin" "k8s.io/kubernetes/cmd/$bin") ;;
    esac
    # A rename, so that a build cut short never leaves a half-written binary that looks cached.
    mv "$tmp/$bin" "$dir/bin/$bin"
  done
  rmdir "$tmp"
  echo "$dir/bin"
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Waits until a URL answers 200 (curl with the admin client certificate), or fails naming the log to read.
wait_ready() {
  local what="$1" url="$2" logfile="$3" pid="$4"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "$what exited; its log: $logfile"; }
    if curl -sf --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" "$url" >/dev/null 2>&1 \
      || curl -sf "$url" >/dev/null 2>&1; then
      return
    fi
    sleep 0.5
  done
  tail -n 30 "$logfile" >&2
  die "$what not ready after 60 s; its log: $logfile"
}

certs() {
  local pki="$STATE/pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=governor-controlplane-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 2 -extfile apiserver.ext 2>/dev/null
    # The cluster admin: a client certificate in system:masters, as kubeadm's admin.conf.
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=governor-admin" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 2 -extfile admin.ext 2>/dev/null
    # The key that signs ServiceAccount tokens (TokenRequest) and its public half that verifies them.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext ca.srl
  )
}

kubeconfig() {
  local server="$1" out="$2" b64='base64 -w0'
  cat > "$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: controlplane
  cluster:
    server: $server
    certificate-authority-data: $($b64 < "$STATE/pki/ca.crt")
users:
- name: governor-admin
  user:
    client-certificate-data: $($b64 < "$STATE/pki/admin.crt")
    client-key-data: $($b64 < "$STATE/pki/admin.key")
contexts:
- name: controlplane
  context:
    cluster: controlplane
    user: governor-admin
current-context: controlplane
EOF
  chmod 600 "$out"
}

start() {
  STATE="$(mkdir -p "$1" && cd "$1" && pwd)"
  [ ! -s "$STATE/pids" ] || die "$STATE/pids exists: a control plane may still run there (stop it first)"
  local bin
  bin="$(build)"
  mkdir -p "$STATE/logs"
  : > "$STATE/pids"
  certs

  local etcd_port etcd_peer api_port kwok_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port); kwok_port=$(free_port)
  local server="https://127.0.0.1:$api_port"

  "$bin/etcd" --name governor --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "governor=http://127.0.0.1:$etcd_peer" \
    --unsafe-no-fsync --quota-backend-bytes=1073741824 --log-level=warn \
    > "$STATE/logs/etcd.log" 2>&1 &
  echo "etcd $!" >> "$STATE/pids"
  wait_ready etcd "http://127.0.0.1:$etcd_port/health" "$STATE/logs/etcd.log" $!

  "$bin/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --cert-dir="$STATE/pki" --tls-cert-file="$STATE/pki/apiserver.crt" --tls-private-key-file="$STATE/pki/apiserver.key" \
    --client-ca-file="$STATE/pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$STATE/pki/sa.pub" --service-account-signing-key-file="$STATE/pki/sa.key" \
    --authorization-mode=RBAC --anonymous-auth=false \
    --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
    --profiling=false --v=0 \
    > "$STATE/logs/kube-apiserver.log" 2>&1 &
  echo "kube-apiserver $!" >> "$STATE/pids"
  wait_ready kube-apiserver "$server/readyz" "$STATE/logs/kube-apiserver.log" $!

  kubeconfig "$server" "$STATE/kubeconfig"

  "$bin/kube-controller-manager" --kubeconfig="$STATE/kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 \
    --root-ca-file="$STATE/pki/ca.crt" --service-account-private-key-file="$STATE/pki/sa.key" \
    --horizontal-pod-autoscaler-sync-period=2s --concurrent-deployment-syncs=5 --profiling=false --v=0 \
    > "$STATE/logs/kube-controller-manager.log" 2>&1 &
  echo "kube-controller-manager $!" >> "$STATE/pids"

  "$bin/kube-scheduler" --kubeconfig="$STATE/kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 --profiling=false --v=0 \
    > "$STATE/logs/kube-scheduler.log" 2>&1 &
  echo "kube-scheduler $!" >> "$STATE/pids"

  # kwok plays the kubelet for the nodes annotated kwok.x-k8s.io/node=fake (the suite creates them).
  "$bin/kwok" --kubeconfig="$STATE/kubeconfig" --config="$bin/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=10.244.0.0/16 --node-ip=10.244.0.1 --server-address="127.0.0.1:$kwok_port" \
    > "$STATE/logs/kwok.log" 2>&1 &
  echo "kwok $!" >> "$STATE/pids"

  # Each must still run a moment later: a bad flag ends it at once.
  sleep 1
  local name pid
  while read -r name pid; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$STATE/logs/$name.log" >&2; stop "$STATE"; die "$name exited; its log: $STATE/logs/$name.log"; }
  done < "$STATE/pids"
  if [ -n "${2:-}" ]; then
    # The watchdog: its own session (setsid), so that it outlives whatever runs this script.
    setsid bash "$0" watch "$STATE" "$2" > /dev/null 2>&1 < /dev/null &
  fi
  log "up: $server (kubeconfig $STATE/kubeconfig, logs $STATE/logs)"
}

watch() {
  local state="$1" owner="$2"
  while kill -0 "$owner" 2>/dev/null && [ -f "$state/pids" ]; do sleep 2; done
  stop "$state"
}

stop() {
  local state="$1" name pid
  [ -f "$state/pids" ] || return 0
  # Reverse order of start; SIGTERM, then SIGKILL what has not gone after 5 s (the state is thrown away).
  tac "$state/pids" | while read -r name pid; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 10); do
    local alive=0
    while read -r name pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$state/pids"
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  while read -r name pid; do kill -9 "$pid" 2>/dev/null || true; done < "$state/pids"
  rm -f "$state/pids"
}

case "${1:-}" in
  build) build ;;
  cached) cached ;;
  start) [ -n "${2:-}" ] || die "usage: $0 start DIR [OWNER_PID]"; start "$2" "${3:-}" ;;
  watch) watch "$2" "$3" ;;
  stop) [ -n "${2:-}" ] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 build | cached | start DIR [OWNER_PID] | stop DIR" ;;
esac
