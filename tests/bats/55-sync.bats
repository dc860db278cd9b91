#!/usr/bin/env bats
# Session sync (issue #5): with [failover] sync = yes, the master's
# slb-failover streams its session table to the backup over TCP sync_port
# 7801 (lib/sync_proto.h), a bulk copy then the changes.  The failover
# suite's pair: lb1 (primary zone, priority 202) and lb2 (backup zone, 75),
# adverts every 100 ms, preempt, the same auth_key_file; the listener web
# (VIP:8080) with persistence = source_ip over b1 and b2.
#
# The sessions are real: 20 client addresses (198.18.0.61-80) connect
# through the VIP; both tables are read with slbctl sessions. Only the
# slow-backup test fills lb1's table directly (slb-test-sessions: 20000
# sessions through slb_sessions_put()). The peers that misbehave (a wrong key, a slow reader) are
# slb-test-sync-peer (tests/tools/test_sync_peer.c) speaking the protocol
# from lb2's address: with different keys on the two nodes the election
# itself fails (both MASTER) and nobody would connect.

# shellcheck disable=SC2016  # wait_until eval strings expand when evaluated
load helpers/topology
load helpers/client
load helpers/failover

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
}

teardown_file() {
	topo_down
}

setup() {
	mkdir -p "$TOPO_DIR/fo"
	echo "one-shared-secret" >"$TOPO_DIR/fo/shared.key"
	echo "not-the-secret" >"$TOPO_DIR/fo/wrong.key"
	chmod 0600 "$TOPO_DIR"/fo/*.key
}

teardown() {
	topo_exec lb1 ip route del prohibit "$(topo_ip lb2)/32" 2>/dev/null || true
	fo_cleanup
}

_start() { slb_start -n "$1" --no-vip "${2:-$TOPO_DIR/$1.ini}"; }

# sync_peer ROLE ARGS...: slb-test-sync-peer in ROLE's namespace, from ROLE's address.
sync_peer() {
	local role=$1
	shift
	topo_exec "$role" timeout 10 "$TOPO_REPO/tests/tools/slb-test-sync-peer" -s "$(topo_ip "$role")" "$@"
}

# _persistent ROLE B1_WEIGHT B2_WEIGHT: source_ip persistence (300 s) on the
# listener web, with these weights.
_persistent() {
	sed -e "s/^scheduler = wrr\$/scheduler = wrr\npersistence = source_ip\npersistence_timeout = 300s/" \
		-e "s/^\(server\.b1 = .*\) weight=[0-9]*/\1 weight=$2/" \
		-e "s/^\(server\.b2 = .*\) weight=[0-9]*/\1 weight=$3/" "$TOPO_DIR/$1.ini" >"$TOPO_DIR/$1.tmp"
	mv "$TOPO_DIR/$1.tmp" "$TOPO_DIR/$1.ini"
}

# _configs [KEY=VALUE...]: both nodes' configs, the shared key and any
# extra [failover] keys, persistence on web. lb1's scheduler sends new
# clients to b2 (weights 1:100), lb2's to b1 (100:1): a client that keeps b2
# after a failover to lb2 kept it through the sync.
_configs() {
	failover_config lb1 primary 150 "auth_key_file=$TOPO_DIR/fo/shared.key" "$@" >"$TOPO_DIR/lb1.ini"
	failover_config lb2 backup 150 "auth_key_file=$TOPO_DIR/fo/shared.key" "$@" >"$TOPO_DIR/lb2.ini"
	_persistent lb1 1 100
	_persistent lb2 100 1
}

# _make_sessions: each of the 20 clients connects through lb1; their
# servers are in $TOPO_DIR/fo/made ("CLIENT SERVER"), most of them b2.
_make_sessions() {
	_client_addrs
	wait_until 5 eval '[ "$(_servers_seen | grep -c " b[12]$")" -eq 20 ]'
	_servers_seen | tee "$TOPO_DIR/fo/made"
	[ "$(grep -c ' b2$' "$TOPO_DIR/fo/made")" -ge 15 ]
}

# _pair_up_synced: lb1 MASTER, then lb2 BACKUP with its bulk copy from lb1.
_pair_up_synced() {
	fo_log_mark
	_start lb1
	wait_until 3 vip_holder_is lb1
	_start lb2
	fo_log_wait lb2 'sync: bulk copy from master 198\.18\.0\.3 complete' 5
}

