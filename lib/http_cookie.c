/*
 * http_cookie.c - persistence cookies: tokens (HMAC of group and server
 * names), the Cookie header seen by the server, Set-Cookie values written or
 * rewritten by slb. The rules are in http_cookie.h.
 */
#include "http_cookie.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TOKEN_BYTES 9 /* 72 bits: 12 base64url characters */

static const char base64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void slb_cookie_key_derive(struct slb_cookie_key *key, const void *secret, size_t len)
{
	static const char label[] = "slb cookie token key";
	unsigned out_len = 0;

	if (!HMAC(EVP_sha256(), label, sizeof(label) - 1, secret, len, key->bytes, &out_len))
		memset(key->bytes, 0, sizeof(key->bytes)); /* cannot happen with SHA-256 */
}

void slb_cookie_group_name(const struct slb_cookie_key *key, const char *name, const char *group,
			   char out[SLB_COOKIE_NAME_MAX])
{
	char tag[SLB_COOKIE_TOKEN_LEN + 1];

	/* the token of a server "<group>" of a group "": no real server has it (groups are named) */
	slb_cookie_token(key, "", group, tag);
	snprintf(out, SLB_COOKIE_NAME_MAX, "%.*s_%.*s", SLB_COOKIE_NAME_MAX - 2 - SLB_COOKIE_TAG_LEN,
		 name, SLB_COOKIE_TAG_LEN, tag);
}

void slb_cookie_token(const struct slb_cookie_key *key, const char *group, const char *server,
		      char out[SLB_COOKIE_TOKEN_LEN + 1])
{
	unsigned char msg[256], mac[EVP_MAX_MD_SIZE];
	size_t glen = strnlen(group, 127), slen = strnlen(server, 127);
	unsigned mac_len = 0, i;

	memcpy(msg, group, glen);
	msg[glen] = '\0';
	memcpy(msg + glen + 1, server, slen);
	if (!HMAC(EVP_sha256(), key->bytes, sizeof(key->bytes), msg, glen + 1 + slen, mac, &mac_len))
		memset(mac, 0, sizeof(mac)); /* cannot happen with SHA-256; a fixed token is safe */
	/* 9 bytes = 3 groups of 3 bytes = 12 characters, no padding. */
	for (i = 0; i < TOKEN_BYTES / 3; i++) {
		uint32_t v = (uint32_t)mac[3 * i] << 16 | (uint32_t)mac[3 * i + 1] << 8 |
			     mac[3 * i + 2];

		out[4 * i] = base64url[v >> 18];
		out[4 * i + 1] = base64url[(v >> 12) & 63];
		out[4 * i + 2] = base64url[(v >> 6) & 63];
		out[4 * i + 3] = base64url[v & 63];
	}
	out[SLB_COOKIE_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(msg, sizeof(msg));
}

static bool is_base64url(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!v[i] || !strchr(base64url, v[i]))
			return false;
	return true;
}

