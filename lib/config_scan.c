/*
 * config_scan.c - line-by-line scan of slb.ini (positions, repeats, syntax)
 * and the loader's error list.
 *
 * The classification mirrors iniparser 4.1's iniparser_line(): after trimming,
 * a line is empty, a comment (';' or '#'), a section when it starts with '['
 * and ends with ']', otherwise a key when it holds '='. Where iniparser would
 * quietly read something other than what the operator wrote, the scan says
 * so, or, for a comment after a section header, blanks the comment in the
 * bytes iniparser will be given.
 */
#include "config_scan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void slb_scan_error(struct slb_scan_errors *errors, int line, const char *section,
		    const char *key, const char *fmt, ...)
{
	struct slb_scan_error *list;
	char *text = NULL;
	size_t size;
	va_list ap;
	FILE *f;

	if (errors->count++ >= SLB_SCAN_ERRORS_MAX)
		return;
	f = open_memstream(&text, &size);
	if (!f)
		return;
	fprintf(f, "%s:%d: ", errors->file, line);
	if (section)
		fprintf(f, key ? "[%s] " : "[%s]: ", section);
	if (key)
		fprintf(f, "%s: ", key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0)
		goto fail;
	if (errors->nlist == errors->cap) {
		unsigned cap = errors->cap ? errors->cap * 2 : 16;

		list = realloc(errors->list, cap * sizeof(*list));
		if (!list)
			goto fail;
		errors->list = list;
		errors->cap = cap;
	}
	errors->list[errors->nlist].line = line;
	errors->list[errors->nlist].seq = errors->nlist;
	errors->list[errors->nlist].text = text;
	errors->nlist++;
	return;
fail:
	/* Still counted, so the load fails; the writer says some were lost. */
	free(text);
}