# _client_addrs: add the 20 client addresses 198.18.0.61-80 to the client namespace (once).
_client_addrs() {
	local i ns
	ns=$(topo_ns client)
	for i in $(seq 61 80); do
		ip -n "$ns" addr show | grep " 198\.18\.0\.$i/" >/dev/null ||
			ip -n "$ns" addr add "198.18.0.$i/24" dev "$(topo_if client)"
	done
}

# _servers_seen: from each client address in turn, one connection to
# VIP:8080; prints "ADDR SERVER" (SERVER fail when nothing answered).
_servers_seen() {
	topo_exec client bash -c '
		for i in $(seq 61 80); do
			r=$(timeout 3 socat -T2 -u "TCP:$1:8080,connect-timeout=2,bind=198.18.0.$i" STDOUT 2>/dev/null | head -n1)
			echo "198.18.0.$i ${r:-fail}"
		done' _ "$TOPO_VIP"
}

# _sessions_on ROLE: ROLE's live sessions (slbctl) as "CLIENT SERVER", sorted.
_sessions_on() {
	"$(slb_bin slbctl)" -s "$(slb_dir "$1")/slb.sock" --json sessions |
		jq -r '.sessions[] | "\(.client) \(.server)"' | sort
}

# _sessions_match ROLE FILE: ROLE's sessions are exactly FILE's "CLIENT SERVER" lines.
_sessions_match() { [ "$(_sessions_on "$1")" = "$(sort "$2")" ]; }

@test "a session made on lb1 is on lb2 within a second; after lb1's loss each client keeps its server" {
	local t0 t1
	_configs
	_pair_up_synced
	_make_sessions
	t0=$(_fo_now_ms)
	wait_until 1 _sessions_match lb2 "$TOPO_DIR/fo/made"
	t1=$(_fo_now_ms)
	echo "lb2 had all 20 sessions $((t1 - t0)) ms after the last connection"
	fo_log_mark
	slb_kill9_all lb1
	# A dead node's kernel would not answer for the VIP either.
	topo_exec lb1 ip addr del "$TOPO_VIP/24" dev "$(topo_if lb1)"
	fo_log_wait lb2 'vrid 51: BACKUP -> MASTER' 3
	wait_until 3 vip_on lb2
	_servers_seen | tee "$TOPO_DIR/fo/after"
	diff "$TOPO_DIR/fo/made" "$TOPO_DIR/fo/after"
	# The order on takeover: the table, then the VIP.
	fo_log_has lb2 'sync: connection to master 198\.18\.0\.3 closed'
}

@test "a backup with the wrong key is refused and logged once; the right key gets the bulk copy" {
	_configs
	fo_log_mark
	_start lb1
	wait_until 3 vip_holder_is lb1
	# A peer that does as a slb-failover with another key does: the master's
	# HELLO fails its check, it hangs up.
	run sync_peer lb2 -k "$TOPO_DIR/fo/wrong.key" "$(topo_ip lb1)" 7801 51
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"refused: auth_bad"* ]]
	# A peer that tries anyway: its HELLO is refused, the master closes, and
	# says so once however often it comes back.
	for _ in 1 2 3; do
		run sync_peer lb2 -f -k "$TOPO_DIR/fo/wrong.key" "$(topo_ip lb1)" 7801 51
		echo "$output"
		[ "$status" -eq 1 ]
		[[ $output == *"closed by the master"* && $output != *session* ]]
	done
	# Without a key at all: refused too.
	run sync_peer lb2 -f "$(topo_ip lb1)" 7801 51
	[ "$status" -eq 1 ]
	LOG_ROLE=lb1 log_has 'sync: backup' || true
	[ "$(LOG_ROLE=lb1 log_count 'sync: backup 198\.18\.0\.4 refused: authentication failed')" -eq 1 ]
	run sync_peer lb2 -k "$TOPO_DIR/fo/shared.key" "$(topo_ip lb1)" 7801 51
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"hello lb1"* ]]
	[[ $output == *"bulk_end "* ]]
}

