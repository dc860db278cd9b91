/*
 * http_parser.c - strict HTTP/1.1 head parsing and chunked decoding
 * (RFC 9112). See http_parser.h for the contract.
 *
 * Two passes over a head, both cheap: slb_http_scan_head() only looks for
 * line ends (memchr) as bytes arrive, so a head that comes in many reads is
 * not re-parsed each time; the parse proper runs once over a complete head
 * and checks every byte against the grammar's character classes. Field
 * values, most of a head's bytes, are checked eight at a time, and the
 * check that finds a value's end is the one that finds its line's end.
 */
#include "http_parser.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

const struct slb_http_limits slb_http_default_limits = {
	.max_line = 8192,
	.max_head = 16384,
	.max_headers = SLB_HTTP_MAX_HEADERS,
};

/* Empty lines tolerated before a request line (RFC 9112 2.2: at least one). */
#define MAX_LEADING_EMPTY_BYTES 8
#define MAX_CHUNK_LINE 4096
#define MAX_TRAILER 16384
#define MAX_CL_DIGITS 18 /* below 2^63: no overflow */

enum {
	C_TCHAR = 1, /* token character */
	C_VCHAR = 2, /* visible character or obs-text: field values, targets */
	C_WS = 4, /* SP, HTAB */
	C_HEX = 8,
};

#define TCHAR_VCHAR (C_TCHAR | C_VCHAR)
static const uint8_t cclass[256] = {
	['\t'] = C_WS, [' '] = C_WS,
	['!'] = TCHAR_VCHAR, ['"'] = C_VCHAR, ['#' ... '\''] = TCHAR_VCHAR,
	['('] = C_VCHAR, [')'] = C_VCHAR, ['*'] = TCHAR_VCHAR, ['+'] = TCHAR_VCHAR,
	[','] = C_VCHAR, ['-'] = TCHAR_VCHAR, ['.'] = TCHAR_VCHAR, ['/'] = C_VCHAR,
	['0' ... '9'] = TCHAR_VCHAR | C_HEX, [':' ... '@'] = C_VCHAR,
	['A' ... 'F'] = TCHAR_VCHAR | C_HEX, ['G' ... 'Z'] = TCHAR_VCHAR,
	['['] = C_VCHAR, ['\\'] = C_VCHAR, [']'] = C_VCHAR, ['^'] = TCHAR_VCHAR,
	['_'] = TCHAR_VCHAR, ['`'] = TCHAR_VCHAR,
	['a' ... 'f'] = TCHAR_VCHAR | C_HEX, ['g' ... 'z'] = TCHAR_VCHAR,
	['{'] = C_VCHAR, ['|'] = TCHAR_VCHAR, ['}'] = C_VCHAR, ['~'] = TCHAR_VCHAR,
	[0x80 ... 0xff] = C_VCHAR,
};

static inline bool is_class(unsigned char c, uint8_t cls)
{
	return (cclass[c] & cls) != 0;
}

#define BYTES_OF(b) (0x0101010101010101ULL * (b))

/*
 * The high bit of each byte of <w> that is a control (below SP) or DEL.
 * A borrow can only mark a byte above one rightly marked, so the first
 * marked byte is exact.
 */
static inline uint64_t controls_in_word(uint64_t w)
{
	uint64_t del = w ^ BYTES_OF(0x7f);

	return (((w - BYTES_OF(0x20)) & ~w) | ((del - BYTES_OF(0x01)) & ~del)) & BYTES_OF(0x80);
}

/* Index of the first byte (in memory order) of a word whose high bit is set in <marks>. */
static inline unsigned first_marked_byte(uint64_t marks)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (unsigned)__builtin_ctzll(marks) / 8;
#else
	return (unsigned)__builtin_clzll(marks) / 8;
#endif
}

/*
 * The end of a run of field-value bytes (VCHAR, obs-text, SP, HTAB) from
 * <p>: the first other byte, which on a valid line is the CR of its CRLF,
 * or <end>.
 */