static int compare_errors(const void *a, const void *b)
{
	const struct slb_scan_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void slb_scan_errors_write(struct slb_scan_errors *errors, FILE *out)
{
	unsigned i;

	if (errors->nlist > 1)
		qsort(errors->list, errors->nlist, sizeof(*errors->list), compare_errors);
	for (i = 0; i < errors->nlist; i++) {
		if (out)
			fprintf(out, "%s\n", errors->list[i].text);
		free(errors->list[i].text);
	}
	if (out && errors->nlist < errors->count)
		fprintf(out, "%s:0: %u more errors not shown\n", errors->file,
			errors->count - errors->nlist);
	free(errors->list);
	errors->list = NULL;
	errors->nlist = errors->cap = 0;
}

/* The scan's state between lines. */
struct scanner {
	struct slb_scan *scan;
	struct slb_scan_errors *errors;
	int line;
	int current; /* index of the section keys belong to, -1 before any */
	bool after_bad_header; /* keys under a rejected header are not reported again */
};

/* iniparser trims with isspace() in the C locale; so do we, without the locale. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	size_t len;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_space(s[len - 1]))
		s[--len] = '\0';
	return s;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Copy of <s> with every run of spaces made one ' ': "listener  web80" is "listener web80". */
static char *collapse_spaces(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (is_space(*s)) {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static int add_section(struct scanner *s, const char *dict_name)
{
	struct slb_scan *scan = s->scan;
	struct slb_scan_section *sec;
	char *name = collapse_spaces(dict_name), *dict = strdup(dict_name);
	unsigned i;

	sec = realloc(scan->sections, (scan->nsections + 1) * sizeof(*sec));
	if (!name || !dict || !sec) {
		free(name);
		free(dict);
		if (sec)
			scan->sections = sec;
		return -1;
	}
	scan->sections = sec;
	for (i = 0; i < scan->nsections; i++) {
		if (strcmp(sec[i].name, name) == 0) {
			slb_scan_error(s->errors, s->line, name, NULL,
				       "repeated section (first at line %d)", sec[i].line);
			break;
		}
	}
	sec += scan->nsections;
	memset(sec, 0, sizeof(*sec));
	sec->name = name;
	sec->dict_name = dict;
	sec->line = s->line;
	s->current = (int)scan->nsections++;
	s->after_bad_header = false;
	return 0;
}

/*
 * A line that starts with '['. <l> is the trimmed line (<len> characters, a
 * scratch copy) and <in_text> the same characters in the file's bytes.
 */
static int scan_section(struct scanner *s, char *l, size_t len, char *in_text)
{
	char *close = strchr(l, ']'), *after = close ? trim(close + 1) : NULL, *inner;

	s->current = -1;
	s->after_bad_header = true;
	/*
	 * "[x] ; comment": iniparser would reject the line, or take it for a key
	 * when the comment holds an '='. Blank the comment in the file's bytes
	 * (same length: no line or offset moves) and read the line as "[x]".
	 */
	if (after && (*after == ';' || *after == '#')) {
		memset(in_text + (after - l), ' ', len - (size_t)(after - l));
		len = (size_t)(close - l) + 1;
		l[len] = '\0';
	}
	if (l[len - 1] != ']') {
		if (close)
			slb_scan_error(s->errors, s->line, NULL, NULL,
				       "syntax error: '%s' after a section header (a comment "
				       "starts with ';' or '#')", after);
		else
			slb_scan_error(s->errors, s->line, NULL, NULL,
				       "syntax error: '%s' has no closing ']'", l);
		return 0;
	}
	l[len - 1] = '\0';
	inner = trim(l + 1);
	if (strchr(inner, '[') || strchr(inner, ']')) {
		slb_scan_error(s->errors, s->line, NULL, NULL,
			       "syntax error: '[%s]' is not a section header", inner);
		return 0;
	}
	if (*inner == '\0') {
		slb_scan_error(s->errors, s->line, NULL, NULL, "syntax error: empty section header '[]'");
		return 0;
	}
	lowercase(inner);
	return add_section(s, inner);
}

static int scan_key(struct scanner *s, char *l)
{
	struct slb_scan_section *sec;
	struct slb_scan_key *keys;
	char *key, *name;
	unsigned i;

	*strchr(l, '=') = '\0';
	key = trim(l);
	if (*key == '\0') {
		slb_scan_error(s->errors, s->line, NULL, NULL, "syntax error: no key name before '='");
		return 0;
	}
	lowercase(key);
	if (s->current < 0) {
		if (!s->after_bad_header)
			slb_scan_error(s->errors, s->line, NULL, key,
				       "key outside any section (a [section] header must come first)");
		return 0;
	}
	sec = &s->scan->sections[s->current];
	for (i = 0; i < sec->nkeys; i++) {
		if (strcmp(sec->keys[i].name, key) == 0) {
			slb_scan_error(s->errors, s->line, sec->name, key,
				       "repeated key (first at line %d)", sec->keys[i].line);
			return 0;
		}
	}
	keys = realloc(sec->keys, (sec->nkeys + 1) * sizeof(*keys));
	name = strdup(key);
	if (!keys || !name) {
		free(name);
		if (keys)
			sec->keys = keys;
		return -1;
	}
	sec->keys = keys;
	keys[sec->nkeys].name = name;
	keys[sec->nkeys].line = s->line;
	sec->nkeys++;
	return 0;
}

/* Scans the <n> bytes of one line at <raw>; returns 0, or -1 when memory ran out. */
static int scan_line(struct scanner *s, char *raw, size_t n)
{
	char buf[SLB_SCAN_LINE_MAX + 1], *l;
	size_t len;

	/* iniparser reads lines with fgets(): a NUL would silently cut the line. */
	if (memchr(raw, '\0', n)) {
		slb_scan_error(s->errors, s->line, NULL, NULL, "the line holds a NUL byte");
		return 0;
	}
	if (n > SLB_SCAN_LINE_MAX) {
		slb_scan_error(s->errors, s->line, NULL, NULL,
			       "the line is longer than %d characters", SLB_SCAN_LINE_MAX);
		return 0;
	}
	memcpy(buf, raw, n);
	buf[n] = '\0';
	l = trim(buf);
	len = strlen(l);
	if (len == 0)
		return 0;
	/* iniparser would glue the next line on, even to a comment. */
	if (l[len - 1] == '\\') {
		slb_scan_error(s->errors, s->line, NULL, NULL,
			       "the line ends with '\\': line continuation is not supported");
		return 0;
	}
	if (l[0] == ';' || l[0] == '#')
		return 0;
	if (l[0] == '[')
		return scan_section(s, l, len, raw + (l - buf));
	if (strchr(l, '='))
		return scan_key(s, l);
	slb_scan_error(s->errors, s->line, NULL, NULL,
		       "syntax error: '%.60s' is not '[section]', 'key = value' or a comment", l);
	return 0;
}

int slb_scan_text(char *text, size_t len, struct slb_scan *scan, struct slb_scan_errors *errors)
{
	struct scanner s = { scan, errors, 0, -1, false };
	char *p = text, *end = text + len;

	memset(scan, 0, sizeof(*scan));
	/* iniparser would take the mark for part of the first line. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		slb_scan_error(errors, 1, NULL, NULL,
			       "the file starts with a UTF-8 byte order mark: save it without one");
		p += 3;
	}
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		s.line++;
		if (scan_line(&s, p, n) == -1) {
			slb_scan_error(errors, 0, NULL, NULL, "out of memory");
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

void slb_scan_free(struct slb_scan *scan)
{
	unsigned i, j;

	for (i = 0; i < scan->nsections; i++) {
		for (j = 0; j < scan->sections[i].nkeys; j++)
			free(scan->sections[i].keys[j].name);
		free(scan->sections[i].keys);
		free(scan->sections[i].name);
		free(scan->sections[i].dict_name);
	}
	free(scan->sections);
	memset(scan, 0, sizeof(*scan));
}

const struct slb_scan_key *slb_scan_find_key(const struct slb_scan_section *section,
					     const char *name)
{
	unsigned i;

	for (i = 0; i < section->nkeys; i++)
		if (strcmp(section->keys[i].name, name) == 0)
			return &section->keys[i];
	return NULL;
}
