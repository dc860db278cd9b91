#!/usr/bin/env bats
# gzip = yes on an HTTP listener (issue #4): text responses are compressed
# for clients that accept gzip, whatever the server's framing; anything the
# server already encoded, non-text types, tiny bodies, HEAD and clients that
# do not ask are left alone. One slb runs for the whole file
# (slb_config_basic plus listener gz on the VIP :8084, gzip = yes, group
# files = b1:9400), whose backend serves, by path:
#   /page.html  20000 bytes of text/html with Content-Length (every 200
#               here says Accept-Ranges: bytes)
#   /chunked    the same page as text/plain, chunked
#   /close      the same page as text/plain, until the server closes
#   /pre.gz     the page gzipped by the server, Content-Encoding: gzip
#   /image.png  20000 bytes of image/png
#   /no-transform  the page with Cache-Control: public, No-Transform
#   /small      "tiny\n" as text/plain

# shellcheck disable=SC2016  # the backend script expands at run time
load helpers/topology
load helpers/client

_config() {
	slb_config_basic
	cat <<EOF2

[listener gz]
protocol = http
bind = $TOPO_VIP:8084
group = files
gzip = yes

[group files]
server.a = $(topo_ip b1):9400
EOF2
}

_files_script() {
	local f=$TOPO_DIR/http-files.sh
	cat >"$f" <<'EOS'
#!/bin/bash
dir=$1 line='' first=''
for ((i = 0; i < 100; i++)); do
	IFS= read -r -t 2 line || break
	line=${line%$'\r'}
	[ -z "$first" ] && first=$line
	[ -z "$line" ] && break
done
path=$(awk '{ print $2 }' <<<"$first")
head() { printf 'HTTP/1.1 200 OK\r\nContent-Type: %s\r\nETag: "v1"\r\nAccept-Ranges: bytes\r\n%s\r\n' "$1" "$2"; }
case $path in
/page.html) head text/html "Content-Length: $(stat -c %s "$dir/page.html")"$'\r\n'; cat "$dir/page.html" ;;
/pre.gz) head text/html "Content-Encoding: gzip"$'\r\n'"Content-Length: $(stat -c %s "$dir/page.html.gz")"$'\r\n'; cat "$dir/page.html.gz" ;;
/no-transform) head text/html "Cache-Control: public, No-Transform"$'\r\n'"Content-Length: $(stat -c %s "$dir/page.html")"$'\r\n'; cat "$dir/page.html" ;;
/image.png) head image/png "Content-Length: $(stat -c %s "$dir/image.png")"$'\r\n'; cat "$dir/image.png" ;;
/small) head text/plain "Content-Length: 5"$'\r\n'; printf 'tiny\n' ;;
/close) printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n'; cat "$dir/page.html" ;;
/chunked)
	head text/plain "Transfer-Encoding: chunked"$'\r\n'
	size=$(stat -c %s "$dir/page.html") off=0
	while [ "$off" -lt "$size" ]; do
		n=$((size - off < 3000 ? size - off : 3000))
		printf '%x\r\n' "$n"
		dd if="$dir/page.html" bs=1 skip="$off" count="$n" status=none
		printf '\r\n'
		off=$((off + n))
	done
	printf '0\r\n\r\n' ;;
*) printf 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' ;;
esac
EOS
	chmod 0755 "$f"
	echo "$f"
}

