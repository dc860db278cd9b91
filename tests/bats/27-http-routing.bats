#!/usr/bin/env bats
# HTTP forwarding rules and cookie persistence (issue #4), with curl from
# the client namespace. One slb runs for the whole file (slb_config_basic
# plus):
#
#   8081 rules   group web (default); rule.api host=api.example.com -> api,
#                rule.apiv2 host=api.example.com path=/v2/ -> apiv2,
#                rule.wild host=*.example.com -> wild, rule.static
#                path=/static/ -> static; one server per group answering its
#                group's name
#   8082 insert  persistence = cookie_insert (cookie SLBID), rr over
#                c1 (b1:9300) and c2 (b2:9300), http checks every 200 ms
#   8084 twogroups  cookie_insert, group ins, and rule.two path=/two/ ->
#                ins2: rr over d1 (b1:9302) and d2 (b2:9302)
#   8083 rewrite persistence = cookie_rewrite, cookie = JSESSIONID, rr over
#                r1 (b1:9301) and r2 (b2:9301), whose answers set
#                JSESSIONID=sess-NAME
#   8085 rewritebig  cookie_rewrite, cookie = JSESSIONID, r3 (b1:9303) whose
#                Set-Cookie has 4000 bytes of value and 400 of attributes
#
# The cookie backends answer "NAME cookie=<the Cookie field they got>".

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

_config() {
	local b1 b2 checks
	b1=$(topo_ip b1) b2=$(topo_ip b2)
	checks='check = http
check_interval = 200ms
check_timeout = 150ms
healthy_threshold = 2
unhealthy_threshold = 2'
	slb_config_basic
	cat <<EOF2

[listener rules]
protocol = http
bind = $TOPO_VIP:8081
group = www
rule.api = host=api.example.com group=api
rule.apiv2 = host=api.example.com path=/v2/ group=apiv2
rule.wild = host=*.example.com group=wild
rule.static = path=/static/ group=static

[group www]
server.a = $b1:9200
[group api]
server.a = $b2:9200
[group apiv2]
server.a = $b1:9201
[group wild]
server.a = $b2:9201
[group static]
server.a = $b1:9202

[listener insert]
protocol = http
bind = $TOPO_VIP:8082
group = ins
scheduler = rr
persistence = cookie_insert

[group ins]
server.c1 = $b1:9300
server.c2 = $b2:9300
$checks

[listener twogroups]
protocol = http
bind = $TOPO_VIP:8084
group = ins
scheduler = rr
persistence = cookie_insert
rule.two = path=/two/ group=ins2

[group ins2]
server.d1 = $b1:9302
server.d2 = $b2:9302
$checks

[listener rewrite]
protocol = http
bind = $TOPO_VIP:8083
group = rew
scheduler = rr
persistence = cookie_rewrite
cookie = JSESSIONID

[group rew]
server.r1 = $b1:9301
server.r2 = $b2:9301
$checks

[listener rewritebig]
protocol = http
bind = $TOPO_VIP:8085
group = rewbig
persistence = cookie_rewrite
cookie = JSESSIONID

[group rewbig]
server.r3 = $b1:9303
EOF2
}

# _cookie_script: per-connection program for socat: "$1" is the answer's
# name, "$2" = setcookie makes it set JSESSIONID=sess-NAME.
_cookie_script() {
	local f=$TOPO_DIR/http-cookie.sh
	[ -f "$f" ] || cat >"$f" <<'EOS'
#!/bin/bash
line='' cookie=''
for ((i = 0; i < 100; i++)); do
	IFS= read -r -t 2 line || break
	line=${line%$'\r'}
	[ -z "$line" ] && break
	case ${line,,} in cookie:*) cookie=${line#*:}; cookie=${cookie# } ;; esac
done
body="$1 cookie=$cookie"$'\n'
extra=''
[ "${2:-}" = setcookie ] && extra="Set-Cookie: JSESSIONID=sess-$1; Path=/"$'\r\n'
[ "${2:-}" = bigsetcookie ] && extra="Set-Cookie: JSESSIONID=$(printf 'v%.0s' {1..4000}); Path=/$(printf '; Domain=a.example.com%.0s' {1..18})"$'\r\n'
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
	"$extra" "${#body}" "$body"
EOS
	chmod 0755 "$f"
	echo "$f"
}