static const char *field_chars_end(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t w, marks;

		memcpy(&w, p, sizeof(w));
		marks = controls_in_word(w);
		if (!marks) {
			p += 8;
			continue;
		}
		p += first_marked_byte(marks);
		if (*p != '\t')
			return p;
		p++; /* a tab belongs to the value: go on after it */
	}
	while (p < end && is_class((unsigned char)*p, C_VCHAR | C_WS))
		p++;
	return p;
}

long slb_http_scan_head(struct slb_http_scan *scan, const char *buf, size_t len,
			const struct slb_http_limits *lim, bool is_request)
{
	size_t i = scan->pos;

	while (i < len) {
		const char *lf = memchr(buf + i, '\n', len - i);
		size_t end;

		if (!lf)
			break;
		end = (size_t)(lf - buf);
		if (end == 0 || buf[end - 1] != '\r')
			return -400; /* bare LF */
		if (end - 1 == scan->line_start) {
			if (scan->lines > 0) {
				if (end + 1 - scan->head_start > lim->max_head)
					return -431;
				scan->pos = end + 1;
				return (long)(end + 1);
			}
			if (end + 1 > MAX_LEADING_EMPTY_BYTES)
				return -400;
			scan->head_start = end + 1;
		} else {
			if (scan->lines == 0 && is_request && end - 1 - scan->line_start > lim->max_line)
				return -414;
			scan->lines++;
		}
		scan->line_start = end + 1;
		i = end + 1;
		if (i - scan->head_start > lim->max_head)
			return -431;
	}
	scan->pos = len;
	/* The CR of a line end may already be in: allow one byte more. */
	if (scan->lines == 0 && is_request && len - scan->line_start > lim->max_line + 1)
		return -414;
	if (len - scan->head_start > lim->max_head)
		return -431;
	return 0;
}

bool slb_http_name_is(const struct slb_http_header *h, const char *name)
{
	return strlen(name) == h->name_len && strncasecmp(h->name, name, h->name_len) == 0;
}

static bool token_is(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

#define FIELD(n, f, hop) { n, sizeof(n) - 1, f, hop }
static const struct {
	const char *name;
	uint32_t len;
	enum slb_http_field field;
	bool hop;
} known_fields[] = {
	FIELD("Host", SLB_HTTP_F_HOST, false),
	FIELD("Content-Length", SLB_HTTP_F_CONTENT_LENGTH, false),
	FIELD("Transfer-Encoding", SLB_HTTP_F_TRANSFER_ENCODING, true),
	FIELD("Connection", SLB_HTTP_F_CONNECTION, true),
	FIELD("Keep-Alive", SLB_HTTP_F_KEEP_ALIVE, true),
	FIELD("Proxy-Connection", SLB_HTTP_F_PROXY_CONNECTION, true),
	FIELD("TE", SLB_HTTP_F_TE, true),
	FIELD("Upgrade", SLB_HTTP_F_UPGRADE, true),
	FIELD("Expect", SLB_HTTP_F_EXPECT, false),
	FIELD("X-Forwarded-For", SLB_HTTP_F_X_FORWARDED_FOR, false),
	FIELD("X-Forwarded-Proto", SLB_HTTP_F_X_FORWARDED_PROTO, false),
	FIELD("X-Forwarded-Port", SLB_HTTP_F_X_FORWARDED_PORT, false),
	FIELD("X-Real-IP", SLB_HTTP_F_X_REAL_IP, false),
	FIELD("X-SLB-Trace", SLB_HTTP_F_X_SLB_TRACE, false),
	FIELD("Cookie", SLB_HTTP_F_COOKIE, false),
	FIELD("Set-Cookie", SLB_HTTP_F_SET_COOKIE, false),
};

#define KNOWN_FIELDS (sizeof(known_fields) / sizeof(known_fields[0]))
#define KNOWN_NAME_MAX 17 /* the longest name in known_fields */

/*
 * No two known names share a length and a first letter, so that pair
 * picks the one name a field can be: its index in known_fields plus one,
 * or 0. Filled at load from the table above.
 */
static uint8_t known_by_shape[KNOWN_NAME_MAX + 1][26];

__attribute__((constructor)) static void index_known_fields(void)
{
	for (size_t i = 0; i < KNOWN_FIELDS; i++)
		known_by_shape[known_fields[i].len][(known_fields[i].name[0] | 0x20) - 'a'] =
			(uint8_t)(i + 1);
}

/*
 * <name> is <known> with '_' for one '-' or more (letters in any case; the
 * known names hold only letters and '-'). A CGI-style server maps both to
 * one variable (HTTP_X_FORWARDED_FOR), so the client's field would stand for
 * the one slb writes (Puma's CVE-2024-45614); nginx drops such fields too.
 */
static bool underscore_lookalike(const char *name, const char *known, size_t len)
{
	bool underscore = false;

	for (size_t i = 0; i < len; i++) {
		if (name[i] == '_' && known[i] == '-')
			underscore = true;
		else if ((name[i] | 0x20) != (known[i] | 0x20))
			return false;
	}
	return underscore;
}

/* Runs for every field of every head: one string compare at most, two for a lookalike. */
static void classify(struct slb_http_header *h)
{
	unsigned letter = ((unsigned)(unsigned char)h->name[0] | 0x20) - 'a';
	unsigned known;

	h->field = SLB_HTTP_F_OTHER;
	h->hop = false;
	if (h->name_len > KNOWN_NAME_MAX || letter >= 26)
		return;
	known = known_by_shape[h->name_len][letter];
	if (!known)
		return;
	if (strncasecmp(h->name, known_fields[known - 1].name, h->name_len) == 0) {
		h->field = known_fields[known - 1].field;
		h->hop = known_fields[known - 1].hop;
	} else {
		h->hop = underscore_lookalike(h->name, known_fields[known - 1].name, h->name_len);
	}
}

/*
 * Calls <fn> for each non-empty element of a comma-separated list value
 * (RFC 9110 5.6.1), trimmed. Stops at and returns <fn>'s first non-zero.
 */
static int each_element(const char *v, size_t len, int (*fn)(const char *, size_t, void *),
			void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;
		int rc;

		while (i < len && (v[i] == ',' || is_class((unsigned char)v[i], C_WS)))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && is_class((unsigned char)v[end - 1], C_WS))
			end--;
		if (end > start && (rc = fn(v + start, end - start, arg)) != 0)
			return rc;
	}
	return 0;
}

