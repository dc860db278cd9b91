#!/bin/bash
# run-demo.sh — slb balancing two backends, then failing over from one node
# to another, on this machine, in namespaces.
#
#   client 198.18.0.2 --> VIP 198.18.0.100:8080 on lb1 (slb) --> b1 198.18.0.11:9000 (weight 100)
#                          or on lb2 (slb, backup zone)     --> b2 198.18.0.12:9000 (weight 50)
#
# Everything lives in network namespaces it creates (the test harness's
# topology), with the test range 198.18.0.0/24 that exists only inside them;
# the host's own networking is never touched.  It builds nothing: build first
# (autoreconf -fi && ./configure && make), then run it as root.  It uses the
# binaries in the repository root, else those in PATH (SLB_BUILDDIR overrides).
# Everything it made is removed on exit, however it exits.  DEMO_KEEP=1 keeps
# the run directory (config, log) for a look afterwards.
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../tests/bats/helpers/topology.bash
. "$here/../tests/bats/helpers/topology.bash"

say() { printf '\n==> %s\n' "$*"; }
die() { echo "run-demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root to create network namespaces: sudo $0"
for tool in ip bridge socat ss awk; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install iproute2 socat)"
done
master=$(slb_bin slb-master) || die "slb-master not found: build it (autoreconf -fi && ./configure && make) or put it in PATH"

export TOPO_KEEP=${DEMO_KEEP:-0}
cleanup() {
	local rc=$?
	[ "$rc" = 0 ] || [ -z "${TOPO_DIR:-}" ] || _slb_diag lb1 2>&1 || true
	topo_down
	[ "$TOPO_KEEP" = 1 ] && echo "run directory kept: $TOPO_DIR"
	exit "$rc"
}
trap cleanup EXIT
# A signal must leave through the EXIT trap too.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

say "Building the topology: namespaces client, lb1, lb2, b1, b2 on a bridge"
topo_up "$$"
for role in $TOPO_ROLES; do
	printf '    %-7s %-12s in netns %s\n' "$role" "$(topo_ip "$role")" "$(topo_ns "$role")"
done

say "Starting the backends: each answers every connection with its name"
backend_start b1 9000
backend_start b2 9000
printf '    b1 %s:9000, b2 %s:9000\n' "$(topo_ip b1)" "$(topo_ip b2)"

# node_config ROLE ZONE: the basic config plus the election (100 ms adverts).
node_config() {
	slb_config_basic "$1" | sed "s/^\[node\]\$/[node]\nzone = $2/"
	cat <<EOF

[failover]
interface = $(topo_if "$1")
vrid = 51
priority = 150
advert_interval = 100ms
EOF
}

config=$TOPO_DIR/slb.ini
node_config lb1 primary >"$config"
say "Starting slb ($master) in lb1 with $config:"
sed -n '/^\[vip/,$p' "$config" | sed 's/^/    /'
slb_start "$config"
# bash would announce the crash below as a killed job: keep the demo's output clean.
disown -a
echo "    slb-master pid $(slb_pid), VIP $TOPO_VIP is up on lb1"

# Health checks mark servers up after healthy_threshold passing probes.
say "Waiting for the health checks to mark both servers up"
both_up() {
	local t
	t=$(client_count 3 "$TOPO_VIP" 8080)
	[ "$(tally_of b1 "$t")" -gt 0 ] && [ "$(tally_of b2 "$t")" -gt 0 ]
}
wait_until 10 both_up || die "the servers did not both answer through the VIP within 10 s"

say "Ten requests from the client to $TOPO_VIP:8080, one connection each"
for i in $(seq 1 10); do
	answer=$(client_count 1 "$TOPO_VIP" 8080 | awk '{ print $1 }')
	printf '    request %2d -> %s\n' "$i" "$answer"
done

# bar NAME TALLY: one line of a histogram.
bar() {
	local n
	n=$(tally_of "$1" "$2")
	printf '    %-4s %3d %s\n' "$1" "$n" "$(printf '%*s' "$n" '' | tr ' ' '#')"
}

say "Weights: b1 weight=100, b2 weight=50 (wrr) -> 30 requests split about 2:1"
tally=$(client_count 30 "$TOPO_VIP" 8080)
bar b1 "$tally"; bar b2 "$tally"
[ "$(tally_of fail "$tally")" = 0 ] || bar fail "$tally"

say "Raising b2 to weight=100 in the config and reloading (SIGHUP): now about 1:1"
sed -i 's/^\(server\.b2 = .*\) weight=50$/\1 weight=100/' "$config"
grep '^server\.' "$config" | sed 's/^/    /'
slb_reload lb1
# The new generation of workers takes over on the same sockets; give it a moment.
sleep 1
tally=$(client_count 30 "$TOPO_VIP" 8080)
bar b1 "$tally"; bar b2 "$tally"
[ "$(tally_of fail "$tally")" = 0 ] || bar fail "$tally"

# holder: which node has the VIP now.
holder() {
	local r h=''
	for r in lb1 lb2; do
		topo_exec "$r" ip -o -4 addr show | grep " $TOPO_VIP/" >/dev/null && h="$h$r "
	done
	echo "${h:-none}"
}

say "Failover: lb2 (backup zone) joins the election; lb1 (primary zone) stays master"
config2=$TOPO_DIR/slb-lb2.ini
node_config lb2 backup >"$config2"
sed -n '/^\[failover/,$p' "$config2" | sed 's/^/    /'
slb_start -n lb2 --no-vip "$config2"
sleep 1
echo "    VIP on: $(holder)"

say "Crashing lb1 (kill -9 of every slb process) while the client asks every 100 ms"
master_pid=$(slb_pid lb1)
victims="$master_pid $(ps -o pid= --ppid "$master_pid" | tr '\n' ' ')"
for i in $(seq 1 16); do
	if [ "$i" = 4 ]; then
		# shellcheck disable=SC2086  # a list of pids
		kill -9 $victims 2>/dev/null || true
		echo "    --- lb1 crashed"
	fi
	answer=$(topo_exec client timeout 1 socat -T1 -u "TCP:$TOPO_VIP:8080,connect-timeout=0.2" STDOUT 2>/dev/null | head -n1) || true
	printf '    %s  request %2d -> %-5s VIP on: %s\n' "$(date +%T.%3N)" "$i" "${answer:-none}" "$(holder)"
	sleep 0.1
done
grep -h "vrid 51" "$TOPO_DIR/lb2/slb.log" | sed 's/^/    lb2 log: /' | tail -n 2

say "lb1 comes back: it clears the VIP the crash left in its kernel, then takes the VIP back (preempt)"
slb_start -n lb1 --no-vip "$config"
sleep 1.5
echo "    VIP on: $(holder)"
grep -h "vrid 51" "$TOPO_DIR/lb1/slb.log" | sed 's/^/    lb1 log: /' | tail -n 3

say "Stopping slb on both nodes and removing the namespaces"
slb_stop lb1
slb_stop lb2
echo "    done"