@test "a returning lb1 takes its bulk copy from lb2 before it preempts" {
	local bulk_line master_line
	_configs
	_pair_up_synced
	_make_sessions
	slb_kill9_all lb1
	wait_until 3 vip_on lb2
	# lb1 comes back unable to reach lb2's sync port (adverts still flow:
	# they are multicast, and lb2's reach lb1 whatever lb1's routes say).
	topo_exec lb1 sysctl -qw net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$(topo_if lb1).rp_filter=0"
	topo_exec lb1 ip route add prohibit "$(topo_ip lb2)/32"
	fo_log_mark
	_start lb1
	fo_log_wait lb1 'vrid 51: not preempting master 198\.18\.0\.4 \(priority 75\) before its session copy is complete' 3
	fo_log_has lb1 'sync: cannot connect to master 198\.18\.0\.4'
	# Without the copy it would have preempted after 321 ms; 1.5 s later lb2 still serves.
	sleep 1.5
	vip_on lb2 && ! vip_on lb1
	fo_log_lacks lb1 'vrid 51: BACKUP -> MASTER'
	topo_exec lb1 ip route del prohibit "$(topo_ip lb2)/32"
	fo_log_wait lb1 'vrid 51: BACKUP -> MASTER' 5
	wait_until 3 vip_holder_is lb1
	# In this order: the copy, complete, then the takeover.
	bulk_line=$(LOG_ROLE=lb1 _log_text | grep -nE 'sync: bulk copy from master 198\.18\.0\.4 complete' | head -n1 | cut -d: -f1)
	master_line=$(LOG_ROLE=lb1 _log_text | grep -nE 'vrid 51: BACKUP -> MASTER' | head -n1 | cut -d: -f1)
	echo "bulk copy at line $bulk_line, takeover at line $master_line"
	[ -n "$bulk_line" ] && [ "$bulk_line" -lt "$master_line" ]
	# And lb1's fresh table holds again what it made before it died.
	_sessions_on lb1
	_sessions_match lb1 "$TOPO_DIR/fo/made"
}

@test "a backup too slow to take the copy is dropped, and the next connection gets a fresh bulk copy" {
	local metrics late turn
	_configs
	sed -i "s/^metrics =.*/metrics = 127.0.0.1:9109/" "$TOPO_DIR/lb1.ini"
	fo_log_mark
	_start lb1
	wait_until 3 vip_holder_is lb1
	# 20000 sessions (about 1.4 MB of frames): more than the master's 64 KiB
	# buffer and the kernel's, against a peer that reads nothing for 7 s.
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" web web b2 10.1.0.1 20000 300
	run sync_peer lb2 -p 7 -k "$TOPO_DIR/fo/shared.key" "$(topo_ip lb1)" 7801 51
	echo "slow peer: $(tail -n 2 <<<"$output")"
	[ "$status" -eq 1 ]
	[[ $output == *"closed by the master"* && $output != *bulk_end* ]]
	fo_log_has lb1 'sync: backup 198\.18\.0\.4 dropped: too slow'
	run sync_peer lb2 -k "$TOPO_DIR/fo/shared.key" "$(topo_ip lb1)" 7801 51
	echo "next peer: $(tail -n 1 <<<"$output")"
	[ "$status" -eq 0 ]
	[[ $output == *"bulk_end 20000"* ]]
	[ "$(grep -c '^session web 10\.1\.' <<<"$output")" -eq 20000 ]
	# The election never waited on it: the walks of the 1M-entry table went
	# in chunks between its timers (in one go, ~50 ms with sanitizers). What
	# the loop's own work can make a timer wait is the CPU time of its
	# longest turn; the timers' lateness adds what a loaded machine's
	# scheduler adds (26 ms was seen at load 2), so it is only shown.
	fo_log_lacks lb1 'vrid 51: MASTER -> '
	vip_holder_is lb1
	metrics=$(metrics_scrape lb1 127.0.0.1:9109)
	late=$(metric_in "$metrics" slb_failover_timer_late_max_seconds | awk '{ printf "%d", $1 * 1000 }')
	turn=$(metric_in "$metrics" slb_failover_turn_cpu_max_seconds | awk '{ printf "%d", $1 * 1000 }')
	echo "longest turn of the election loop: $turn ms of CPU; worst election timer lateness: $late ms"
	[ "$turn" -lt 25 ]
}

# _sync_dropped ROLE: slb_failover_sync_dropped_sessions_total from ROLE's metrics at 127.0.0.1:9109.
_sync_dropped() {
	metric_value "$1" 127.0.0.1:9109 slb_failover_sync_dropped_sessions_total
}