struct semantics {
	struct slb_http_msg *msg;
	bool is_request;
	unsigned cl_values; /* elements of Content-Length fields: 0 = none */
	bool have_te;
	unsigned chunked; /* "chunked" elements in Transfer-Encoding */
	unsigned other_codings;
	bool conn_close;
	bool conn_keep_alive;
	bool conn_upgrade;
	bool have_upgrade;
};

static int cl_element(const char *p, size_t len, void *arg)
{
	struct semantics *s = arg;
	uint64_t v = 0;

	if (len > MAX_CL_DIGITS)
		return 400;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 400;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (s->cl_values && v != s->msg->content_length)
		return 400;
	s->cl_values++;
	s->msg->content_length = v;
	return 0;
}

static int te_element(const char *p, size_t len, void *arg)
{
	struct semantics *s = arg;

	if (token_is(p, len, "chunked"))
		s->chunked++;
	else
		s->other_codings++;
	return 0;
}

static int connection_element(const char *p, size_t len, void *arg)
{
	struct semantics *s = arg;
	struct slb_http_msg *msg = s->msg;

	if (token_is(p, len, "close"))
		s->conn_close = true;
	else if (token_is(p, len, "keep-alive"))
		s->conn_keep_alive = true;
	else if (token_is(p, len, "upgrade"))
		s->conn_upgrade = true;
	/*
	 * Fields named by Connection are hop-by-hop, except those the proxy
	 * frames, routes or adds by: Connection must not remove them.
	 */
	for (unsigned i = 0; i < msg->nheaders; i++) {
		struct slb_http_header *h = &msg->headers[i];

		if (h->field == SLB_HTTP_F_OTHER && h->name_len == len &&
		    strncasecmp(h->name, p, len) == 0)
			h->hop = true;
	}
	return 0;
}

