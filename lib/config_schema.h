/*
 * config_schema.h - what slb.ini may hold: the section types, the keys each
 * accepts with their type, bounds and default, and the parsers of the keys
 * that need more than a generic value (workers, log, server.NAME, ...).
 * CONFIG.md is the contract these tables implement.
 *
 * The loader (config.c) walks the file and reports; the schema only says
 * whether one value is acceptable and stores it in the section's struct.
 */
#ifndef SLB_CONFIG_SCHEMA_H
#define SLB_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_values.h"

enum slb_section_kind {
	SLB_SECTION_GLOBAL,
	SLB_SECTION_NODE,
	SLB_SECTION_FAILOVER,
	SLB_SECTION_VIP,
	SLB_SECTION_LISTENER,
	SLB_SECTION_GROUP,
	SLB_SECTION_KINDS /* how many there are */
};

/* How a key's value is written, and so which parser slb_schema_set_value() uses. */
enum slb_key_type {
	SLB_KEY_TEXT, /* a string; .max = longest length (default: the field's size - 1) */
	SLB_KEY_NAME, /* a name as slb_value_name() allows */
	SLB_KEY_UINT, /* an unsigned within .min...max */
	SLB_KEY_DURATION, /* milliseconds in a uint32_t, within .min...max */
	SLB_KEY_SIZE, /* in a uint32_t, within .min...max */
	SLB_KEY_BOOL,
	SLB_KEY_ENUM, /* one of .words, stored as an int */
	SLB_KEY_SOCKADDR,
	SLB_KEY_CIDR,
	SLB_KEY_GROUP, /* the index of a [group NAME], an int */
	SLB_KEY_SPECIAL, /* .parse */
};

/* One key of a section, and where its value goes in the section's struct. */
struct slb_key_def {
	const char *name;
	enum slb_key_type type;
	size_t offset, size; /* of the field in the section's struct */
	uint64_t min, max;
	const struct slb_value_word *words; /* SLB_KEY_ENUM */
	int (*parse)(void *section, const char *value, char *err); /* SLB_KEY_SPECIAL */
	const char *def; /* the default, written as in the file; NULL = none */
	bool required;
	bool empty_ok; /* "key =" is a value (off, none) */
	bool path; /* must start with '/' when not empty */
};

/* What a value may refer to outside its own section. */
struct slb_schema_context {
	const struct slb_config *config; /* every group is named before any key is parsed */
	unsigned total_servers; /* server.NAME keys accepted so far, over all groups */
};

/* Keys named by the operator: "prefix.NAME" (server.web1, rule.api, tls_cert.www). */
struct slb_dynamic_key_def {
	const char *prefix;
	/* Parses <value> of "prefix.<name>" (<name> already checked) at <line>. */
	int (*parse)(struct slb_schema_context *ctx, void *section, const char *name,
		     const char *value, int line, char *err);
};

struct slb_section_type {
	const char *name;
	bool named; /* [TYPE NAME] rather than [TYPE] */
	const struct slb_key_def *keys; /* ends with a NULL name */
	const struct slb_dynamic_key_def *dynamic; /* ends with a NULL prefix; NULL = none */
};

extern const struct slb_section_type slb_section_types[SLB_SECTION_KINDS];

/* The words of the enumerated values, for messages about them. */
extern const struct slb_value_word slb_protocol_words[];
extern const struct slb_value_word slb_scheduler_words[];
extern const struct slb_value_word slb_persistence_words[];
extern const struct slb_value_word slb_check_words[];
extern const struct slb_value_word slb_check_method_words[];
extern const struct slb_value_word slb_proxy_protocol_words[];
extern const struct slb_value_word slb_group_type_words[];

/* Returns the key <name> of <type> (not a dynamic one), or NULL. */
const struct slb_key_def *slb_schema_find_key(const struct slb_section_type *type,
					      const char *name);

/*
 * Parses <value> for <def> into the section struct <section>. Returns 0, or
 * -1 with the reason in <err> (SLB_VALUE_ERRLEN bytes).
 */
int slb_schema_set_value(struct slb_schema_context *ctx, const struct slb_key_def *def,
			 void *section, const char *value, char *err);

#endif
