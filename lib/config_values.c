/*
 * config_values.c - parsers for slb.ini value types and the spelling helper.
 *
 * Numbers are decimal digits only: strtoul() would also take signs, spaces
 * and hex, and "-1" silently becoming a huge unsigned is how configs lie.
 */
#include "config_values.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * Reads the leading decimal digits of <text> into <out> and sets <end> past
 * them. Returns -1 when there is no digit or the number does not fit.
 */
static int parse_digits(const char *text, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	*end = p;
	return 0;
}

static const struct {
	const char *suffix;
	uint32_t ms;
} duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 60 * 60 * 1000 },
};

#define NUNITS (sizeof(duration_units) / sizeof(duration_units[0]))

void slb_value_format_duration(uint32_t ms, char *buf, size_t size)
{
	size_t i = NUNITS - 1;

	/* The largest unit dividing <ms> exactly; 0 reads best as "0s". */
	if (ms == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	while (i > 0 && ms % duration_units[i].ms != 0)
		i--;
	snprintf(buf, size, "%u%s", ms / duration_units[i].ms, duration_units[i].suffix);
}

int slb_value_duration(const char *text, uint32_t min_ms, uint32_t max_ms, uint32_t *out_ms,
		       char *err)
{
	char lo[16], hi[16];
	const char *end;
	uint64_t v;
	size_t i;

	if (parse_digits(text, &v, &end) == -1)
		goto bad;
	if (*end == '\0') {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' needs a unit (ms, s, m, h)", text);
		return -1;
	}
	for (i = 0; i < NUNITS; i++)
		if (strcmp(end, duration_units[i].suffix) == 0)
			break;
	if (i == NUNITS)
		goto bad;
	if (v > UINT32_MAX / duration_units[i].ms)
		goto range;
	v *= duration_units[i].ms;
	if (v < min_ms || v > max_ms)
		goto range;
	*out_ms = (uint32_t)v;
	return 0;
bad:
	snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not a duration (e.g. 250ms, 2s, 5m, 1h)", text);
	return -1;
range:
	slb_value_format_duration(min_ms, lo, sizeof(lo));
	slb_value_format_duration(max_ms, hi, sizeof(hi));
	snprintf(err, SLB_VALUE_ERRLEN, "'%s' is out of range (%s..%s)", text, lo, hi);
	return -1;
}

int slb_value_microseconds(const char *text, uint32_t max_us, uint32_t *out_us, char *err)
{
	const char *end;
	uint64_t v;

	if (parse_digits(text, &v, &end) == -1 ||
	    !(strcmp(end, "us") == 0 || strcmp(end, "ms") == 0 || (*end == '\0' && v == 0))) {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not a duration in us or ms (e.g. 0, 50us, 1ms)",
			 text);
		return -1;
	}
	if (v > max_us || (strcmp(end, "ms") == 0 && (v *= 1000) > max_us)) {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is out of range (0..%uus)", text, max_us);
		return -1;
	}
	*out_us = (uint32_t)v;
	return 0;
}

int slb_value_size(const char *text, uint64_t min, uint64_t max, uint64_t *out, char *err)
{
	const char *end;
	uint64_t v, mult = 1;

	if (parse_digits(text, &v, &end) == -1)
		goto bad;
	if (*end == 'k' || *end == 'K')
		mult = 1024;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024;
	else if (*end != '\0')
		goto bad;
	if (mult != 1 && end[1] != '\0')
		goto bad;
	if (v > UINT64_MAX / mult || v * mult < min || v * mult > max) {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is out of range (%llu..%llu)", text,
			 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v * mult;
	return 0;
bad:
	snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not a size (a number, optionally followed by k or m)",
		 text);
	return -1;
}

int slb_value_bool(const char *text, bool *out, char *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not a boolean (yes, no, true, false, on, off, 1, 0)",
		 text);
	return -1;
}

