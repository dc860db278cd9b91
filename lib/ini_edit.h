/*
 * ini_edit.h - reading and editing slb.ini text by section and key.
 *
 * Run-time changes (slbctl) are applied to the bytes of slb.ini, not to a
 * parsed structure, so that the result goes through the one loader every
 * daemon uses and every daemon reads the same bytes. Sections and keys are
 * found with the loader's own scan (config_scan.h): names are lowercased,
 * a section is named "TYPE NAME" ("group web"). Edits work on whole lines
 * and leave every other line exactly as it was.
 *
 * Text in and out is a malloc'd buffer with its length; an edit replaces
 * *text (freeing the old buffer) and returns 0, or returns -1 and leaves it
 * alone when the section is missing or memory ran out.
 */
#ifndef SLB_INI_EDIT_H
#define SLB_INI_EDIT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The value of <key> in <section> as written (trimmed, comment included),
 * into <buf> of <buflen> bytes. Returns 1, 0 when the section has no such
 * key, -1 when there is no such section.
 */
int slb_ini_value(const char *text, size_t len, const char *section, const char *key, char *buf,
		  size_t buflen);

/* A hash of <section>'s keys and values as written; 0 when there is no such section. */
uint64_t slb_ini_section_hash(const char *text, size_t len, const char *section);

/* A hash of a value for slb_ini_value()'s answers (a missing value hashes as NULL). */
uint64_t slb_ini_value_hash(const char *value);

/* Sets <key> = <value> in <section> (replacing the line, or added after its last key);
 * <value> NULL removes the key. */
int slb_ini_set(char **text, size_t *len, const char *section, const char *key,
		const char *value);

/* Appends an empty [<section>] at the end. */
int slb_ini_add_section(char **text, size_t *len, const char *section);

/* Removes <section>: its header and every line up to the next section. */
int slb_ini_remove_section(char **text, size_t *len, const char *section);

#endif