@test "sessions of a listener the backup does not have are dropped and counted; the others are applied" {
	local n
	_configs
	sed -i "s/^metrics =.*/metrics = 127.0.0.1:9109/" "$TOPO_DIR/lb2.ini"
	# lb1 alone has the listener only1 (its sessions have nowhere to go on lb2).
	printf '\n[listener only1]\nprotocol = tcp\nbind = %s:8081\ngroup = web\npersistence = source_ip\n' \
		"$TOPO_VIP" >>"$TOPO_DIR/lb1.ini"
	fo_log_mark
	_start lb1
	wait_until 3 vip_holder_is lb1
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" only1 web b1 10.2.0.1 5 300
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" web web b2 10.3.0.1 3 300
	_start lb2
	fo_log_wait lb2 'sync: bulk copy from master 198\.18\.0\.3 complete: 3 sessions, 5 dropped' 5
	_sessions_on lb2
	[ "$(_sessions_on lb2)" = "$(printf '10.3.0.%s b2\n' 1 2 3)" ]
	[ "$(_sync_dropped lb2)" = 5 ]
	# After the bulk copy, a change for it is dropped too, said and counted.
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" only1 web b1 10.2.1.1 1 300
	fo_log_wait lb2 'sync: session for only1/web/b1 dropped: not configured here' 2
	# The master sends each change twice (sync_master.c): one record or two.
	wait_until 2 eval '[ "$(_sync_dropped lb2)" -gt 5 ]'
	sleep 0.5
	n=$(_sync_dropped lb2)
	echo "dropped: $n"
	[ "$n" -eq 6 ] || [ "$n" -eq 7 ]
}

# _ctl ROLE ARGS...: slbctl on ROLE's control socket.
_ctl() {
	local role=$1
	shift
	"$(slb_bin slbctl)" -s "$(slb_dir "$role")/slb.sock" "$@"
}

# _sessions_by_listener ROLE: ROLE's live sessions as "LISTENER CLIENT SERVER", sorted.
_sessions_by_listener() {
	_ctl "$1" --json sessions | jq -r '.sessions[] | "\(.listener) \(.client) \(.server)"' | sort
}

@test "a flush on lb1 empties lb2's table within a second" {
	local t0 t1
	_configs
	_pair_up_synced
	_make_sessions
	wait_until 1 _sessions_match lb2 "$TOPO_DIR/fo/made"
	fo_log_mark
	_ctl lb1 sessions flush
	[ -z "$(_sessions_on lb1)" ]
	t0=$(_fo_now_ms)
	wait_until 1 eval '[ -z "$(_sessions_on lb2)" ]'
	t1=$(_fo_now_ms)
	echo "lb2's table was empty $((t1 - t0)) ms after the flush"
	fo_log_has lb2 'sync: sessions flushed: 20 \(the master.s flush\)'
}

# _two_listeners_synced N: both nodes also have the listener web2 (VIP:8081);
# the pair synced, lb1 puts N sessions on web (10.3.0.1.., b2) and 4 on
# web2 (10.4.0.1-4, b1), and lb2 has them all.
_two_listeners_synced() {
	local n
	_configs
	for n in lb1 lb2; do
		printf '\n[listener web2]\nprotocol = tcp\nbind = %s:8081\ngroup = web\npersistence = source_ip\n' \
			"$TOPO_VIP" >>"$TOPO_DIR/$n.ini"
	done
	_pair_up_synced
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" web web b2 10.3.0.1 "$1" 300
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" web2 web b1 10.4.0.1 4 300
	wait_until 1 eval '[ "$(_sessions_by_listener lb2 | wc -l)" -eq '"$(($1 + 4))"' ]'
}

@test "a flush of one listener on lb1 flushes it on lb2, the other listener's sessions stay; a removed session goes too" {
	local web
	_two_listeners_synced 3
	web=$(printf 'web 10.3.0.%s b2\n' 1 2 3)
	fo_log_mark
	_ctl lb1 sessions flush web2
	wait_until 1 eval '[ "$(_sessions_by_listener lb2)" = "$web" ]'
	fo_log_has lb2 'sync: sessions flushed on listener web2: 4 \(the master.s flush\)'
	# Nothing of web2 comes back from a walk that was under way.
	sleep 0.3
	[ "$(_sessions_by_listener lb2)" = "$web" ]
	# A session removed on lb1, as a worker removes a UDP flow whose servers are gone.
	"$TOPO_REPO/tests/tools/slb-test-sessions" -r "${TOPO_ID}lb1" web 10.3.0.2 1
	wait_until 1 eval '[ "$(_sessions_by_listener lb2)" = "$(grep -v 10.3.0.2 <<<"$web")" ]'
}