int slb_value_uint(const char *text, unsigned min, unsigned max, unsigned *out, char *err)
{
	const char *end;
	uint64_t v;

	if (parse_digits(text, &v, &end) == -1 || *end != '\0') {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not a number", text);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is out of range (%u..%u)", text, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int slb_value_enum(const char *text, const struct slb_value_word *table, int *out, char *err)
{
	const struct slb_value_word *n;
	size_t used;

	for (n = table; n->name; n++) {
		if (strcmp(text, n->name) == 0) {
			*out = n->value;
			return 0;
		}
	}
	used = (size_t)snprintf(err, SLB_VALUE_ERRLEN, "unknown value '%s' (expected", text);
	for (n = table; n->name && used < SLB_VALUE_ERRLEN; n++)
		used += (size_t)snprintf(err + used, SLB_VALUE_ERRLEN - used, "%s %s",
					 n == table ? "" : ",", n->name);
	if (used < SLB_VALUE_ERRLEN)
		snprintf(err + used, SLB_VALUE_ERRLEN - used, ")");
	return -1;
}

const char *slb_value_enum_name(const struct slb_value_word *table, int value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return "?";
}

int slb_value_list(const char *text, int (*each)(const char *item, void *arg, char *err),
		   void *arg, char *err)
{
	char item[1024]; /* a whole line fits */
	const char *p = text, *comma, *start, *stop;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		comma = strchr(p, ',');
		stop = comma ? comma : p + strlen(p);
		start = p;
		while (start < stop && (*start == ' ' || *start == '\t'))
			start++;
		while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		if (start == stop) {
			snprintf(err, SLB_VALUE_ERRLEN, "empty item in the list '%s'", text);
			return -1;
		}
		if ((size_t)(stop - start) >= sizeof(item)) {
			snprintf(err, SLB_VALUE_ERRLEN, "an item of the list is too long");
			return -1;
		}
		memcpy(item, start, (size_t)(stop - start));
		item[stop - start] = '\0';
		if (each(item, arg, err) == -1)
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int slb_value_name(const char *text, char *err)
{
	size_t len = strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_.-");

	if (len == 0 || text[len] != '\0' || len >= SLB_NAME_MAX) {
		snprintf(err, SLB_VALUE_ERRLEN,
			 "'%s' is not a valid name (1..%d characters of a-z, 0-9, '_', '.', '-')",
			 text, SLB_NAME_MAX - 1);
		return -1;
	}
	/* slbctl reads a word starting with '-' as an option ("--json" anywhere). */
	if (text[0] == '-') {
		snprintf(err, SLB_VALUE_ERRLEN,
			 "'%s' is not a valid name: it may not start with '-', which slbctl reads "
			 "as an option", text);
		return -1;
	}
	return 0;
}

int slb_value_sockaddr(const char *text, struct slb_sockaddr *out, char *err)
{
	if (slb_sockaddr_parse(text, out) == 0)
		return 0;
	snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not an address 'IP:PORT' (port 1..65535)", text);
	return -1;
}

int slb_value_cidr(const char *text, struct slb_cidr *out, char *err)
{
	if (slb_cidr_parse(text, out) == 0)
		return 0;
	snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not an address prefix 'IP/LEN'", text);
	return -1;
}

/* Where a list parser puts its items. */
struct list_out {
	void *items;
	unsigned max, *n;
};

static int add_ipv4(const char *item, void *arg, char *err)
{
	struct list_out *l = arg;
	struct slb_sockaddr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, item, &a.u.in4.sin_addr) != 1) {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not an IPv4 address", item);
		return -1;
	}
	if (*l->n == l->max) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %u addresses", l->max);
		return -1;
	}
	a.u.in4.sin_family = AF_INET;
	a.len = sizeof(a.u.in4);
	((struct slb_sockaddr *)l->items)[(*l->n)++] = a;
	return 0;
}

int slb_value_ipv4_list(const char *text, struct slb_sockaddr *out, unsigned max, unsigned *n,
			char *err)
{
	struct list_out l = { out, max, n };

	*n = 0;
	return slb_value_list(text, add_ipv4, &l, err);
}

