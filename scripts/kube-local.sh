#!/usr/bin/env bash
# Starts, or stops, a real Kubernetes control plane on loopback from the cached toolchain
# (scripts/kube-toolchain.sh): etcd, kube-apiserver (RBAC, a token in system:masters, the
# admission plugins incl. PodSecurity and ResourceQuota), kube-controller-manager (service
# accounts, ReplicaSets, quotas), kube-scheduler, and kwok with three simulated nodes in three
# zones, so Pods are scheduled and report Ready without containers.
#
#   scripts/kube-local.sh up DIR     start a new, empty cluster; writes DIR/kubeconfig, DIR/pids, logs in DIR/*.log
#   scripts/kube-local.sh down DIR   stop everything DIR/pids lists
#
# Nothing listens beyond 127.0.0.1 (etcd serves plain HTTP there: a test server, for one user's
# tests). Ports are chosen free at start. Keys, the token and the kubeconfig are private to the
# user (umask 077).
set -euo pipefail
umask 077
cmd=${1:?usage: kube-local.sh up|down DIR} dir=${2:?usage: kube-local.sh up|down DIR}

# ours says whether pid is still one of the processes this script started in dir (not a reused
# pid): its command line names dir.
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF "$dir"; }

# DIR is ours only if it holds the marker an earlier `up` wrote (or is new, or empty): nothing
# else is ever deleted or signalled.
marker=.scalemate-kube-local
if [ "$cmd" = down ]; then
	[ -f "$dir/pids" ] && [ -f "$dir/$marker" ] || exit 0
	dir=$(cd "$dir" && pwd)
	while read -r pid; do ours "$pid" && kill "$pid" 2>/dev/null || true; done < "$dir/pids"
	sleep 1
	while read -r pid; do ours "$pid" && kill -9 "$pid" 2>/dev/null || true; done < "$dir/pids"
	rm -f "$dir/pids"
	exit 0
fi
[ "$cmd" = up ] || { echo "kube-local.sh: unknown command $cmd" >&2; exit 2; }

bin=$("$(dirname "$0")/kube-toolchain.sh")
export PATH="$bin:$PATH" # its kubectl, matching the server
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/$marker" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "kube-local.sh: $dir is not empty and was not made by kube-local.sh; choose a new directory" >&2
	exit 1
fi
touch "$dir/$marker"
if [ -s "$dir/pids" ]; then
	while read -r pid; do
		ours "$pid" && { echo "kube-local.sh: $dir is already up (pid $pid); run down first" >&2; exit 1; }
	done < "$dir/pids"
fi
: > "$dir/pids"
# A new cluster each time (the certificates and keys below are new too): no data from the last.
rm -rf "$dir/etcd" "$dir/volumes"
# Whatever fails, or is interrupted, before the end stops what was started.
started=false
trap '$started || "$0" down "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # name cmd...
	local name=$1; shift
	"$@" > "$dir/$name.log" 2>&1 &
	echo $! >> "$dir/pids"
}

# Certificates: a CA, the apiserver's serving certificate for 127.0.0.1, the service-account keys.
pki=$dir/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=scalemate-local-ca" \
	-keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > "$pki/san.ext"
openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
	-extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
token=$(openssl rand -hex 16)
echo "$token,scalemate-admin,scalemate-admin,system:masters" > "$pki/tokens.csv"

etcd_port=$(free_port) peer_port=$(free_port) api_port=$(free_port)
start etcd "$bin/etcd" --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
	--advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
	--initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port"

start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
	--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
	--endpoint-reconciler-type none --allow-privileged=true \
	--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
	--token-auth-file "$pki/tokens.csv" --authorization-mode Node,RBAC \
	--service-account-issuer https://kubernetes.default.svc --service-account-key-file "$pki/sa.pub" \
	--service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
	--enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota,DefaultStorageClass,DefaultTolerationSeconds,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,Priority \
	--disable-admission-plugins TaintNodesByCondition

cat > "$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $pki/ca.crt
users:
- name: scalemate-admin
  user:
    token: $token
contexts:
- name: scalemate-local
  context: {cluster: local, user: scalemate-admin}
current-context: scalemate-local
EOF
export KUBECONFIG=$dir/kubeconfig
for _ in $(seq 120); do
	kubectl get --raw /readyz >/dev/null 2>&1 && break
	sleep 1
done
kubectl get --raw /readyz >/dev/null || { echo "kube-local: the apiserver did not become ready; see $dir/kube-apiserver.log" >&2; exit 1; }

start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$dir/kubeconfig" \
	--bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
	--controllers '*,-node-ipam-controller,-node-lifecycle-controller' \
	--root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" --use-service-account-credentials
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$dir/kubeconfig" --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false

# Simulated nodes: three zones, as the cloud stacks spread over three AZs. No node lifecycle
# controller runs (kwok's nodes send no kubelet heartbeats), so nodes are admitted without the
# not-ready taint that only it would remove (TaintNodesByCondition is off).
for i in 1 2 3; do
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake}
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    topology.kubernetes.io/zone: local-$i
spec: {}
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "110"}
  capacity: {cpu: "32", memory: 128Gi, pods: "110"}
EOF
done
start kwok "$bin/kwok" --kubeconfig "$dir/kubeconfig" --config "$bin/../kwok-stages.yaml" --manage-all-nodes=false \
	--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --node-ip 127.0.0.1 \
	--server-address "127.0.0.1:$(free_port)" --node-port 0

# Storage as a laptop cluster has it: a default StorageClass and volumes for it to bind (kind's
# local-path provisioner plays this part there; no kubelet mounts them here).
{
	cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
reclaimPolicy: Retain
EOF
	for i in $(seq 1 12); do
		cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-pv-$i}
spec:
  storageClassName: standard
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $dir/volumes/$i}
EOF
	done
} | kubectl apply -f - >/dev/null

# The default ServiceAccount exists once the controller manager runs: Pods need it.
for _ in $(seq 60); do
	kubectl get serviceaccount default -n default >/dev/null 2>&1 && break
	sleep 1
done
kubectl get serviceaccount default -n default >/dev/null ||
	{ echo "kube-local: the controller manager made no default ServiceAccount; see $dir/kube-controller-manager.log" >&2; exit 1; }
started=true
echo "kube-local: up; KUBECONFIG=$dir/kubeconfig" >&2