static bool is_token_shape(const char *v, size_t len)
{
	return len == SLB_COOKIE_TOKEN_LEN && is_base64url(v, len);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
static bool is_cookie_octet(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

/*
 * A cookie value: <*v>/<*len> is the raw value, set on return to the inside
 * of its double quotes if it has them (<*quoted>). False when it is not a
 * valid cookie-value.
 */
static bool cookie_value(const char **v, size_t *len, bool *quoted)
{
	size_t i;

	*quoted = *len >= 2 && (*v)[0] == '"' && (*v)[*len - 1] == '"';
	if (*quoted) {
		(*v)++;
		*len -= 2;
	}
	for (i = 0; i < *len; i++)
		if (!is_cookie_octet((unsigned char)(*v)[i]))
			return false;
	return true;
}

struct pair {
	const char *start; /* the pair, trimmed */
	size_t len;
	const char *value; /* after '=', NULL when there is no '=' */
	size_t value_len;
	bool ours;
};

/* The next ';'-separated pair of [<*p>, <end>), trimmed; false at the end. */
static bool next_pair(const char **p, const char *end, const char *name, struct pair *pr)
{
	size_t name_len = strlen(name);
	const char *s = *p, *e, *eq;

	for (;;) {
		while (s < end && (is_ows(*s) || *s == ';'))
			s++;
		if (s >= end)
			return false;
		e = memchr(s, ';', (size_t)(end - s));
		*p = e ? e : end;
		e = *p;
		while (e > s && is_ows(e[-1]))
			e--;
		if (e > s)
			break;
		s = *p;
	}
	pr->start = s;
	pr->len = (size_t)(e - s);
	eq = memchr(s, '=', pr->len);
	pr->value = eq ? eq + 1 : NULL;
	pr->value_len = eq ? (size_t)(e - eq - 1) : 0;
	pr->ours = eq && (size_t)(eq - s) == name_len && memcmp(s, name, name_len) == 0;
	return true;
}

/* INSERT mode: whether <pr> is a cookie of slb's, <name> or a group's <name>_TAG. */
static bool is_slb_pair(const struct pair *pr, const char *name, size_t name_len)
{
	if (pr->ours)
		return true;
	return pr->value && (size_t)(pr->value - 1 - pr->start) == name_len + 1 + SLB_COOKIE_TAG_LEN &&
	       memcmp(pr->start, name, name_len) == 0 && pr->start[name_len] == '_' &&
	       is_base64url(pr->start + name_len + 1, SLB_COOKIE_TAG_LEN);
}

/* Appends <len> bytes of <s> to <out>, "; "-separated from what is there. */
static int append(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	size_t sep = *n ? 2 : 0;

	if (*n + sep + len > cap)
		return -1;
	memcpy(out + *n, "; ", sep);
	memcpy(out + *n + sep, s, len);
	*n += sep + len;
	return 0;
}

/*
 * The token of our single pair <pr> (INSERT: the whole value; REWRITE: the
 * part before '~'), written to <token>; in REWRITE mode <rest> and <quoted>
 * receive what the server set. False when there is none.
 */
static bool pair_token(const struct pair *pr, enum slb_cookie_mode mode,
		       char token[SLB_COOKIE_TOKEN_LEN + 1], const char **rest, size_t *rest_len,
		       bool *quoted)
{
	const char *v = pr->value;
	size_t len = pr->value_len;

	if (!cookie_value(&v, &len, quoted))
		return false;
	if (mode == SLB_COOKIE_INSERT ? !is_token_shape(v, len)
				      : len <= SLB_COOKIE_TOKEN_LEN ||
						v[SLB_COOKIE_TOKEN_LEN] != SLB_COOKIE_PREFIX_SEP ||
						!is_token_shape(v, SLB_COOKIE_TOKEN_LEN))
		return false;
	memcpy(token, v, SLB_COOKIE_TOKEN_LEN);
	token[SLB_COOKIE_TOKEN_LEN] = '\0';
	*rest = v + SLB_COOKIE_TOKEN_LEN + 1;
	*rest_len = len - SLB_COOKIE_TOKEN_LEN - 1;
	return true;
}

/* Walks the pairs of every Cookie field of a request, in order. */
struct pairs {
	const struct slb_http_msg *m;
	unsigned field; /* the next field to look at */
	const char *p, *end; /* what is left of the current one */
};

static bool next_request_pair(struct pairs *it, const char *name, struct pair *pr)
{
	for (;;) {
		if (it->p && next_pair(&it->p, it->end, name, pr))
			return true;
		while (it->field < it->m->nheaders &&
		       it->m->headers[it->field].field != SLB_HTTP_F_COOKIE)
			it->field++;
		if (it->field == it->m->nheaders)
			return false;
		it->p = it->m->headers[it->field].value;
		it->end = it->p + it->m->headers[it->field].value_len;
		it->field++;
	}
}

/* The token of the one pair <name> in <m>'s Cookie fields, as pair_token(). */
static bool request_token(const struct slb_http_msg *m, const char *name,
			  enum slb_cookie_mode mode, char token[SLB_COOKIE_TOKEN_LEN + 1],
			  const char **rest, size_t *rest_len, bool *quoted)
{
	struct pairs it = { .m = m };
	struct pair pr, ours = { 0 };
	unsigned count = 0;

	while (next_request_pair(&it, name, &pr))
		if (pr.ours && count++ == 0)
			ours = pr;
	token[0] = '\0';
	if (count == 1 && pair_token(&ours, mode, token, rest, rest_len, quoted))
		return true;
	token[0] = '\0';
	return false;
}

bool slb_cookie_request_token(const struct slb_http_msg *m, const char *name,
			      enum slb_cookie_mode mode, char token[SLB_COOKIE_TOKEN_LEN + 1])
{
	const char *rest;
	size_t rest_len;
	bool quoted;

	return request_token(m, name, mode, token, &rest, &rest_len, &quoted);
}

long slb_cookie_request_forward(const struct slb_http_msg *m, const char *name,
				enum slb_cookie_mode mode, char *out, size_t cap)
{
	char token[SLB_COOKIE_TOKEN_LEN + 1];
	struct pairs it = { .m = m };
	const char *rest = NULL;
	size_t rest_len = 0, n = 0, name_len = strlen(name);
	bool quoted = false;
	bool strip = mode == SLB_COOKIE_REWRITE &&
		     request_token(m, name, mode, token, &rest, &rest_len, &quoted);
	struct pair pr;

	while (next_request_pair(&it, name, &pr)) {
		if (mode == SLB_COOKIE_INSERT && is_slb_pair(&pr, name, name_len))
			continue;
		if (pr.ours && strip) {
			/* name=rest, in the quotes the value came in */
			if (append(out, cap, &n, name, name_len) == -1 || n + 3 + rest_len > cap)
				return -1;
			out[n++] = '=';
			if (quoted)
				out[n++] = '"';
			memcpy(out + n, rest, rest_len);
			n += rest_len;
			if (quoted)
				out[n++] = '"';
			continue;
		}
		if (append(out, cap, &n, pr.start, pr.len) == -1)
			return -1;
	}
	return (long)n;
}

int slb_cookie_rewrite_set_cookie(const char *hdr, size_t len, const char *name,
				  const char *token, char *out, size_t cap, size_t *out_len)
{
	const char *end = hdr + len, *s = hdr, *v, *vend, *value;
	size_t name_len = strlen(name), vlen, head;
	bool quoted;

	while (s < end && is_ows(*s))
		s++;
	if ((size_t)(end - s) <= name_len || memcmp(s, name, name_len) != 0 || s[name_len] != '=')
		return 0;
	v = s + name_len + 1;
	vend = memchr(v, ';', (size_t)(end - v));
	if (!vend)
		vend = end;
	while (vend > v && is_ows(vend[-1]))
		vend--;
	value = v;
	vlen = (size_t)(vend - v);
	if (!cookie_value(&value, &vlen, &quoted) || vlen == 0)
		return 0;
	/* everything up to the value's first byte, the token, the rest as it was */
	head = (size_t)(value - hdr);
	if (head + SLB_COOKIE_TOKEN_LEN + 1 + (len - head) > cap)
		return -1;
	memcpy(out, hdr, head);
	memcpy(out + head, token, SLB_COOKIE_TOKEN_LEN);
	out[head + SLB_COOKIE_TOKEN_LEN] = SLB_COOKIE_PREFIX_SEP;
	memcpy(out + head + SLB_COOKIE_TOKEN_LEN + 1, value, len - head);
	*out_len = len + SLB_COOKIE_TOKEN_LEN + 1;
	return 1;
}

int slb_cookie_insert_set_cookie(const char *name, const char *token, uint32_t max_age_s,
				 bool secure, char *out, size_t cap)
{
	char max_age[32] = "";
	int n;

	if (max_age_s)
		snprintf(max_age, sizeof(max_age), "; Max-Age=%u", max_age_s);
	n = snprintf(out, cap, "%s=%s; Path=/%s; HttpOnly%s", name, token, max_age,
		     secure ? "; Secure" : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