/* unreserved and sub-delims: a reg-name's bytes besides pct-encoding, an IP literal's besides ':' */
static const bool host_char[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['-'] = true,
	['.'] = true, ['_'] = true, ['~'] = true, ['!'] = true, ['$'] = true, ['&'] = true,
	['\''] = true, ['('] = true, [')'] = true, ['*'] = true, ['+'] = true, [','] = true,
	[';'] = true, ['='] = true,
};

/*
 * uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2): an IP-literal in
 * brackets, or a reg-name (IPv4 addresses are among them), then digits
 * after one colon. Anything else would let slb's routing (which stops at
 * the first colon) and the server read different hosts out of one field.
 */
static bool host_valid(const char *v, size_t len)
{
	size_t i = 0;

	if (len && v[0] == '[') {
		/* IPv6address or IPvFuture: hex digits, dots, colons, a "v" and sub-delims */
		for (i = 1; i < len && v[i] != ']'; i++)
			if (v[i] != ':' && !host_char[(unsigned char)v[i]])
				return false;
		if (i++ == len)
			return false;
	} else {
		for (; i < len && v[i] != ':'; i++) {
			if (v[i] == '%') {
				if (i + 2 >= len || !is_class((unsigned char)v[i + 1], C_HEX) ||
				    !is_class((unsigned char)v[i + 2], C_HEX))
					return false;
				i += 2;
			} else if (!host_char[(unsigned char)v[i]]) {
				return false;
			}
		}
	}
	if (i < len && v[i++] != ':')
		return false;
	for (; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* Field-level rules shared by requests and responses; returns 0 or a status. */
static int apply_fields(struct semantics *s)
{
	struct slb_http_msg *msg = s->msg;
	int bad = s->is_request ? 400 : SLB_HTTP_BAD_RESPONSE;

	msg->host = -1;
	for (unsigned i = 0; i < msg->nheaders; i++) {
		struct slb_http_header *h = &msg->headers[i];

		switch (h->field) {
		case SLB_HTTP_F_HOST:
			if (!s->is_request)
				break; /* a request's field (RFC 9110 7.2): in a response, any other */
			if (msg->host >= 0 || !host_valid(h->value, h->value_len))
				return bad;
			msg->host = (int)i;
			break;
		case SLB_HTTP_F_CONTENT_LENGTH: {
			unsigned before = s->cl_values;

			/* each field holds a length: "" and "," are none, not 0 */
			if (each_element(h->value, h->value_len, cl_element, s) || s->cl_values == before)
				return bad;
			break;
		}
		case SLB_HTTP_F_TRANSFER_ENCODING:
			s->have_te = true;
			each_element(h->value, h->value_len, te_element, s);
			break;
		case SLB_HTTP_F_CONNECTION:
			each_element(h->value, h->value_len, connection_element, s);
			break;
		case SLB_HTTP_F_UPGRADE:
			s->have_upgrade = true;
			break;
		case SLB_HTTP_F_EXPECT:
			if (token_is(h->value, h->value_len, "100-continue"))
				msg->expect_continue = true;
			break;
		default:
			break;
		}
	}
	if (s->have_te) {
		if (s->cl_values || msg->minor == 0 || s->chunked > 1 ||
		    (s->chunked == 0 && s->other_codings == 0))
			return bad;
		if (s->other_codings)
			return s->is_request ? 501 : bad;
	}
	msg->keep_alive = msg->minor >= 1 ? !s->conn_close : s->conn_keep_alive && !s->conn_close;
	msg->upgrade = s->conn_upgrade && s->have_upgrade;
	if (s->have_te)
		msg->framing = SLB_HTTP_BODY_CHUNKED;
	else if (s->cl_values && msg->content_length > 0)
		msg->framing = SLB_HTTP_BODY_LENGTH;
	else
		msg->framing = SLB_HTTP_BODY_NONE;
	return 0;
}

/* Splits header lines from <p> up to the empty line that ends the head. */
static int parse_fields(const char *p, const char *end, const struct slb_http_limits *lim,
			struct slb_http_msg *msg, int bad)
{
	msg->nheaders = 0;
	for (;;) {
		const char *q = p, *eol;
		struct slb_http_header *h;

		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return 0;
		if (msg->nheaders >= lim->max_headers || msg->nheaders >= SLB_HTTP_MAX_HEADERS)
			return bad == 400 ? 431 : bad;
		/* A line starting with whitespace is obs-fold (or hides a name). */
		while (q < end && is_class((unsigned char)*q, C_TCHAR))
			q++;
		if (q == p || q == end || *q != ':')
			return bad;
		h = &msg->headers[msg->nheaders++];
		h->name = p;
		h->name_len = (uint32_t)(q - p);
		q++;
		while (q < end && is_class((unsigned char)*q, C_WS))
			q++;
		h->value = q;
		eol = field_chars_end(q, end);
		if (end - eol < 2 || eol[0] != '\r' || eol[1] != '\n')
			return bad; /* a control byte, or a bare CR, inside a line */
		for (q = eol; q > h->value && is_class((unsigned char)q[-1], C_WS);)
			q--;
		h->value_len = (uint32_t)(q - h->value);
		classify(h);
		p = eol + 2;
	}
}

static const char *skip_leading_empty_lines(const char *p, const char *end)
{
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	return p;
}

/* "HTTP/1.x" at <p>: sets msg->minor; returns the status to fail with, or 0. */
static int parse_version(const char *p, size_t len, struct slb_http_msg *msg, int bad)
{
	if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
	    p[7] < '0' || p[7] > '9')
		return bad;
	if (p[5] != '1')
		return bad == 400 ? 505 : bad;
	msg->minor = p[7] == '0' ? 0 : 1;
	return 0;
}

static const struct {
	const char *name;
	enum slb_http_method id;
} methods[] = {
	{ "GET", SLB_HTTP_M_GET }, { "HEAD", SLB_HTTP_M_HEAD },
	{ "POST", SLB_HTTP_M_POST }, { "PUT", SLB_HTTP_M_PUT },
	{ "DELETE", SLB_HTTP_M_DELETE }, { "OPTIONS", SLB_HTTP_M_OPTIONS },
	{ "CONNECT", SLB_HTTP_M_CONNECT },
};

static enum slb_http_method method_id(const char *p, size_t len)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == len && memcmp(methods[i].name, p, len) == 0)
			return methods[i].id;
	return SLB_HTTP_M_OTHER;
}

