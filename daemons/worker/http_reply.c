/*
 * http_reply.c - error responses and the access log.
 *
 * Error bodies are one line, "<status> <reason>\n", text/plain: small, the
 * same shape for every error, nothing about the servers behind.
 */
#include "http_reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *reason(unsigned status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 463: return "Loop Detected";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

void http_reply_error(struct http_buf *out, unsigned status)
{
	char body[64];
	int blen = snprintf(body, sizeof(body), "%u %s\n", status, reason(status));
	int n;

	if (http_buf_ensure(out) == -1)
		return;
	n = snprintf(out->data + out->end, HTTP_BUF_SIZE - out->end,
		     "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
		     "Connection: close\r\n\r\n%s",
		     status, reason(status), blen, body);
	if (n > 0 && (size_t)n < HTTP_BUF_SIZE - out->end)
		out->end += (uint32_t)n;
}

void http_reply_redirect(struct http_buf *out, const char *location)
{
	int n;

	if (http_buf_ensure(out) == -1)
		return;
	n = snprintf(out->data + out->end, HTTP_BUF_SIZE - out->end,
		     "HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\nContent-Length: 0\r\n"
		     "Connection: close\r\n\r\n",
		     location);
	if (n > 0 && (size_t)n < HTTP_BUF_SIZE - out->end)
		out->end += (uint32_t)n;
}

/* Copies <n> bytes of <p> into <dst> (<size>), printable ASCII only. */
static void copy_printable(char *dst, size_t size, const char *p, size_t n)
{
	size_t i;

	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? p[i] : '?';
	dst[i] = '\0';
}

void http_log_request(struct http_conn *c, const struct slb_http_msg *m)
{
	const char *line = m->method;
	size_t len = (size_t)(m->target + m->target_len - line) + 9; /* " HTTP/1.x" */

	if (!slb_log_enabled(LOG_INFO))
		return;
	copy_printable(c->log_reqline, sizeof(c->log_reqline), line, len);
	if (m->host >= 0)
		copy_printable(c->log_host, sizeof(c->log_host), m->headers[m->host].value,
			       m->headers[m->host].value_len);
	else
		strcpy(c->log_host, "-");
}

void http_log_transaction(const struct http_conn *c, const char *server, size_t pending,
			  uint64_t now_ms)
{
	if (!slb_log_enabled(LOG_INFO))
		return;
	slb_info("http %s %s \"%s\" \"%s\" %u %" PRIu64 " %s upstream=%" PRIu64 "ms total=%" PRIu64
		 "ms",
		 c->l->conf->name, c->client_ip, c->log_host[0] ? c->log_host : "-",
		 c->log_reqline[0] ? c->log_reqline : "-", c->status, c->bytes_out + pending, server,
		 c->t_response_ms && c->t_sent_ms ? c->t_response_ms - c->t_sent_ms : 0,
		 now_ms - c->t_start_ms);
}