setup_file() {
	local i
	topo_up
	for ((i = 0; i < 400; i++)); do
		printf '<p>line %03d of a page that compresses well, as html does</p>\n' "$i"
	done | head -c 20000 >"$TOPO_DIR/page.html"
	gzip -9 -c "$TOPO_DIR/page.html" >"$TOPO_DIR/page.html.gz"
	head -c 20000 /dev/urandom >"$TOPO_DIR/image.png"
	chmod 0644 "$TOPO_DIR"/page.html* "$TOPO_DIR/image.png"
	ip netns exec "$(topo_ns b1)" socat -T 5 "TCP-LISTEN:9400,bind=$(topo_ip b1),fork,reuseaddr" \
		SYSTEM:"$(_files_script) $TOPO_DIR" </dev/null >"$TOPO_DIR/backend.b1.9400.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.b1.9400" $!
	wait_until 5 _backend_bound b1 9400 -Hltn
	backend_start b1 9000
	backend_start b2 9000
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _fetch PATH OUT [CURL ARGS...]: the body into OUT, the head on stdout.
_fetch() {
	local path=$1 out=$2
	shift 2
	topo_exec client curl -sS --max-time 5 -D - -o "$out" "$@" "http://$TOPO_VIP:8084$path"
}

_sum() { sha256sum "$1" | awk '{ print $1 }'; }

@test "curl --compressed gets gzip, and the same page once inflated" {
	local head raw=$TOPO_DIR/raw.gz
	head=$(_fetch /page.html "$TOPO_DIR/out" --compressed)
	echo "$head"
	grep -i '^Content-Encoding: gzip' <<<"$head"
	grep -i '^Vary: Accept-Encoding' <<<"$head"
	grep -i '^ETag: W/"v1"' <<<"$head"
	! grep -i '^Content-Length' <<<"$head" || false
	# ranges of the server's bytes are not ranges of these: a resumed download would mix them
	! grep -i '^Accept-Ranges' <<<"$head" || false
	[ "$(_sum "$TOPO_DIR/out")" = "$(_sum "$TOPO_DIR/page.html")" ]
	# on the wire: a valid gzip stream, much smaller than the page
	_fetch /page.html "$raw" -H "Accept-Encoding: gzip" >/dev/null
	gzip -t "$raw"
	echo "compressed: $(stat -c %s "$raw") of 20000"
	[ "$(stat -c %s "$raw")" -lt 5000 ]
}

@test "chunked and close-delimited responses are compressed too; HTTP/1.0 clients get it until close" {
	local path head
	for path in /chunked /close; do
		head=$(_fetch "$path" "$TOPO_DIR/out" --compressed)
		echo "$path: $head"
		grep -i '^Content-Encoding: gzip' <<<"$head"
		grep -i '^Transfer-Encoding: chunked' <<<"$head"
		[ "$(_sum "$TOPO_DIR/out")" = "$(_sum "$TOPO_DIR/page.html")" ]
		head=$(_fetch "$path" "$TOPO_DIR/out" --compressed --http1.0)
		echo "$path, 1.0: $head"
		grep -i '^Content-Encoding: gzip' <<<"$head"
		! grep -i '^Transfer-Encoding' <<<"$head" || false
		[ "$(_sum "$TOPO_DIR/out")" = "$(_sum "$TOPO_DIR/page.html")" ]
	done
}

@test "a response the server already compressed is passed untouched" {
	local head
	head=$(_fetch /pre.gz "$TOPO_DIR/out" -H "Accept-Encoding: gzip")
	echo "$head"
	[ "$(grep -ci '^Content-Encoding' <<<"$head")" -eq 1 ]
	grep -i '^ETag: "v1"' <<<"$head"
	[ "$(_sum "$TOPO_DIR/out")" = "$(_sum "$TOPO_DIR/page.html.gz")" ]
}

@test "not compressed: images, tiny bodies, no-transform, HEAD, and clients that do not accept gzip" {
	local head
	head=$(_fetch /image.png "$TOPO_DIR/out" --compressed)
	! grep -i '^Content-Encoding' <<<"$head" || false
	[ "$(_sum "$TOPO_DIR/out")" = "$(_sum "$TOPO_DIR/image.png")" ]
	head=$(_fetch /small "$TOPO_DIR/out" --compressed)
	! grep -i '^Content-Encoding' <<<"$head" || false
	[ "$(cat "$TOPO_DIR/out")" = tiny ]
	head=$(_fetch /page.html "$TOPO_DIR/out")
	! grep -i '^Content-Encoding' <<<"$head" || false
	grep -i '^Content-Length: 20000' <<<"$head"
	grep -i '^Accept-Ranges: bytes' <<<"$head"
	# cache directives are case-insensitive (RFC 9111 5.2)
	head=$(_fetch /no-transform "$TOPO_DIR/out" --compressed)
	! grep -i '^Content-Encoding' <<<"$head" || false
	[ "$(_sum "$TOPO_DIR/out")" = "$(_sum "$TOPO_DIR/page.html")" ]
	head=$(_fetch /page.html "$TOPO_DIR/out" -H "Accept-Encoding: gzip;q=0, br")
	! grep -i '^Content-Encoding' <<<"$head" || false
	head=$(_fetch /page.html "$TOPO_DIR/out" --compressed -I)
	echo "$head"
	! grep -i '^Content-Encoding' <<<"$head" || false
}

# This backend closes after each answer without saying Connection: close.
# Its FIN can be reported while slb still owns the connection; such a
# connection must not go to the idle pool, where the next request would
# wait on it for server_timeout.
@test "a server that closes after each answer without saying so: every request is answered" {
	local i fails=0
	for ((i = 0; i < 40; i++)); do
		topo_exec client curl -sS --max-time 3 -o /dev/null "http://$TOPO_VIP:8084/small" || fails=$((fails + 1))
	done
	echo "failed: $fails of 40"
	[ "$fails" -eq 0 ]
}
