/*
 * schema_keys.c - prints every key slb.ini accepts, from the schema the
 * loader itself uses (lib/config_schema.c), for the docs test
 * (tests/bats/08-docs.bats): one "SECTION KEY" line per key, and
 * "SECTION PREFIX." for the keys the operator names (server.NAME).
 *
 *   slb-test-schema-keys
 */
#include <stdio.h>

#include "config_schema.h"

int main(void)
{
	for (int s = 0; s < SLB_SECTION_KINDS; s++) {
		const struct slb_section_type *type = &slb_section_types[s];

		for (const struct slb_key_def *k = type->keys; k->name; k++)
			printf("%s %s\n", type->name, k->name);
		for (const struct slb_dynamic_key_def *d = type->dynamic; d && d->prefix; d++)
			printf("%s %s.\n", type->name, d->prefix);
	}
	return ferror(stdout) ? 1 : 0;
}
