/*
 * config_values.h - how each kind of value is written in slb.ini, parsed
 * from the text iniparser hands back: durations (a unit is required), sizes,
 * booleans, bounded integers, words from a table, comma-separated lists,
 * names, addresses, and the composite values of server.NAME and rule.NAME;
 * plus the "did you mean" helper for unknown keys and sections. Which key
 * takes which type is config_schema.c's business, how values relate
 * config.c's.
 *
 * Parsers return 0, or -1 with a one-line reason written to <err>
 * (SLB_VALUE_ERRLEN bytes) that the loader prefixes with "file:line: ...".
 * On error the output is left untouched, except that a list may be partly
 * filled (the load fails anyway).
 */
#ifndef SLB_CONFIG_VALUES_H
#define SLB_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Room to quote a whole line (config_scan.h allows 1000 characters) in a message. */
#define SLB_VALUE_ERRLEN 1280

/* "250ms", "2s", "5m", "1h" -> milliseconds within <min_ms>..<max_ms>. */
int slb_value_duration(const char *text, uint32_t min_ms, uint32_t max_ms, uint32_t *out_ms,
		       char *err);

/* "0", "50us", "1ms" -> microseconds, at most <max_us>: for waits shorter than a millisecond. */
int slb_value_microseconds(const char *text, uint32_t max_us, uint32_t *out_us, char *err);

/* Writes <ms> with the largest unit that keeps it exact ("90s", "250ms"). */
void slb_value_format_duration(uint32_t ms, char *buf, size_t size);

/* A count, optionally with a binary suffix k or m (1k = 1024), within <min>..<max>. */
int slb_value_size(const char *text, uint64_t min, uint64_t max, uint64_t *out, char *err);

/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int slb_value_bool(const char *text, bool *out, char *err);

/* Decimal digits only (no sign, no spaces) within <min>..<max>. */
int slb_value_uint(const char *text, unsigned min, unsigned max, unsigned *out, char *err);

/* One accepted word of an enumeration; tables end with { NULL, 0 }. */
struct slb_value_word {
	const char *name;
	int value;
};

/*
 * Looks <text> up in <table> (case-sensitive, as written in CONFIG.md). The
 * error lists every accepted word: "unknown value 'x' (expected a, b, c)".
 */
int slb_value_enum(const char *text, const struct slb_value_word *table, int *out, char *err);

/* The word of <table> for <value> (for messages), or "?" when there is none. */
const char *slb_value_enum_name(const struct slb_value_word *table, int value);

/*
 * Calls <each> for every comma-separated item of <text>, trimmed of spaces.
 * An empty <text> has no items; an empty item ("a,,b", "a,") is an error.
 * Stops at the first item <each> rejects (it fills <err> and returns -1).
 */
int slb_value_list(const char *text, int (*each)(const char *item, void *arg, char *err),
		   void *arg, char *err);

/*
 * Section, server and rule names: 1..SLB_NAME_MAX-1 characters of [a-z0-9_.-],
 * not starting with '-' (slbctl would read the word as an option).
 */
int slb_value_name(const char *text, char *err);

/* "IP:PORT" or "[v6]:PORT" (slb_sockaddr_parse() with a message). */
int slb_value_sockaddr(const char *text, struct slb_sockaddr *out, char *err);

/* "IP/LEN" (slb_cidr_parse() with a message). */
int slb_value_cidr(const char *text, struct slb_cidr *out, char *err);

/* Comma list of IPv4 addresses (port 0), at most <max>; sets <n>. */
int slb_value_ipv4_list(const char *text, struct slb_sockaddr *out, unsigned max, unsigned *n,
			char *err);

/* Comma list of prefixes, at most <max>; sets <n>. */
int slb_value_cidr_list(const char *text, struct slb_cidr *out, unsigned max, unsigned *n,
			char *err);

/* Comma list of status classes "2xx,3xx": bit N set for Nxx; at least one. */
int slb_value_status_classes(const char *text, uint32_t *mask, char *err);

/*
 * server.NAME: "IP:PORT [weight=N] [role=primary|secondary]". Sets <out>'s
 * addr, weight (0..100, default 100) and role (default SLB_ROLE_NONE) only.
 */
int slb_value_server(const char *text, struct slb_server_conf *out, char *err);

/* A server's role, "primary" or "secondary" (the text after "role="). */
int slb_value_role(const char *text, enum slb_server_role *role, char *err);

/* "primary" or "secondary"; NULL for SLB_ROLE_NONE (a normal group's server). */
const char *slb_value_role_name(enum slb_server_role role);

/* True when <text> is printable ASCII without spaces and without any byte of <forbidden>. */
bool slb_value_visible(const char *text, const char *forbidden);

/* True when <text> is an RFC 9110 token (a header or cookie name) of 1..<max> bytes. */
bool slb_value_token(const char *text, size_t max);

/*
 * rule.NAME: "host=HOST path=/PREFIX group=GROUP" in any order, group and at
 * least one of host and path required. Sets <out>'s host and path only, and
 * writes the group's name (checked as a name) to <group> for the caller to
 * resolve.
 */
int slb_value_rule(const char *text, struct slb_rule_conf *out, char group[SLB_NAME_MAX],
		   char *err);

/* Edit distance between <a> and <b> (insert, delete, substitute: cost 1). */
unsigned slb_value_distance(const char *a, const char *b);

/*
 * Collects the closest spelling of a mistyped word: init with the word,
 * offer every valid candidate, then ask for the result. Candidates are
 * copied, so they may be temporary strings.
 */
struct slb_suggest {
	const char *word;
	char best[64];
	unsigned distance;
};

void slb_suggest_init(struct slb_suggest *s, const char *word);
void slb_suggest_offer(struct slb_suggest *s, const char *candidate);

/* Returns the closest candidate if it is close enough to be a typo, else NULL. */
const char *slb_suggest_result(const struct slb_suggest *s);

#endif
