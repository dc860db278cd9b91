/*
 * gzip.c - the eligibility of a response for gzip (header values parsed
 * strictly: what does not parse is not compressed) and a streaming deflate
 * held per connection.
 */
#include "gzip.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#define GZIP_WINDOW_BITS 13 /* 8 KiB window */
#define GZIP_MEM_LEVEL 7

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A qvalue (RFC 9110 12.4.2) in thousandths, or -1 when <v> (<len> bytes) is not one. */
static int parse_qvalue(const char *v, size_t len)
{
	int q, scale = 100;
	size_t i;

	if (len == 0 || (v[0] != '0' && v[0] != '1'))
		return -1;
	q = (v[0] - '0') * 1000;
	if (len == 1)
		return q;
	if (v[1] != '.' || len > 5)
		return -1;
	for (i = 2; i < len; i++, scale /= 10) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		q += (v[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/*
 * Parses one list element "coding *( OWS ; OWS name=value )" at <*p> up to
 * <end>, leaving <*p> after it. Sets <coding>/<coding_len> and <*q>
 * (thousandths, 1000 without q=). Returns -1 on a syntax error.
 */
static int parse_coding(const char **p, const char *end, const char **coding,
			size_t *coding_len, int *q)
{
	const char *s = *p;

	*coding = s;
	while (s < end && is_tchar(*s))
		s++;
	*coding_len = (size_t)(s - *coding);
	*q = 1000;
	if (*coding_len == 0)
		return -1;
	for (;;) {
		const char *name, *value;

		while (s < end && is_ows(*s))
			s++;
		if (s == end || *s == ',')
			break;
		if (*s != ';')
			return -1;
		for (s++; s < end && is_ows(*s); s++)
			;
		for (name = s; s < end && is_tchar(*s); s++)
			;
		if (s == name || s == end || *s != '=')
			return -1;
		for (value = ++s; s < end && is_tchar(*s); s++)
			;
		if ((size_t)(value - name) == 2 && (name[0] == 'q' || name[0] == 'Q')) {
			*q = parse_qvalue(value, (size_t)(s - value));
			if (*q < 0)
				return -1;
		}
	}
	*p = s;
	return 0;
}

bool slb_gzip_accepted(const char *v, size_t len)
{
	const char *p = v, *end = v + len, *coding;
	int gzip_q = -1, any_q = -1, q;
	size_t clen;

	while (p < end) {
		while (p < end && (is_ows(*p) || *p == ','))
			p++;
		if (p == end)
			break;
		if (parse_coding(&p, end, &coding, &clen, &q) == -1)
			return false;
		if ((clen == 4 && strncasecmp(coding, "gzip", 4) == 0) ||
		    (clen == 6 && strncasecmp(coding, "x-gzip", 6) == 0))
			gzip_q = q > gzip_q ? q : gzip_q;
		else if (clen == 1 && coding[0] == '*')
			any_q = q;
	}
	return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

bool slb_gzip_compressible_type(const char *v, size_t len)
{
	static const char *const types[] = {
		"application/json", "application/javascript", "application/xml", "image/svg+xml",
	};
	size_t i, n;

	while (len && is_ows(*v))
		v++, len--;
	for (n = 0; n < len && v[n] != ';' && !is_ows(v[n]); n++)
		;
	if (n > 5 && strncasecmp(v, "text/", 5) == 0)
		return true;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (n == strlen(types[i]) && strncasecmp(v, types[i], n) == 0)
			return true;
	return false;
}

bool slb_gzip_eligible(const struct slb_gzip_facts *f)
{
	if (f->head || f->status < 200 || f->status == 204 || f->status == 206 ||
	    f->status == 304)
		return false;
	if (f->content_encoding || f->content_range || f->no_transform)
		return false;
	if (f->content_length >= 0 && f->content_length < SLB_GZIP_MIN_LENGTH)
		return false;
	if (!f->accept_encoding || !slb_gzip_accepted(f->accept_encoding, f->accept_encoding_len))
		return false;
	return f->content_type && slb_gzip_compressible_type(f->content_type, f->content_type_len);
}

void slb_gzip_init(struct slb_gzip *gz)
{
	memset(gz, 0, sizeof(*gz));
}

int slb_gzip_start(struct slb_gzip *gz)
{
	if (gz->ready)
		return deflateReset(&gz->zs) == Z_OK ? 0 : -1;
	memset(&gz->zs, 0, sizeof(gz->zs));
	/* windowBits + 16: a gzip header and trailer rather than zlib's. */
	if (deflateInit2(&gz->zs, SLB_GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS + 16,
			 GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	gz->ready = true;
	return 0;
}

enum slb_gzip_result slb_gzip_compress(struct slb_gzip *gz, const void *in, size_t in_len,
				       size_t *consumed, void *out, size_t out_cap,
				       size_t *produced, enum slb_gzip_flush flush)
{
	static const int zflush[] = {
		[SLB_GZIP_NO_FLUSH] = Z_NO_FLUSH, [SLB_GZIP_SYNC] = Z_SYNC_FLUSH,
		[SLB_GZIP_FINISH] = Z_FINISH,
	};
	int rc;

	*consumed = *produced = 0;
	if (!gz->ready || in_len > UINT_MAX || out_cap > UINT_MAX)
		return SLB_GZIP_ERROR;
	gz->zs.next_in = (Bytef *)(uintptr_t)in;
	gz->zs.avail_in = (uInt)in_len;
	gz->zs.next_out = out;
	gz->zs.avail_out = (uInt)out_cap;
	rc = deflate(&gz->zs, zflush[flush]);
	*consumed = in_len - gz->zs.avail_in;
	*produced = out_cap - gz->zs.avail_out;
	gz->zs.next_in = NULL;
	gz->zs.next_out = NULL;
	if (rc == Z_STREAM_END)
		return SLB_GZIP_END;
	if (rc != Z_OK && rc != Z_BUF_ERROR)
		return SLB_GZIP_ERROR;
	/*
	 * A full <out> may hide pending output even when all input went in:
	 * only a call that left room has surely flushed what was asked.
	 */
	if (gz->zs.avail_out == 0 || gz->zs.avail_in || flush == SLB_GZIP_FINISH)
		return SLB_GZIP_FULL;
	return SLB_GZIP_OK;
}

void slb_gzip_free(struct slb_gzip *gz)
{
	if (gz->ready)
		deflateEnd(&gz->zs);
	gz->ready = false;
}