@test "sessions removed or flushed on lb1 while the sync link was down are gone from lb2 after the next bulk copy; the others stay" {
	local web kept
	_two_listeners_synced 4
	web=$(printf 'web 10.3.0.%s b2\n' 1 2 3 4)
	_sessions_by_listener lb2 >"$TOPO_DIR/fo/before"
	# The link breaks (lb1 cannot reach lb2; its adverts, multicast, still
	# do, so lb2 stays backup), and meanwhile lb1 removes one session and
	# flushes a listener.
	fo_log_mark
	topo_exec lb1 ip route add prohibit "$(topo_ip lb2)/32"
	"$TOPO_REPO/tests/tools/slb-test-sessions" -r "${TOPO_ID}lb1" web 10.3.0.2 1
	_ctl lb1 sessions flush web2
	kept=$(grep -v 10.3.0.2 <<<"$web")
	[ "$(_sessions_by_listener lb1)" = "$kept" ]
	# lb2 gives up on the silent master: nothing of either reached it.
	fo_log_wait lb2 'sync: connection to master 198\.18\.0\.3 closed: the master is silent' 5
	[ "$(_sessions_by_listener lb2)" = "$(cat "$TOPO_DIR/fo/before")" ]
	fo_log_lacks lb2 'vrid 51: BACKUP -> MASTER'
	topo_exec lb1 ip route del prohibit "$(topo_ip lb2)/32"
	fo_log_wait lb2 'sync: bulk copy from master 198\.18\.0\.3 complete: 3 sessions' 10
	_sessions_by_listener lb2
	wait_until 2 eval '[ "$(_sessions_by_listener lb2)" = "$kept" ]'
	fo_log_has lb2 'sync: 5 sessions the master no longer has removed after its bulk copy'
}

@test "more flushes between two polls than lb1's log holds drop the backup: its next bulk copy prunes, its table is never emptied" {
	local kept
	_two_listeners_synced 3
	kept=$(printf 'web 10.3.0.%s b2\n' 1 3)
	fo_log_mark
	# A removal, then 12 flushes of web2 in a row: whichever poll falls
	# between them, one poll finds more than the 4 the log holds.
	"$TOPO_REPO/tests/tools/slb-test-sessions" -r "${TOPO_ID}lb1" web 10.3.0.2 1
	"$TOPO_REPO/tests/tools/slb-test-sessions" -f "${TOPO_ID}lb1" web2 12
	[ "$(_sessions_by_listener lb1)" = "$kept" ]
	fo_log_wait lb1 'sync: backup [0-9.:]+ dropped: flushes lost to it, its copy starts over when it reconnects' 2
	fo_log_wait lb2 'sync: bulk copy from master 198\.18\.0\.3 complete: 2 sessions' 5
	wait_until 2 eval '[ "$(_sessions_by_listener lb2)" = "$kept" ]'
	fo_log_wait lb2 'sync: [0-9]+ sessions the master no longer has removed after its bulk copy' 2
	# Refreshed in place: no FLUSH of everything emptied lb2's table.
	fo_log_lacks lb2 'sync: sessions flushed: '
}

@test "sessions evicted from lb1's full table go from lb2's too" {
	local n
	_configs
	sed -i 's/^\[global\]$/[global]\nsession_table_size = 1024/' "$TOPO_DIR/lb1.ini"
	_pair_up_synced
	# 600 sessions into lb1's 1024 entries, on lb2 too; then 2000 more:
	# full buckets evict as they go, most of the first ones among them.
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" web web b2 10.5.0.1 600 300
	wait_until 2 eval '[ "$(_sessions_on lb2 | wc -l)" -gt 550 ]'
	wait_until 2 eval '[ "$(_sessions_on lb2)" = "$(_sessions_on lb1)" ]'
	"$TOPO_REPO/tests/tools/slb-test-sessions" "${TOPO_ID}lb1" web web b1 10.6.0.1 2000 300
	# (awk, not grep -c: that fails when lb1 kept none, as it can.)
	n=$(_sessions_on lb1 | awk '/^10\.5\./ { n++ } END { print n + 0 }')
	echo "lb1 kept $n of the first 600, $(_sessions_on lb1 | wc -l) in all"
	[ "$n" -lt 400 ]
	# lb2's table (the default size) holds exactly what lb1 kept.
	wait_until 2 eval '[ "$(_sessions_on lb2)" = "$(_sessions_on lb1)" ]'
}