static int add_cidr(const char *item, void *arg, char *err)
{
	struct list_out *l = arg;

	if (*l->n == l->max) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %u prefixes", l->max);
		return -1;
	}
	if (slb_value_cidr(item, &((struct slb_cidr *)l->items)[*l->n], err) == -1)
		return -1;
	(*l->n)++;
	return 0;
}

int slb_value_cidr_list(const char *text, struct slb_cidr *out, unsigned max, unsigned *n,
			char *err)
{
	struct list_out l = { out, max, n };

	*n = 0;
	return slb_value_list(text, add_cidr, &l, err);
}

static int add_status_class(const char *item, void *arg, char *err)
{
	uint32_t *mask = arg;

	if (item[0] < '1' || item[0] > '5' || (item[1] != 'x' && item[1] != 'X') ||
	    (item[2] != 'x' && item[2] != 'X') || item[3] != '\0') {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not a status class (1xx, 2xx, 3xx, 4xx, 5xx)",
			 item);
		return -1;
	}
	*mask |= 1u << (item[0] - '0');
	return 0;
}

int slb_value_status_classes(const char *text, uint32_t *mask, char *err)
{
	uint32_t m = 0;

	if (slb_value_list(text, add_status_class, &m, err) == -1)
		return -1;
	if (m == 0) {
		snprintf(err, SLB_VALUE_ERRLEN, "needs at least one status class (e.g. 2xx)");
		return -1;
	}
	*mask = m;
	return 0;
}

static const struct slb_value_word server_roles[] = {
	{ "primary", SLB_ROLE_PRIMARY }, { "secondary", SLB_ROLE_SECONDARY }, { NULL, 0 },
};

int slb_value_role(const char *text, enum slb_server_role *role, char *err)
{
	int r;

	if (slb_value_enum(text, server_roles, &r, err) == -1) {
		snprintf(err, SLB_VALUE_ERRLEN, "'role=%s': the role must be primary or secondary",
			 text);
		return -1;
	}
	*role = (enum slb_server_role)r;
	return 0;
}

const char *slb_value_role_name(enum slb_server_role role)
{
	return role == SLB_ROLE_NONE ? NULL : slb_value_enum_name(server_roles, (int)role);
}

int slb_value_server(const char *text, struct slb_server_conf *out, char *err)
{
	char buf[1024], *tok, *save;
	struct slb_sockaddr addr;
	unsigned weight = 100;
	enum slb_server_role role = SLB_ROLE_NONE;
	bool have_weight = false, have_role = false;

	snprintf(buf, sizeof(buf), "%s", text);
	tok = strtok_r(buf, " \t", &save);
	if (!tok) {
		snprintf(err, SLB_VALUE_ERRLEN, "empty value (expected IP:PORT [weight=N])");
		return -1;
	}
	if (slb_value_sockaddr(tok, &addr, err) == -1)
		return -1;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (strncmp(tok, "weight=", 7) == 0 && !have_weight) {
			have_weight = true;
			if (slb_value_uint(tok + 7, 0, 100, &weight, err) == -1) {
				snprintf(err, SLB_VALUE_ERRLEN, "'%s': the weight must be 0..100", tok);
				return -1;
			}
		} else if (strncmp(tok, "role=", 5) == 0 && !have_role) {
			have_role = true;
			if (slb_value_role(tok + 5, &role, err) == -1)
				return -1;
		} else {
			snprintf(err, SLB_VALUE_ERRLEN,
				 "unexpected '%s' (expected IP:PORT [weight=N] [role=primary|secondary])",
				 tok);
			return -1;
		}
	}
	out->addr = addr;
	out->weight = weight;
	out->role = role;
	return 0;
}

/*
 * Checks a rule's host= (a name, or "*." and a name, without port; the name's
 * labels made of letters, digits, '-' and '_') and lowercases it in place.
 */
static int rule_host(char *host)
{
	char *p = host, *label;

	if (p[0] == '*' && p[1] == '.')
		p += 2;
	for (label = p;; p++) {
		if (*p == '.' || !*p) {
			if (p == label)
				return -1;
			if (!*p)
				return 0;
			label = p + 1;
		} else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
			*p = (char)tolower((unsigned char)*p);
		} else {
			return -1;
		}
	}
}

