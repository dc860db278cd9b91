/*
 * http_check.c - the `http` and `https` health checks: a server is fine when
 * it answers "GET check_path" (HEAD with check_method = HEAD; Host:
 * check_host, or its address) within check_timeout with a status whose
 * class is in check_codes. For https the request goes over TLS (SNI
 * check_host; the certificate verified only with server_tls_ca, see
 * lib/tls.h). Only the response head is read, with lib/http_parser.c: a
 * server that does not speak HTTP/1.x fails the check. Interim 1xx heads
 * before it (103 Early Hints) are skipped. The connection is
 * closed with a reset after the head, like every probe.
 */
#include "checker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_parser.h"
#include "tls.h"

#define RESPONSE_HEAD_MAX 4096

enum probe_state { P_CONNECTING, P_HANDSHAKE, P_SENDING, P_RECEIVING };

struct http_probe {
	SSL_CTX *tls; /* NULL for plain http */
	SSL *ssl;
	enum probe_state state;
	size_t request_len, sent, received;
	struct slb_http_scan scan;
	char request[2 * SLB_TEXT_MAX + 128];
	char response[RESPONSE_HEAD_MAX];
};

/* One parse at a time in this single-threaded daemon: the big message struct is shared. */
static struct slb_http_msg parsed;

int http_check_setup(struct checker_target *t, SSL_CTX *tls)
{
	const struct slb_group_conf *g = t->group;
	char host[SLB_SOCKADDR_STRLEN];
	struct http_probe *p = calloc(1, sizeof(*p));
	int n;

	if (!p)
		return -1;
	p->tls = g->check == SLB_CHECK_HTTPS ? tls : NULL;
	if (!g->check_host[0])
		slb_sockaddr_format(&t->addr, host);
	n = snprintf(p->request, sizeof(p->request),
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: slb-checker\r\nAccept: */*\r\n"
		     "Connection: close\r\n\r\n",
		     g->check_method == SLB_CHECK_HEAD ? "HEAD" : "GET", g->check_path,
		     g->check_host[0] ? g->check_host : host);
	p->request_len = (size_t)n;
	t->http = p;
	return 0;
}

static enum check_result fail(struct checker_target *t, const char *why)
{
	snprintf(t->why, sizeof(t->why), "%s", why);
	return CHECK_FAIL;
}

static enum check_result tls_fail(struct checker_target *t, const char *what)
{
	char reason[96];

	slb_tls_error_string(reason, sizeof(reason));
	snprintf(t->why, sizeof(t->why), "%s%s%s", what, reason[0] ? ": " : "", reason);
	return CHECK_FAIL;
}

static enum check_result want(enum slb_tls_io io)
{
	return io == SLB_TLS_WANT_WRITE ? CHECK_WANT_WRITE : CHECK_WANT_READ;
}

/* The response head is in: is its status one of the group's? */
static enum check_result judge(struct checker_target *t, size_t head_len)
{
	struct http_probe *p = t->http;

	if (slb_http_parse_response(p->response, head_len, &slb_http_default_limits,
				    t->group->check_method == SLB_CHECK_HEAD ? SLB_HTTP_M_HEAD
									     : SLB_HTTP_M_GET,
				    &parsed) != 0)
		return fail(t, "not an HTTP response");
	if (!(t->group->check_codes & (1u << (parsed.status / 100)))) {
		snprintf(t->why, sizeof(t->why), "HTTP status %u", parsed.status);
		return CHECK_FAIL;
	}
	return CHECK_PASS;
}

/*
 * The head of <head_len> bytes is an interim response (1xx other than 101,
 * e.g. 103 Early Hints): drops it from the buffer and starts scanning the
 * bytes after it, as RFC 9110 15.2 asks of every client. Its final
 * response is the one judged.
 */
static bool skip_interim(struct http_probe *p, size_t head_len)
{
	if (slb_http_parse_response(p->response, head_len, &slb_http_default_limits,
				    SLB_HTTP_M_GET, &parsed) != 0 ||
	    parsed.status >= 200 || parsed.status == 101)
		return false;
	memmove(p->response, p->response + head_len, p->received - head_len);
	p->received -= head_len;
	memset(&p->scan, 0, sizeof(p->scan));
	return true;
}

static enum check_result receive(struct checker_target *t)
{
	struct http_probe *p = t->http;

	for (;;) {
		size_t room = sizeof(p->response) - p->received, n = 0;
		long head;

		if (room == 0)
			return fail(t, "response head over 4 KiB");
		if (p->ssl) {
			enum slb_tls_io io = slb_tls_read(p->ssl, p->response + p->received, room, &n);

			if (io == SLB_TLS_CLOSED)
				return fail(t, "closed before a response");
			if (io == SLB_TLS_ERROR)
				return tls_fail(t, "TLS read failed");
			if (io != SLB_TLS_OK)
				return want(io);
		} else {
			ssize_t r = read(t->fd, p->response + p->received, room);

			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				return CHECK_WANT_READ;
			if (r == -1) {
				t->last_errno = errno;
				return CHECK_FAIL;
			}
			if (r == 0)
				return fail(t, "closed before a response");
			n = (size_t)r;
		}
		p->received += n;
		do
			head = slb_http_scan_head(&p->scan, p->response, p->received,
						  &slb_http_default_limits, false);
		while (head > 0 && skip_interim(p, (size_t)head));
		if (head < 0)
			return fail(t, "not an HTTP response");
		if (head > 0)
			return judge(t, (size_t)head);
	}
}

static enum check_result send_request(struct checker_target *t)
{
	struct http_probe *p = t->http;

	while (p->sent < p->request_len) {
		size_t n = 0;

		if (p->ssl) {
			enum slb_tls_io io = slb_tls_write(p->ssl, p->request + p->sent,
							   p->request_len - p->sent, &n);

			if (io == SLB_TLS_ERROR || io == SLB_TLS_CLOSED)
				return tls_fail(t, "TLS write failed");
			if (io != SLB_TLS_OK)
				return want(io);
		} else {
			ssize_t r = send(t->fd, p->request + p->sent, p->request_len - p->sent,
					 MSG_NOSIGNAL);

			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				return CHECK_WANT_WRITE;
			if (r == -1) {
				t->last_errno = errno;
				return CHECK_FAIL;
			}
			n = (size_t)r;
		}
		p->sent += n;
	}
	p->state = P_RECEIVING;
	return receive(t);
}

enum check_result http_check_step(struct checker_target *t)
{
	struct http_probe *p = t->http;
	enum slb_tls_io io;

	switch (p->state) {
	case P_CONNECTING:
		if (!tcp_check_finish(t))
			return CHECK_FAIL;
		p->sent = p->received = 0;
		memset(&p->scan, 0, sizeof(p->scan));
		if (!p->tls) {
			p->state = P_SENDING;
			return send_request(t);
		}
		p->ssl = slb_tls_client_ssl(p->tls, t->fd, t->group->check_host);
		if (!p->ssl)
			return tls_fail(t, "TLS setup failed");
		p->state = P_HANDSHAKE;
		/* fall through */
	case P_HANDSHAKE:
		io = slb_tls_handshake(p->ssl);
		if (io == SLB_TLS_ERROR || io == SLB_TLS_CLOSED)
			return tls_fail(t, "TLS handshake failed");
		if (io != SLB_TLS_OK)
			return want(io);
		p->state = P_SENDING;
		/* fall through */
	case P_SENDING:
		return send_request(t);
	case P_RECEIVING:
		return receive(t);
	}
	return CHECK_FAIL;
}

void http_check_end(struct checker_target *t)
{
	if (!t->http)
		return;
	SSL_free(t->http->ssl);
	t->http->ssl = NULL;
	t->http->state = P_CONNECTING;
}

void http_check_free(struct checker_target *t)
{
	http_check_end(t);
	free(t->http);
	t->http = NULL;
}
