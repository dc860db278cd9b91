/*
 * config_scan.h - our own pass over the bytes of slb.ini, before iniparser.
 *
 * iniparser keeps the last of repeated keys and sections without a word, and
 * knows no line numbers. The scan records where every section and key is,
 * rejects repeats, lines that are not blank, a comment, "[section]" or
 * "key = value", and anything iniparser would read differently from what the
 * operator sees (line continuation, over-long lines, NUL bytes). A comment
 * after a section header, which iniparser 4.1 cannot read, is valid: the scan
 * blanks it in the bytes iniparser is then given. Values are left to
 * iniparser, which strips inline comments and quotes.
 *
 * It also holds the error list every loader stage writes to, so that all
 * errors come out once, in file order, as "file:line: [section] key: message".
 */
#ifndef SLB_CONFIG_SCAN_H
#define SLB_CONFIG_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Longest line iniparser 4.1 reads whole (its buffer is 1024 with the newline). */
#define SLB_SCAN_LINE_MAX 1000

struct slb_scan_key {
	char *name; /* trimmed and lowercased, as iniparser stores it */
	int line;
};

struct slb_scan_section {
	char *name; /* lowercased, inner spaces collapsed: "listener web80" */
	char *dict_name; /* exactly as iniparser names it, for "section:key" look-ups */
	int line;
	unsigned nkeys;
	struct slb_scan_key *keys;
};

struct slb_scan {
	unsigned nsections;
	struct slb_scan_section *sections;
};

struct slb_scan_error {
	int line;
	unsigned seq; /* order of discovery, to keep errors of one line in order */
	char *text;
};

/* A file of garbage gives one error per line: nobody reads past the first screens. */
#define SLB_SCAN_ERRORS_MAX 100

/* Errors of one load, written out sorted by line once the load is over. */
struct slb_scan_errors {
	const char *file; /* the name used in messages */
	unsigned count; /* errors found; the file is valid only while this is 0 */
	unsigned nlist, cap;
	struct slb_scan_error *list; /* the first SLB_SCAN_ERRORS_MAX that memory allowed */
};

/*
 * Records one error "file:line: [section] key: message"; <section> and <key>
 * may be NULL, and <line> 0 means the file as a whole.
 */
void slb_scan_error(struct slb_scan_errors *errors, int line, const char *section,
		    const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Writes the recorded errors to <out> ordered by line (stable), then how many
 * were not recorded, if any; frees them (<out> NULL: only frees them).
 */
void slb_scan_errors_write(struct slb_scan_errors *errors, FILE *out);

/*
 * Scans <len> bytes of <text> into <scan>, recording what is wrong in
 * <errors>, and normalizes <text> in place for iniparser: a comment after a
 * section header ("[group web] ; the servers") becomes spaces, so that the
 * length and every line number stay the same. Returns 0, or -1 when memory
 * ran out (also recorded as an error). The file is usable only if <errors>
 * stayed empty.
 */
int slb_scan_text(char *text, size_t len, struct slb_scan *scan, struct slb_scan_errors *errors);

void slb_scan_free(struct slb_scan *scan);

/* Returns the key <name> of <section>, or NULL when it is not set. */
const struct slb_scan_key *slb_scan_find_key(const struct slb_scan_section *section,
					     const char *name);

#endif