bool slb_value_token(const char *text, size_t max)
{
	size_t n = strlen(text);

	return n >= 1 && n <= max && strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						"0123456789!#$%&'*+-.^_`|~") == n;
}

bool slb_value_visible(const char *text, const char *forbidden)
{
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr(forbidden, *p))
			return false;
	return true;
}

int slb_value_rule(const char *text, struct slb_rule_conf *out, char group[SLB_NAME_MAX],
		   char *err)
{
	char buf[1024], *tok, *save, host[SLB_TEXT_MAX] = "", path[SLB_TEXT_MAX] = "";
	const char *g = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *field = NULL;

		if (strncmp(tok, "host=", 5) == 0 && !host[0]) {
			field = host;
		} else if (strncmp(tok, "path=", 5) == 0 && !path[0]) {
			field = path;
		} else if (strncmp(tok, "group=", 6) == 0 && !g && tok[6]) {
			g = tok + 6;
			continue;
		}
		if (!field || !tok[5] || strlen(tok + 5) >= SLB_TEXT_MAX) {
			snprintf(err, SLB_VALUE_ERRLEN,
				 "unexpected '%s' (expected host=HOST path=/PREFIX group=GROUP)", tok);
			return -1;
		}
		memcpy(field, tok + 5, strlen(tok + 5) + 1);
	}
	if (path[0] && path[0] != '/') {
		snprintf(err, SLB_VALUE_ERRLEN, "'path=%s': the path must start with '/'", path);
		return -1;
	}
	/* compared byte-wise with request paths: what none holds is an error */
	if (!slb_value_visible(path, "?#")) {
		snprintf(err, SLB_VALUE_ERRLEN, "'path=%s': a path prefix is visible ASCII without "
			 "'?' or '#'", path);
		return -1;
	}
	if (host[0] && rule_host(host) == -1) {
		snprintf(err, SLB_VALUE_ERRLEN, "'host=%s': expected a host name (letters, digits, "
			 "'-', '.'), optionally starting with '*.', and no port", host);
		return -1;
	}
	if (!g) {
		snprintf(err, SLB_VALUE_ERRLEN, "needs group=GROUP");
		return -1;
	}
	if (!host[0] && !path[0]) {
		snprintf(err, SLB_VALUE_ERRLEN, "needs host= or path= (or both)");
		return -1;
	}
	if (slb_value_name(g, err) == -1)
		return -1;
	memcpy(group, g, strlen(g) + 1);
	memcpy(out->host, host, sizeof(host));
	memcpy(out->path, path, sizeof(path));
	return 0;
}

unsigned slb_value_distance(const char *a, const char *b)
{
	/* Two rows of the classic table; names are short, so a fixed cap is fine. */
	unsigned row[2][65], i, j, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	for (j = 0; j <= lb; j++)
		row[0][j] = j;
	for (i = 1; i <= la; i++) {
		unsigned *prev = row[(i - 1) & 1], *cur = row[i & 1];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	return row[la & 1][lb];
}

void slb_suggest_init(struct slb_suggest *s, const char *word)
{
	s->word = word;
	s->best[0] = '\0';
	s->distance = ~0u;
}

void slb_suggest_offer(struct slb_suggest *s, const char *candidate)
{
	unsigned d = slb_value_distance(s->word, candidate);

	if (d < s->distance && strlen(candidate) < sizeof(s->best)) {
		s->distance = d;
		snprintf(s->best, sizeof(s->best), "%s", candidate);
	}
}

const char *slb_suggest_result(const struct slb_suggest *s)
{
	size_t lw = strlen(s->word), lb = strlen(s->best), longest = lw > lb ? lw : lb;

	/* A typo changes a few characters of a word, not a third of it. */
	if (s->best[0] == '\0' || s->distance == 0 || s->distance > 3 ||
	    s->distance * 3 > longest)
		return NULL;
	return s->best;
}
