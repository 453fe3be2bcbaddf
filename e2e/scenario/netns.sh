#!/usr/bin/env bash
# A network namespace for the command-and-control listener, so that it lives at an address that
# looks like another service of the cluster network rather than loopback.
#   netns.sh up NAME HOST_CIDR NS_CIDR    e.g. up soc-c2 10.203.0.1/30 10.203.0.2/30
#   netns.sh down NAME
# Idempotent; needs root (CAP_NET_ADMIN). Traffic stays between this host and the namespace.
set -euo pipefail
action=${1:?up|down}; name=${2:?namespace name}
host_if="${name:0:10}-h"; ns_if="${name:0:10}-n"
case "$action" in
  up)
    host_cidr=${3:?host side CIDR}; ns_cidr=${4:?namespace side CIDR}
    ip netns list | grep -qw "$name" || ip netns add "$name"
    if ! ip link show "$host_if" >/dev/null 2>&1; then
      ip link add "$host_if" type veth peer name "$ns_if"
      ip link set "$ns_if" netns "$name"
      ip addr add "$host_cidr" dev "$host_if"
      ip netns exec "$name" ip addr add "$ns_cidr" dev "$ns_if"
    fi
    ip link set "$host_if" up
    ip netns exec "$name" ip link set "$ns_if" up
    ip netns exec "$name" ip link set lo up
    ;;
  down)
    ip link del "$host_if" 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
    ;;
  *) echo "usage: $0 up|down NAME [HOST_CIDR NS_CIDR]" >&2; exit 2 ;;
esac