static bool target_valid(const struct slb_http_msg *msg)
{
	const char *t = msg->target;
	size_t n = msg->target_len;

	if (t[0] == '/')
		return true;
	if (n == 1 && t[0] == '*')
		return msg->method_id == SLB_HTTP_M_OPTIONS;
	return (n > 7 && strncasecmp(t, "http://", 7) == 0) ||
	       (n > 8 && strncasecmp(t, "https://", 8) == 0);
}

/*
 * An absolute-form target ("http://host:port/path") names the host itself;
 * a Host field that says otherwise would let routing (by Host) and the
 * server (by the target) disagree, so both must name the same authority,
 * and one without userinfo (RFC 9110 4.2.4).
 */
static bool authority_agrees(struct slb_http_msg *msg)
{
	const char *t = msg->target, *end = t + msg->target_len, *a, *e;
	const struct slb_http_header *host;

	if (t[0] == '/' || t[0] == '*')
		return true;
	a = memchr(t, ':', msg->target_len) + 3; /* target_valid() saw "://" */
	for (e = a; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		if (*e == '@')
			return false;
	if (e == a || !host_valid(a, (size_t)(e - a)))
		return false;
	msg->authority = a;
	msg->authority_len = (uint32_t)(e - a);
	if (msg->host < 0)
		return true; /* HTTP/1.0: the target alone names the host */
	host = &msg->headers[msg->host];
	return host->value_len == (size_t)(e - a) && strncasecmp(host->value, a, host->value_len) == 0;
}

int slb_http_parse_request(const char *buf, size_t head_len, const struct slb_http_limits *lim,
			   struct slb_http_msg *msg)
{
	const char *end = buf + head_len;
	const char *p = skip_leading_empty_lines(buf, end);
	const char *eol = memchr(p, '\r', (size_t)(end - p));
	const char *q = p;
	struct semantics s = { .msg = msg, .is_request = true };
	int rc;

	memset(msg, 0, offsetof(struct slb_http_msg, headers));
	msg->head_len = head_len;
	msg->line_off = (size_t)(p - buf);
	if (!eol || eol + 1 >= end || eol[1] != '\n' || eol == p)
		return 400;
	if ((size_t)(eol - p) > lim->max_line)
		return 414;
	while (q < eol && is_class((unsigned char)*q, C_TCHAR))
		q++;
	if (q == p || q == eol || *q != ' ')
		return 400;
	msg->method = p;
	msg->method_len = (uint32_t)(q - p);
	msg->method_id = method_id(p, msg->method_len);
	p = ++q;
	/* No fragment: a server that cuts the target at '#' would route on another path. */
	while (q < eol && is_class((unsigned char)*q, C_VCHAR) && (unsigned char)*q < 0x80 && *q != '#')
		q++;
	if (q == p || q == eol || *q != ' ')
		return 400;
	msg->target = p;
	msg->target_len = (uint32_t)(q - p);
	q++;
	if ((rc = parse_version(q, (size_t)(eol - q), msg, 400)) != 0)
		return rc;
	if (msg->method_id == SLB_HTTP_M_CONNECT)
		return 501;
	if (!target_valid(msg))
		return 400;
	if ((rc = parse_fields(eol + 2, end, lim, msg, 400)) != 0)
		return rc;
	if ((rc = apply_fields(&s)) != 0)
		return rc;
	if (msg->minor >= 1 && msg->host < 0)
		return 400; /* RFC 9112 3.2 */
	if (!authority_agrees(msg))
		return 400;
	if (msg->minor == 0)
		msg->expect_continue = false;
	return 0;
}

int slb_http_parse_response(const char *buf, size_t head_len, const struct slb_http_limits *lim,
			    enum slb_http_method req_method, struct slb_http_msg *msg)
{
	const char *end = buf + head_len;
	const char *p = buf;
	const char *eol = memchr(p, '\r', head_len);
	struct semantics s = { .msg = msg, .is_request = false };
	int rc;

	memset(msg, 0, offsetof(struct slb_http_msg, headers));
	msg->head_len = head_len;
	if (!eol || eol + 1 >= end || eol[1] != '\n' || eol - p < 12 || p[8] != ' ')
		return SLB_HTTP_BAD_RESPONSE;
	if ((rc = parse_version(p, 8, msg, SLB_HTTP_BAD_RESPONSE)) != 0)
		return rc;
	if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return SLB_HTTP_BAD_RESPONSE;
	msg->status = (unsigned)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	/* The reason may be empty, and some servers omit the space before it. */
	p += 12;
	if (p < eol && *p++ != ' ')
		return SLB_HTTP_BAD_RESPONSE;
	msg->reason = p;
	msg->reason_len = (uint32_t)(eol - p);
	if (field_chars_end(p, eol) != eol)
		return SLB_HTTP_BAD_RESPONSE;
	if ((rc = parse_fields(eol + 2, end, lim, msg, SLB_HTTP_BAD_RESPONSE)) != 0)
		return rc;
	if ((rc = apply_fields(&s)) != 0)
		return rc;
	if (req_method == SLB_HTTP_M_HEAD || msg->status < 200 || msg->status == 204 ||
	    msg->status == 304) {
		msg->framing = SLB_HTTP_BODY_NONE;
	} else if (!s.have_te && !s.cl_values) {
		msg->framing = SLB_HTTP_BODY_CLOSE;
		msg->keep_alive = false;
	}
	return 0;
}

enum chunk_state {
	S_SIZE, /* first hex digit */
	S_SIZE_MORE, /* more hex digits, or what follows them */
	S_SIZE_WS, /* whitespace after the size: only before an extension */
	S_EXT, /* chunk extension, skipped up to CR */
	S_SIZE_LF,
	S_DATA,
	S_DATA_CR,
	S_DATA_LF,
	S_TRAILER_START, /* start of a trailer line, or the final CRLF */
	S_TRAILER_NAME,
	S_TRAILER_VALUE,
	S_TRAILER_LF,
	S_END_LF,
	S_DONE,
	S_ERROR,
};

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/* One framing byte <ch>: the next state, or S_ERROR. */
static enum chunk_state chunk_step(struct slb_http_chunked *c, unsigned char ch)
{
	switch ((enum chunk_state)c->state) {
	case S_SIZE:
		if (!is_class(ch, C_HEX))
			return S_ERROR;
		c->remaining = (uint64_t)hex_value(ch);
		c->digits = 1;
		c->line_len = 1;
		return S_SIZE_MORE;
	case S_SIZE_MORE:
		if (++c->line_len > MAX_CHUNK_LINE)
			return S_ERROR;
		if (is_class(ch, C_HEX)) {
			if (++c->digits > 16)
				return S_ERROR;
			c->remaining = c->remaining << 4 | (uint64_t)hex_value(ch);
			return S_SIZE_MORE;
		}
		if (ch == '\r')
			return S_SIZE_LF;
		if (ch == ';')
			return S_EXT;
		return is_class(ch, C_WS) ? S_SIZE_WS : S_ERROR;
	case S_SIZE_WS:
		if (++c->line_len > MAX_CHUNK_LINE)
			return S_ERROR;
		if (ch == ';')
			return S_EXT;
		return is_class(ch, C_WS) ? S_SIZE_WS : S_ERROR;
	case S_EXT:
		if (++c->line_len > MAX_CHUNK_LINE)
			return S_ERROR;
		if (ch == '\r')
			return S_SIZE_LF;
		return is_class(ch, C_VCHAR | C_WS) ? S_EXT : S_ERROR;
	case S_SIZE_LF:
		if (ch != '\n')
			return S_ERROR;
		return c->remaining ? S_DATA : S_TRAILER_START;
	case S_DATA_CR:
		return ch == '\r' ? S_DATA_LF : S_ERROR;
	case S_DATA_LF:
		return ch == '\n' ? S_SIZE : S_ERROR;
	case S_TRAILER_START:
		if (ch == '\r')
			return S_END_LF;
		if (++c->trailer_len > MAX_TRAILER || !is_class(ch, C_TCHAR))
			return S_ERROR; /* obs-fold or a bad name */
		return S_TRAILER_NAME;
	case S_TRAILER_NAME:
		if (++c->trailer_len > MAX_TRAILER)
			return S_ERROR;
		if (ch == ':')
			return S_TRAILER_VALUE;
		return is_class(ch, C_TCHAR) ? S_TRAILER_NAME : S_ERROR;
	case S_TRAILER_VALUE:
		if (++c->trailer_len > MAX_TRAILER)
			return S_ERROR;
		if (ch == '\r')
			return S_TRAILER_LF;
		return is_class(ch, C_VCHAR | C_WS) ? S_TRAILER_VALUE : S_ERROR;
	case S_TRAILER_LF:
		return ch == '\n' ? S_TRAILER_START : S_ERROR;
	case S_END_LF:
		return ch == '\n' ? S_DONE : S_ERROR;
	default:
		return S_ERROR;
	}
}

enum slb_http_chunk_result slb_http_chunked_decode(struct slb_http_chunked *c, const char *buf,
						   size_t len, size_t *used, size_t *data_off,
						   size_t *data_len)
{
	size_t i = 0;

	*used = 0;
	if (c->state == S_DONE)
		return SLB_HTTP_CHUNK_DONE;
	while (i < len && c->state != S_ERROR) {
		if (c->state == S_DATA) {
			size_t n = len - i;

			if (n > c->remaining)
				n = (size_t)c->remaining;
			*data_off = i;
			*data_len = n;
			c->remaining -= n;
			if (!c->remaining)
				c->state = S_DATA_CR;
			*used = i + n;
			return SLB_HTTP_CHUNK_DATA;
		}
		c->state = (uint8_t)chunk_step(c, (unsigned char)buf[i++]);
		if (c->state == S_DONE) {
			*used = i;
			return SLB_HTTP_CHUNK_DONE;
		}
	}
	if (c->state == S_ERROR)
		return SLB_HTTP_CHUNK_ERROR;
	*used = i;
	return SLB_HTTP_CHUNK_MORE;
}
