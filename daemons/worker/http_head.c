/*
 * http_head.c - writing forwarded heads. Every field is written as
 * "Name: value" with the value the parser trimmed; nothing of the original
 * spacing or framing survives.
 */
#include "http_head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Appends to a buffer's room, remembering whether anything did not fit. */
struct writer {
	char *p;
	size_t room;
	bool full;
};

static void put(struct writer *wr, const char *s, size_t n)
{
	if (n == 0)
		return; /* <s> may be NULL then */
	if (n > wr->room) {
		wr->full = true;
		return;
	}
	memcpy(wr->p, s, n);
	wr->p += n;
	wr->room -= n;
}

static void puts_(struct writer *wr, const char *s)
{
	put(wr, s, strlen(s));
}

/* The most frequent write: one room check for the whole line. */
static void put_field(struct writer *wr, const struct slb_http_header *h)
{
	size_t n = (size_t)h->name_len + h->value_len + 4;
	char *p = wr->p;

	if (n > wr->room) {
		wr->full = true;
		return;
	}
	memcpy(p, h->name, h->name_len);
	p += h->name_len;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, h->value, h->value_len);
	p += h->value_len;
	*p++ = '\r';
	*p++ = '\n';
	wr->p = p;
	wr->room -= n;
}

/* "Name: v1, v2, <last>\r\n": every <field> of <m> joined, then <last>. */
static void put_list(struct writer *wr, const char *name, const struct slb_http_msg *m,
		     enum slb_http_field field, const char *last)
{
	puts_(wr, name);
	put(wr, ": ", 2);
	for (unsigned i = 0; i < m->nheaders; i++) {
		const struct slb_http_header *h = &m->headers[i];

		if (h->field != field || h->value_len == 0)
			continue;
		put(wr, h->value, h->value_len);
		put(wr, ", ", 2);
	}
	puts_(wr, last);
	put(wr, "\r\n", 2);
}

/*
 * A field whose value is written in place, straight into the room (no copy,
 * no bound of its own): where the value of a field named <name_len> bytes
 * goes, with how much of it fits in <*room>; NULL when not even the name does.
 */
static char *value_slot(const struct writer *wr, size_t name_len, size_t *room)
{
	size_t head = name_len + 2;

	if (wr->room < head + 2)
		return NULL;
	*room = wr->room - head - 2;
	return wr->p + head;
}

/* Completes a field whose <n> value bytes went to value_slot(); n < 0: they did not fit. */
static void value_written(struct writer *wr, const char *name, size_t name_len, long n)
{
	if (n < 0) {
		wr->full = true;
		return;
	}
	memcpy(wr->p, name, name_len);
	memcpy(wr->p + name_len, ": ", 2);
	wr->p += name_len + 2 + (size_t)n;
	wr->room -= name_len + 2 + (size_t)n;
	put(wr, "\r\n", 2);
}

/* "Cookie: " and what slb_cookie_request_forward() makes of <m>'s Cookie fields, if anything. */
static void put_cookie(struct writer *wr, const struct slb_http_msg *m,
		       const struct http_forward *fwd)
{
	size_t room;
	char *slot = value_slot(wr, 6, &room);
	long n = slot ? slb_cookie_request_forward(m, fwd->cookie, fwd->cookie_mode, slot, room) : -1;

	if (n != 0)
		value_written(wr, "Cookie", 6, n);
}

