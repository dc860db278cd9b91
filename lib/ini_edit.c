/*
 * ini_edit.c - slb.ini text read and edited by section and key, a line at a
 * time, positions found with the loader's scan.
 */
#include "ini_edit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_scan.h"

/* Where a section and one of its keys are: 1-based lines, 0 = absent. */
struct ini_place {
	int header; /* the [section] line */
	int last; /* the last line before the next section (or the file's end) */
	int last_key; /* the section's last key line, or the header */
	int key;
};

static int count_lines(const char *text, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len && text[len - 1] != '\n');
}

/* Finds <section> (and <key>, when not NULL). Returns 0, or -1 when the text
 * cannot be scanned (out of memory). */
static int locate(const char *text, size_t len, const char *section, const char *key,
		  struct ini_place *p)
{
	struct slb_scan_errors errors = { .file = "" };
	struct slb_scan scan;
	char *copy = malloc(len + 1);
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (!copy)
		return -1;
	memcpy(copy, text, len);
	if (slb_scan_text(copy, len, &scan, &errors) == -1)
		rc = -1;
	for (unsigned i = 0; rc == 0 && i < scan.nsections; i++) {
		const struct slb_scan_section *s = &scan.sections[i];

		if (strcmp(s->name, section) != 0)
			continue;
		p->header = p->last_key = s->line;
		p->last = i + 1 < scan.nsections ? scan.sections[i + 1].line - 1
						 : count_lines(text, len);
		for (unsigned k = 0; k < s->nkeys; k++) {
			if (s->keys[k].line > p->last_key)
				p->last_key = s->keys[k].line;
			if (key && strcmp(s->keys[k].name, key) == 0)
				p->key = s->keys[k].line;
		}
		break;
	}
	slb_scan_free(&scan);
	slb_scan_errors_write(&errors, NULL); /* the text was valid when it came */
	free(copy);
	return rc;
}

/* Byte offset of the start of 1-based <line> (the end of the text past the last). */
static size_t line_offset(const char *text, size_t len, int line)
{
	size_t off = 0;

	for (int l = 1; l < line && off < len; l++) {
		const char *nl = memchr(text + off, '\n', len - off);

		off = nl ? (size_t)(nl - text) + 1 : len;
	}
	return off;
}

/*
 * Replaces lines <from>..<to> (inclusive; <to> = <from> - 1 replaces none,
 * inserting before <from>) with <insert> (whole lines, each ending in '\n').
 */
static int splice_lines(char **text, size_t *len, int from, int to, const char *insert)
{
	size_t a = line_offset(*text, *len, from), b = line_offset(*text, *len, to + 1);
	bool need_nl = a == *len && a > 0 && (*text)[a - 1] != '\n';
	size_t ins = strlen(insert), n = a + need_nl + ins + (*len - b);
	char *out = malloc(n + 1);

	if (!out)
		return -1;
	memcpy(out, *text, a);
	if (need_nl)
		out[a] = '\n';
	memcpy(out + a + need_nl, insert, ins);
	memcpy(out + a + need_nl + ins, *text + b, *len - b);
	out[n] = '\0';
	free(*text);
	*text = out;
	*len = n;
	return 0;
}

/* The trimmed text after '=' on 1-based <line>. */
static void line_value(const char *text, size_t len, int line, char *buf, size_t buflen)
{
	size_t a = line_offset(text, len, line);
	const char *end = memchr(text + a, '\n', len - a);
	const char *eq, *p, *q = end ? end : text + len;

	eq = memchr(text + a, '=', (size_t)(q - (text + a)));
	p = eq ? eq + 1 : q;
	while (p < q && (*p == ' ' || *p == '\t'))
		p++;
	while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
		q--;
	snprintf(buf, buflen, "%.*s", (int)(q - p), p);
}

int slb_ini_value(const char *text, size_t len, const char *section, const char *key, char *buf,
		  size_t buflen)
{
	struct ini_place p;

	if (locate(text, len, section, key, &p) == -1 || !p.header)
		return -1;
	if (!p.key)
		return 0;
	line_value(text, len, p.key, buf, buflen);
	return 1;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

uint64_t slb_ini_value_hash(const char *value)
{
	return value ? hash_bytes(HASH_SEED, value, strlen(value) + 1) : 1;
}

uint64_t slb_ini_section_hash(const char *text, size_t len, const char *section)
{
	struct ini_place p;
	uint64_t h = HASH_SEED;

	if (locate(text, len, section, NULL, &p) == -1 || !p.header)
		return 0;
	for (int l = p.header + 1; l <= p.last; l++) {
		size_t a = line_offset(text, len, l);
		const char *end = memchr(text + a, '\n', len - a);
		size_t n = (size_t)((end ? end : text + len) - (text + a));

		while (n && (text[a] == ' ' || text[a] == '\t')) {
			a++;
			n--;
		}
		/* Comments and blank lines are not the section's content. */
		if (n && text[a] != ';' && text[a] != '#')
			h = hash_bytes(h, text + a, n + 1);
	}
	return h ? h : 1;
}

int slb_ini_set(char **text, size_t *len, const char *section, const char *key,
		const char *value)
{
	struct ini_place p;
	char *line = NULL;
	int rc;

	if (locate(*text, *len, section, key, &p) == -1 || !p.header)
		return -1;
	if (!value)
		return p.key ? splice_lines(text, len, p.key, p.key, "") : 0;
	if (asprintf(&line, "%s = %s\n", key, value) == -1)
		return -1;
	if (p.key)
		rc = splice_lines(text, len, p.key, p.key, line);
	else
		rc = splice_lines(text, len, p.last_key + 1, p.last_key, line);
	free(line);
	return rc;
}

int slb_ini_add_section(char **text, size_t *len, const char *section)
{
	char *lines = NULL;
	int rc;

	if (asprintf(&lines, "\n[%s]\n", section) == -1)
		return -1;
	rc = splice_lines(text, len, count_lines(*text, *len) + 1, count_lines(*text, *len), lines);
	free(lines);
	return rc;
}

int slb_ini_remove_section(char **text, size_t *len, const char *section)
{
	struct ini_place p;

	if (locate(*text, *len, section, NULL, &p) == -1 || !p.header)
		return -1;
	return splice_lines(text, len, p.header, p.last, "");
}