# _cookie_backend ROLE PORT NAME [setcookie]
_cookie_backend() {
	local pidf=$TOPO_DIR/pids/backend.$1.$2
	ip netns exec "$(topo_ns "$1")" socat -T 5 "TCP-LISTEN:$2,bind=$(topo_ip "$1"),fork,reuseaddr" \
		SYSTEM:"$(_cookie_script) $3 ${4:-}" </dev/null >"$TOPO_DIR/backend.$1.$2.log" 2>&1 3>&- &
	_pid_record "$pidf" $!
	wait_until 5 _backend_bound "$1" "$2" -Hltn
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9200 http www
	backend_start b2 9200 http api
	backend_start b1 9201 http apiv2
	backend_start b2 9201 http wild
	backend_start b1 9202 http static
	_cookie_backend b1 9300 c1
	_cookie_backend b2 9300 c2
	_cookie_backend b1 9302 d1
	_cookie_backend b2 9302 d2
	_cookie_backend b1 9301 r1 setcookie
	_cookie_backend b2 9301 r2 setcookie
	_cookie_backend b1 9303 r3 bigsetcookie
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _get PORT HOST PATH [CURL ARGS...]: the body of one request from the client.
_get() {
	local port=$1 host=$2 path=$3
	shift 3
	topo_exec client curl -sS --max-time 3 -H "Host: $host" "$@" "http://$TOPO_VIP:$port$path"
}

@test "rules: exact host, then wildcard, then path, then the listener's group" {
	local host path want got failed=0
	while read -r host path want; do
		got=$(_get 8081 "$host" "$path")
		echo "$host$path -> $got (want $want)"
		[ "$got" = "$want" ] || failed=1
	done <<'CASES'
api.example.com / api
API.Example.com:8081 /users api
api.example.com /v2/users apiv2
api.example.com /v2 api
api.example.com /static/x.css api
shop.example.com /static/x.css wild
a.b.example.com / wild
example.com / www
other.org /static/x.css static
other.org /static www
other.org /?/static/ www
CASES
	[ "$failed" = 0 ]
}

@test "rules: an absolute-form target is routed by its path (and its host when there is no Host)" {
	local host path want got failed=0
	while read -r host path want; do
		got=$(_get 8081 "$host" / --request-target "http://$host$path")
		echo "http://$host$path -> $got (want $want)"
		[ "$got" = "$want" ] || failed=1
	done <<'CASES'
api.example.com /v2/users apiv2
other.org /static/x.css static
other.org /?/static/ www
CASES
	# HTTP/1.0 without Host: the target alone names the host
	got=$(printf 'GET http://api.example.com/v2/x HTTP/1.0\r\n\r\n' |
		topo_exec client timeout 3 socat -t 2 - "TCP:$TOPO_VIP:8081" | tail -n 1)
	echo "1.0 http://api.example.com/v2/x -> $got (want apiv2)"
	[ "$got" = apiv2 ] || failed=1
	[ "$failed" = 0 ]
}

# _tally_cookie PORT JAR N: N requests sharing cookie jar JAR; prints the tally.
_tally_cookie() {
	local i
	for ((i = 0; i < $3; i++)); do
		_get "$1" x "/" -b "$TOPO_DIR/$2" -c "$TOPO_DIR/$2" | awk '{ print $1 }'
	done | sort | uniq -c | awk '{ print $2, $1 }'
}

@test "cookie_insert: slb's own cookie, opaque, sticks the client to one server" {
	local headers first tally
	headers=$(_get 8082 x / -D - -o /dev/null)
	echo "$headers"
	grep -E '^Set-Cookie: SLBID=[A-Za-z0-9_-]{12}; Path=/; Max-Age=1000; HttpOnly' <<<"$headers"
	! grep -E "198\.18|c1|c2" <<<"$(grep -i '^set-cookie' <<<"$headers")" || false
	# without a cookie, rr spreads the requests (each worker keeps its own rr turn)
	tally=$(for i in $(seq 10); do _get 8082 x / | awk '{ print $1 }'; done | sort | uniq -c | awk '{ print $2, $1 }')
	echo "$tally"
	[ "$(tally_of c1 "$tally")" -ge 1 ] && [ "$(tally_of c2 "$tally")" -ge 1 ]
	# with one, every request goes where the first went
	rm -f "$TOPO_DIR/jar.insert"
	first=$(_get 8082 x / -c "$TOPO_DIR/jar.insert" | awk '{ print $1 }')
	tally=$(_tally_cookie 8082 jar.insert 10)
	echo "first $first, then: $tally"
	assert_tally "$tally" "$first=10"
}

@test "cookie_insert: the server never sees slb's cookie, only the client's own" {
	local body
	rm -f "$TOPO_DIR/jar.own"
	_get 8082 x / -c "$TOPO_DIR/jar.own" >/dev/null
	body=$(_get 8082 x / -b "$TOPO_DIR/jar.own" -H "Cookie: theme=dark")
	echo "$body"
	[[ "$body" =~ ^c[12]\ cookie=theme=dark$ ]]
}

# _jar_value JAR NAME: the value of cookie NAME in curl's cookie jar JAR.
_jar_value() {
	awk -v name="$2" '$6 == name { print $7 }' "$TOPO_DIR/$1"
}

# _sticky_case PORT WANT_SERVER WANT_COOKIE CURL ARGS...: one request; it must go
# to WANT_SERVER, get no Set-Cookie, and the server must see WANT_COOKIE.
_sticky_case() {
	local server=$2 want=$3 headers body
	headers=$(_get "$1" x / -D - "${@:4}")
	body=$(tail -n1 <<<"$headers")
	echo "${#body} bytes: ${body:0:60}... want $server cookie=${want:0:40}..." >&2
	! grep -i '^set-cookie' <<<"$headers" || false
	[ "$body" = "$server cookie=$want" ]
}

@test "cookie_insert: Cookie fields of any size the head limit takes: slb's cookie found and never forwarded" {
	local first tok a7 a12 a15
	rm -f "$TOPO_DIR/jar.big"
	first=$(_get 8082 x / -c "$TOPO_DIR/jar.big" | awk '{ print $1 }')
	tok=$(_jar_value jar.big SLBID)
	[ -n "$tok" ]
	a7=$(printf 'a%.0s' {1..7000}) a12=$(printf 'a%.0s' {1..12000}) a15=$(printf 'a%.0s' {1..15900})
	# one 12 KB field with slb's pair last
	_sticky_case 8082 "$first" "a=$a12" -H "Cookie: a=$a12; SLBID=$tok"
	# three fields adding up to 14 KB, joined towards the server
	_sticky_case 8082 "$first" "a=$a7; b=$a7" -H "Cookie: SLBID=$tok" -H "Cookie: a=$a7" \
		-H "Cookie: b=$a7"
	# one field that leaves the 16 KiB head a few hundred bytes
	_sticky_case 8082 "$first" "a=$a15" -H "Cookie: SLBID=$tok; a=$a15"
}

@test "cookie_insert: a cookie for a server that is down is rescheduled, with a new cookie" {
	local first other headers tally
	rm -f "$TOPO_DIR/jar.down"
	first=$(_get 8082 x / -c "$TOPO_DIR/jar.down" | awk '{ print $1 }')
	[ "$first" = c1 ] && other=c2 || other=c1
	log_mark
	backend_stop "$([ "$first" = c1 ] && echo b1 || echo b2)" 9300
	health_wait "ins/$first" DOWN 5
	headers=$(_get 8082 x / -b "$TOPO_DIR/jar.down" -c "$TOPO_DIR/jar.down" -D -)
	echo "$headers"
	grep -E '^Set-Cookie: SLBID=' <<<"$headers"
	tail -n1 <<<"$headers" | grep "^$other "
	tally=$(_tally_cookie 8082 jar.down 5)
	assert_tally "$tally" "$other=5"
	# back up: the client stays where its new cookie says
	log_mark
	_cookie_backend "$([ "$first" = c1 ] && echo b1 || echo b2)" 9300 "$first"
	health_wait "ins/$first" UP 5
	tally=$(_tally_cookie 8082 jar.down 5)
	assert_tally "$tally" "$other=5"
}

@test "cookie_insert: forged or garbage cookies are scheduled as new clients" {
	local v headers
	for v in 'AAAAAAAAAAAA' '198.18.0.11' '"><script>' 'x y' '' "$(printf 'A%.0s' {1..5000})"; do
		headers=$(_get 8082 x / -H "Cookie: SLBID=$v" -D -)
		echo "$v: $headers"
		grep -E '^Set-Cookie: SLBID=[A-Za-z0-9_-]{12};' <<<"$headers"
		tail -n1 <<<"$headers" | grep -E '^c[12] cookie=$'
	done
	# only slb's own pair is taken out: "x;y" is SLBID=x and a pair y
	headers=$(_get 8082 x / -H "Cookie: SLBID=x;y" -D -)
	tail -n1 <<<"$headers" | grep -E '^c[12] cookie=y$'
}

@test "cookie_rewrite: the server's cookie carries the choice; the server sees its own value" {
	local headers first value tally body
	headers=$(_get 8083 x / -D -)
	echo "$headers"
	first=$(tail -n1 <<<"$headers" | awk '{ print $1 }')
	value=$(sed -nE 's/^Set-Cookie: JSESSIONID=([A-Za-z0-9_-]{12}~sess-r[12]); Path=\/\r?$/\1/p' <<<"$headers")
	[ -n "$value" ]
	[ "${value#*~}" = "sess-$first" ]
	for i in 1 2 3 4 5 6; do
		body=$(_get 8083 x / -H "Cookie: a=1; JSESSIONID=$value")
		echo "$body"
		[ "$body" = "$first cookie=a=1; JSESSIONID=sess-$first" ]
	done
	# without the prefix, the server's own cookie goes through untouched, and rr spreads
	tally=$(for i in $(seq 10); do _get 8083 x / -H "Cookie: JSESSIONID=plain" | awk '{ print $1 "/" $2 }'; done | sort | uniq -c | awk '{ print $2, $1 }')
	echo "$tally"
	[ "$(tally_of r1/cookie=JSESSIONID=plain "$tally")" -ge 1 ]
	[ "$(tally_of r2/cookie=JSESSIONID=plain "$tally")" -ge 1 ]
	[ "$(($(tally_of r1/cookie=JSESSIONID=plain "$tally") + $(tally_of r2/cookie=JSESSIONID=plain "$tally")))" -eq 10 ]
}

@test "cookie_rewrite: the prefix is found and taken off in Cookie fields of any size" {
	local headers first value a12 i
	headers=$(_get 8083 x / -D -)
	first=$(tail -n1 <<<"$headers" | awk '{ print $1 }')
	value=$(sed -nE 's/^Set-Cookie: JSESSIONID=([A-Za-z0-9_-]{12}~sess-r[12]); Path=\/\r?$/\1/p' <<<"$headers")
	[ -n "$value" ]
	a12=$(printf 'a%.0s' {1..12000})
	for i in 1 2 3 4; do
		headers=$(_get 8083 x / -H "Cookie: a=$a12" -H "Cookie: JSESSIONID=$value")
		echo "${headers:0:60}..."
		[ "$headers" = "$first cookie=a=$a12; JSESSIONID=sess-$first" ]
	done
}

@test "cookie_rewrite: a Set-Cookie of any size the response head takes gets its prefix" {
	local headers
	headers=$(_get 8085 x / -D -)
	echo "${headers:0:300}"
	grep -E "^Set-Cookie: JSESSIONID=[A-Za-z0-9_-]{12}~v{4000}; Path=/(; Domain=a\.example\.com){18}"$'\r?$' <<<"$headers"
}

@test "cookie_insert: a cookie for a server removed by a reload is rescheduled, with a new cookie" {
	local first other headers tally
	rm -f "$TOPO_DIR/jar.gone"
	first=$(_get 8082 x / -c "$TOPO_DIR/jar.gone" | awk '{ print $1 }')
	[ "$first" = c1 ] && other=c2 || other=c1
	_config | grep -v "^server\.$first = " >"$TOPO_DIR/slb.ini"
	log_mark
	slb_reload
	slb_wait_reloaded 10
	headers=$(_get 8082 x / -b "$TOPO_DIR/jar.gone" -c "$TOPO_DIR/jar.gone" -D -)
	echo "$headers"
	grep -E '^Set-Cookie: SLBID=' <<<"$headers"
	tail -n1 <<<"$headers" | grep "^$other "
	tally=$(_tally_cookie 8082 jar.gone 5)
	assert_tally "$tally" "$other=5"
	# put it back for the next run of this file
	_config >"$TOPO_DIR/slb.ini"
	log_mark
	slb_reload
	slb_wait_reloaded 10
}

@test "cookie_insert: a client that the rules send to two groups sticks in both, with a cookie per group" {
	local jar=jar.two headers main two i a b name
	rm -f "$TOPO_DIR/$jar"
	health_wait ins/c1 UP 5 && health_wait ins/c2 UP 5
	headers=$(_get 8084 x / -c "$TOPO_DIR/$jar" -D -)
	main=$(tail -n1 <<<"$headers" | awk '{ print $1 }')
	headers=$(_get 8084 x /two/ -b "$TOPO_DIR/$jar" -c "$TOPO_DIR/$jar" -D -)
	echo "$headers"
	two=$(tail -n1 <<<"$headers" | awk '{ print $1 }')
	[[ $main =~ ^c[12]$ && $two =~ ^d[12]$ ]]
	# back and forth: each group keeps its server, no cookie is set again, the servers see none
	for i in 1 2 3 4 5; do
		a=$(_get 8084 x / -b "$TOPO_DIR/$jar" -c "$TOPO_DIR/$jar" -D -)
		b=$(_get 8084 x /two/ -b "$TOPO_DIR/$jar" -c "$TOPO_DIR/$jar" -D -)
		echo "$(tail -n1 <<<"$a") / $(tail -n1 <<<"$b")"
		! grep -i '^set-cookie' <<<"$a$b" || false
		[ "$(tail -n1 <<<"$a")" = "$main cookie=" ] && [ "$(tail -n1 <<<"$b")" = "$two cookie=" ]
	done
	# the rule group's cookie has a name of its own that says nothing of the group
	name=$(sed -nE 's/^Set-Cookie: (SLBID_[A-Za-z0-9_-]{8})=[A-Za-z0-9_-]{12}; Path=\/; Max-Age=1000; HttpOnly\r?$/\1/p' <<<"$headers")
	[ -n "$name" ]
	! grep -iE "ins2|198\.18|d[12]" <<<"$(grep -i '^set-cookie' <<<"$headers")" || false
	# an SLBID from before cookies had a name per group still finds the rule group's server,
	# and the response sets the group's own cookie
	for i in 1 2 3 4; do
		headers=$(_get 8084 x /two/ -H "Cookie: SLBID=$(_jar_value "$jar" "$name")" -D -)
		echo "$headers"
		grep -E "^Set-Cookie: $name=$(_jar_value "$jar" "$name");" <<<"$headers"
		[ "$(tail -n1 <<<"$headers")" = "$two cookie=" ]
	done
}