/* <n> in decimal: heads are written on every request, and printf costs more than all the rest of one. */
static void put_decimal(struct writer *wr, uint64_t n)
{
	char digits[20], *d = digits + sizeof(digits);

	do {
		*--d = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	put(wr, d, (size_t)(digits + sizeof(digits) - d));
}

/* "Content-Length: <n>": slb's own, for the length it parsed and frames the body by. */
static void put_content_length(struct writer *wr, uint64_t n)
{
	put(wr, "Content-Length: ", 16);
	put_decimal(wr, n);
	put(wr, "\r\n", 2);
}

static int finish(struct http_buf *out, struct writer *wr, char *start)
{
	if (wr->full)
		return -1;
	out->end += (uint32_t)(wr->p - start);
	return 0;
}

/* Hop-by-hop, so dropped with the rest and written again where an upgrade goes on. */
#define UPGRADE_FIELDS "Connection: upgrade\r\nUpgrade: websocket\r\n"

/* Fields slb writes itself towards the server (when x_forwarded is on). */
static bool replaced_field(enum slb_http_field f, bool x_forwarded)
{
	switch (f) {
	case SLB_HTTP_F_CONTENT_LENGTH:
	case SLB_HTTP_F_X_SLB_TRACE:
		return true;
	case SLB_HTTP_F_X_FORWARDED_FOR:
	case SLB_HTTP_F_X_FORWARDED_PROTO:
	case SLB_HTTP_F_X_FORWARDED_PORT:
	case SLB_HTTP_F_X_REAL_IP:
		return x_forwarded;
	default:
		return false;
	}
}

int http_head_request(struct http_buf *out, size_t room, const struct slb_http_msg *m,
		      const struct http_forward *fwd)
{
	char *start = out->data + out->end;
	struct writer wr = { .p = start, .room = room };
	bool had_length = false;

	put(&wr, m->method, m->method_len);
	put(&wr, " ", 1);
	put(&wr, m->target, m->target_len);
	put(&wr, " HTTP/1.1\r\n", 11);
	if (m->host < 0) {
		/* An HTTP/1.0 request without one: the target's authority, if it has one. */
		put(&wr, "Host: ", 6);
		put(&wr, m->authority, m->authority_len);
		put(&wr, "\r\n", 2);
	}
	for (unsigned i = 0; i < m->nheaders; i++) {
		const struct slb_http_header *h = &m->headers[i];

		had_length |= h->field == SLB_HTTP_F_CONTENT_LENGTH;
		if (fwd->cookie && h->field == SLB_HTTP_F_COOKIE)
			continue;
		if (!h->hop && !replaced_field(h->field, fwd->x_forwarded))
			put_field(&wr, h);
	}
	if (fwd->cookie)
		put_cookie(&wr, m, fwd);
	if (m->framing == SLB_HTTP_BODY_CHUNKED) {
		puts_(&wr, "Transfer-Encoding: chunked\r\n");
	} else if (m->framing == SLB_HTTP_BODY_LENGTH || had_length) {
		put_content_length(&wr, m->content_length);
	}
	if (fwd->x_forwarded) {
		put_list(&wr, "X-Forwarded-For", m, SLB_HTTP_F_X_FORWARDED_FOR, fwd->client_ip);
		puts_(&wr, "X-Forwarded-Proto: ");
		puts_(&wr, fwd->proto);
		puts_(&wr, "\r\nX-Forwarded-Port: ");
		put_decimal(&wr, fwd->port);
		puts_(&wr, "\r\nX-Real-IP: ");
		puts_(&wr, fwd->client_ip);
		put(&wr, "\r\n", 2);
	}
	put_list(&wr, "X-SLB-Trace", m, SLB_HTTP_F_X_SLB_TRACE, fwd->node);
	if (fwd->upgrade)
		puts_(&wr, UPGRADE_FIELDS);
	put(&wr, "\r\n", 2);
	return finish(out, &wr, start);
}

/* Writes response field <h>, or what <edit> makes of it, in place. */
static void put_response_field(struct writer *wr, const struct slb_http_header *h,
			       const struct http_response_edit *edit)
{
	size_t room;
	char *slot;
	long n;

	if (!edit || !edit->rewrite || h->field != SLB_HTTP_F_SET_COOKIE) {
		put_field(wr, h);
		return;
	}
	slot = value_slot(wr, h->name_len, &room);
	n = slot ? edit->rewrite(edit->arg, h, slot, room) : -1;
	if (n == 0)
		put_field(wr, h); /* nothing to change: as the server wrote it */
	else
		value_written(wr, h->name, h->name_len, n);
}

int http_head_response(struct http_buf *out, size_t room, const struct slb_http_msg *m,
		       bool chunked, bool keep_alive, unsigned client_minor,
		       const struct http_response_edit *edit)
{
	char *start = out->data + out->end;
	struct writer wr = { .p = start, .room = room };
	bool had_length = false;
	/* The parser let only three digits through. */
	char line[] = { 'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', (char)('0' + m->status / 100),
			(char)('0' + m->status / 10 % 10), (char)('0' + m->status % 10), ' ' };

	put(&wr, line, sizeof(line));
	put(&wr, m->reason, m->reason_len);
	put(&wr, "\r\n", 2);
	for (unsigned i = 0; i < m->nheaders; i++) {
		const struct slb_http_header *h = &m->headers[i];

		had_length |= h->field == SLB_HTTP_F_CONTENT_LENGTH;
		if (h->hop || h->field == SLB_HTTP_F_CONTENT_LENGTH)
			continue;
		/* the server's byte ranges are not ranges of the compressed bytes (as nginx) */
		if (edit && edit->gzip && slb_http_name_is(h, "accept-ranges"))
			continue;
		if (edit && edit->gzip && slb_http_name_is(h, "etag") && h->value_len &&
		    h->value[0] == '"') {
			/* other bytes than the server's: at most weakly the same entity */
			puts_(&wr, "ETag: W/");
			put(&wr, h->value, h->value_len);
			put(&wr, "\r\n", 2);
			continue;
		}
		put_response_field(&wr, h, edit);
	}
	/*
	 * One Content-Length, the one slb frames the body by (a list or repeats
	 * folded; for HEAD and 304 the length not sent), none where RFC 9110 8.6
	 * forbids one (1xx, 204: a client that believed it would wait for a
	 * body) or where slb changes the body's length (gzip).
	 */
	if (had_length && m->status >= 200 && m->status != 204 && !(edit && edit->gzip))
		put_content_length(&wr, m->content_length);
	if (edit && edit->gzip)
		puts_(&wr, "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
	if (edit && edit->set_cookie) {
		puts_(&wr, "Set-Cookie: ");
		put(&wr, edit->set_cookie, edit->set_cookie_len);
		put(&wr, "\r\n", 2);
	}
	if (m->status >= 200) {
		if (chunked)
			puts_(&wr, "Transfer-Encoding: chunked\r\n");
		if (!keep_alive)
			puts_(&wr, "Connection: close\r\n");
		else if (client_minor == 0)
			puts_(&wr, "Connection: keep-alive\r\n");
	} else if (m->status == 101) {
		puts_(&wr, UPGRADE_FIELDS); /* the proxy lets only a WebSocket upgrade through */
	}
	put(&wr, "\r\n", 2);
	return finish(out, &wr, start);
}

bool http_head_is_websocket(const struct slb_http_msg *m)
{
	unsigned upgrades = 0;
	bool websocket = false;

	if (!m->upgrade || m->method_id != SLB_HTTP_M_GET || m->minor < 1)
		return false;
	for (unsigned i = 0; i < m->nheaders; i++) {
		const struct slb_http_header *h = &m->headers[i];

		if (h->field != SLB_HTTP_F_UPGRADE)
			continue;
		upgrades++;
		websocket = h->value_len == 9 && strncasecmp(h->value, "websocket", 9) == 0;
	}
	return upgrades == 1 && websocket;
}

bool http_head_trace_has(const struct slb_http_msg *m, const char *node)
{
	size_t len = strlen(node);

	for (unsigned i = 0; i < m->nheaders; i++) {
		const struct slb_http_header *h = &m->headers[i];
		const char *v = h->value, *end = h->value + h->value_len;

		if (h->field != SLB_HTTP_F_X_SLB_TRACE)
			continue;
		while (v < end) {
			const char *comma = memchr(v, ',', (size_t)(end - v));
			const char *e = comma ? comma : end;
			const char *a = v, *b = e;

			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			if ((size_t)(b - a) == len && strncasecmp(a, node, len) == 0)
				return true;
			v = comma ? comma + 1 : end;
		}
	}
	return false;
}
