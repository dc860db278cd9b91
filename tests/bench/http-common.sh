# http-common.sh - pieces shared by the HTTP benchmarks that run their own
# proxies (http-equal-cpu.sh, http-user-instructions.sh): the configs of the
# nginx backends, HAProxy, nginx and slb, the same in every benchmark, and a
# wait for a port to answer. Sourced; expects OUT_DIR to exist.

# ngx_conf NAME HTTP-BLOCK-BODY: an nginx config with one worker.
ngx_conf() {
	cat <<EOF
user root; daemon off; master_process on; worker_processes 1;
pid $OUT_DIR/tmp/$1.pid; error_log $OUT_DIR/logs/$1.error.log warn;
events { worker_connections 16384; }
http {
  client_body_temp_path $OUT_DIR/tmp/$1-body; proxy_temp_path $OUT_DIR/tmp/$1-proxy;
  fastcgi_temp_path $OUT_DIR/tmp/$1-fcgi; uwsgi_temp_path $OUT_DIR/tmp/$1-uwsgi;
  scgi_temp_path $OUT_DIR/tmp/$1-scgi; access_log off;
  keepalive_timeout 65s; keepalive_requests 1000000;
$2
}
EOF
}

# backend_conf NAME PORT: a backend serving $OUT_DIR/www (small = 612 B).
backend_conf() {
	ngx_conf "$1" "  sendfile on; tcp_nopush on; tcp_nodelay on; default_type application/octet-stream;
  server { listen 127.0.0.1:$2 backlog=4096; root $OUT_DIR/www; add_header X-Backend $1 always; }"
}

# www_small: the 612-byte page every benchmark asks for.
www_small() {
	mkdir -p "$OUT_DIR/www" && head -c 612 /dev/zero | tr '\0' x >"$OUT_DIR/www/small"
}

# haproxy_conf PORT B1 B2: mode http, one thread, round robin, server keep-alive.
haproxy_conf() {
	cat <<EOF
global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:$1
  default_backend be
backend be
  balance roundrobin
  http-reuse always
  server b1 127.0.0.1:$2
  server b2 127.0.0.1:$3
EOF
}

# nginx_proxy_conf PORT B1 B2: nginx as a proxy with upstream keepalive.
nginx_proxy_conf() {
	ngx_conf nginx "  upstream be { server 127.0.0.1:$2; server 127.0.0.1:$3; keepalive 256; }
  server { listen 127.0.0.1:$1 backlog=4096;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
}

# slb_conf INSTANCE PORT B1 B2: one worker, an http listener, rr, tcp checks, no access log.
slb_conf() {
	cat <<EOF
[global]
instance = $1
workers = 1
user = root
log = $OUT_DIR/logs/slb.log
log_level = warning
pid_file = $OUT_DIR/tmp/slb.pid
control_socket = $OUT_DIR/tmp/slb.sock
state_file = $OUT_DIR/tmp/slb.state
metrics =
[listener web]
protocol = http
bind = 127.0.0.1:$2
group = b
scheduler = rr
x_forwarded_for = no
[group b]
server.b1 = 127.0.0.1:$3
server.b2 = 127.0.0.1:$4
check = tcp
EOF
}

# wait_http PORT: until /small answers there (10 s at most).
wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/small" && return 0
		sleep 0.1
	done
	return 1
}
