/*
 * state_changes.c - run-time changes to groups, servers and listeners:
 * recorded in order with what they changed as it stood, and applied to
 * slb.ini's text (ini_edit.h) at every load. The rule is in state.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_values.h"
#include "ini_edit.h"
#include "log.h"
#include "state.h"

static void section_of(const struct master_change *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", c->type, c->section);
}

static void server_key(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "server.%s", name);
}

void master_state_forget(struct master_state *st, unsigned i)
{
	memmove(&st->changes[i], &st->changes[i + 1],
		(st->nchanges - i - 1) * sizeof(st->changes[0]));
	st->nchanges--;
}

void master_change_describe(const struct master_change *c, char *buf, size_t len)
{
	switch (c->kind) {
	case MASTER_CHANGE_ADD_SERVER:
		snprintf(buf, len, "server add %s %s", c->section, c->key);
		break;
	case MASTER_CHANGE_REMOVE_SERVER:
		snprintf(buf, len, "server remove %s %s", c->section, c->key);
		break;
	case MASTER_CHANGE_ADD_GROUP:
		snprintf(buf, len, "group create %s", c->section);
		break;
	case MASTER_CHANGE_DELETE_GROUP:
		snprintf(buf, len, "group delete %s", c->section);
		break;
	case MASTER_CHANGE_SET:
		snprintf(buf, len, "%s set %s %s=%s", c->type, c->section, c->key, c->value);
		break;
	}
}

/* The hash of <key> in <section> as <text> has it now (absent hashes as NULL). */
static uint64_t value_hash(const char *text, size_t len, const char *section, const char *key)
{
	char value[1024];

	if (slb_ini_value(text, len, section, key, value, sizeof(value)) != 1)
		return slb_ini_value_hash(NULL);
	return slb_ini_value_hash(value);
}

/*
 * Applies <c> to <*text>. Returns 1 when applied, 0 when slb.ini now
 * contradicts it (<why> says how), -1 when memory ran out.
 */
static int change_apply(const struct master_change *c, char **text, size_t *len, const char **why)
{
	char section[2 * SLB_NAME_MAX], key[SLB_NAME_MAX + 8], value[MASTER_VALUE_MAX + 16];
	bool has_section;
	int rc;

	section_of(c, section, sizeof(section));
	server_key(c->key, key, sizeof(key));
	has_section = slb_ini_value(*text, *len, section, "type", value, sizeof(value)) != -1;
	switch (c->kind) {
	case MASTER_CHANGE_ADD_SERVER:
		*why = !has_section ? "the group is gone"
				    : "slb.ini has a server of that name in that group now";
		if (!has_section || slb_ini_value(*text, *len, section, key, value, sizeof(value)))
			return 0;
		if (c->role == SLB_ROLE_NONE)
			snprintf(value, sizeof(value), "%s weight=%u", c->value, c->weight);
		else
			snprintf(value, sizeof(value), "%s weight=%u role=%s", c->value, c->weight,
				 slb_value_role_name(c->role));
		rc = slb_ini_set(text, len, section, key, value);
		break;
	case MASTER_CHANGE_REMOVE_SERVER:
		*why = "slb.ini changed or removed that server since";
		if (!has_section || value_hash(*text, *len, section, key) != c->before ||
		    c->before == slb_ini_value_hash(NULL))
			return 0;
		rc = slb_ini_set(text, len, section, key, NULL);
		break;
	case MASTER_CHANGE_ADD_GROUP:
		*why = "slb.ini has a group of that name now";
		if (has_section)
			return 0;
		rc = slb_ini_add_section(text, len, section);
		if (rc == 0)
			rc = slb_ini_set(text, len, section, "type", c->value);
		break;
	case MASTER_CHANGE_DELETE_GROUP:
		*why = "slb.ini changed or removed that group since";
		if (slb_ini_section_hash(*text, *len, section) != c->before)
			return 0;
		rc = slb_ini_remove_section(text, len, section);
		break;
	default:
		*why = "slb.ini changed that key or removed its section since";
		if (!has_section || value_hash(*text, *len, section, c->key) != c->before)
			return 0;
		rc = slb_ini_set(text, len, section, c->key, c->value);
		break;
	}
	return rc == 0 ? 1 : -1;
}

int master_state_render(struct master_state *st, char **text, size_t *len)
{
	int dropped = 0;

	for (unsigned i = 0; i < st->nchanges;) {
		const char *why = "";
		char name[160];
		int rc = change_apply(&st->changes[i], text, len, &why);

		if (rc == -1)
			return -1;
		if (rc == 1) {
			i++;
			continue;
		}
		master_change_describe(&st->changes[i], name, sizeof(name));
		slb_info("run-time change '%s' dropped (%s)", name, why);
		master_state_forget(st, i);
		dropped++;
	}
	return dropped;
}

static int append(struct master_state *st, const struct master_change *c)
{
	if (st->nchanges == MASTER_MAX_CHANGES) {
		slb_err("state: %u run-time changes already kept; reload with them in slb.ini",
			MASTER_MAX_CHANGES);
		return -1;
	}
	st->changes[st->nchanges++] = *c;
	return 0;
}

/* Forgets the weight override of <group>/<name>, or of all <group>'s servers (<name> NULL). */
static void forget_overrides(struct master_state *st, const char *group, const char *name)
{
	for (unsigned i = 0; i < st->n;) {
		struct master_override *o = &st->items[i];

		if (strcmp(o->group, group) == 0 && (!name || strcmp(o->name, name) == 0))
			*o = st->items[--st->n];
		else
			i++;
	}
}

int master_state_add_server(struct master_state *st, const char *group, const char *name,
			    const char *addr, uint32_t weight, enum slb_server_role role)
{
	struct master_change c = { .kind = MASTER_CHANGE_ADD_SERVER, .type = "group",
				   .weight = weight, .role = role };

	snprintf(c.section, sizeof(c.section), "%s", group);
	snprintf(c.key, sizeof(c.key), "%s", name);
	snprintf(c.value, sizeof(c.value), "%s", addr);
	return append(st, &c);
}

int master_state_remove_server(struct master_state *st, const char *text, size_t len,
			       const char *group, const char *name)
{
	struct master_change c = { .kind = MASTER_CHANGE_REMOVE_SERVER, .type = "group" };
	char section[2 * SLB_NAME_MAX], key[SLB_NAME_MAX + 8];

	forget_overrides(st, group, name);
	for (unsigned i = 0; i < st->nchanges; i++) {
		const struct master_change *a = &st->changes[i];

		/* Added at run time: removing it forgets the addition. */
		if (a->kind == MASTER_CHANGE_ADD_SERVER && strcmp(a->section, group) == 0 &&
		    strcmp(a->key, name) == 0) {
			master_state_forget(st, i);
			return 0;
		}
	}
	snprintf(c.section, sizeof(c.section), "%s", group);
	snprintf(c.key, sizeof(c.key), "%s", name);
	snprintf(section, sizeof(section), "group %s", group);
	server_key(name, key, sizeof(key));
	c.before = value_hash(text, len, section, key);
	return append(st, &c);
}

int master_state_add_group(struct master_state *st, const char *group, const char *type)
{
	struct master_change c = { .kind = MASTER_CHANGE_ADD_GROUP, .type = "group" };

	snprintf(c.section, sizeof(c.section), "%s", group);
	snprintf(c.value, sizeof(c.value), "%s", type);
	return append(st, &c);
}

int master_state_delete_group(struct master_state *st, const char *file, size_t filelen,
			      const char *group)
{
	struct master_change c = { .kind = MASTER_CHANGE_DELETE_GROUP, .type = "group" };
	char section[2 * SLB_NAME_MAX], *text;
	size_t len = filelen;
	bool created = false;

	forget_overrides(st, group, NULL);
	for (unsigned i = 0; i < st->nchanges;) {
		const struct master_change *a = &st->changes[i];

		if (strcmp(a->type, "group") == 0 && strcmp(a->section, group) == 0) {
			created |= a->kind == MASTER_CHANGE_ADD_GROUP;
			master_state_forget(st, i);
		} else {
			i++;
		}
	}
	if (created)
		return 0;
	/* What the group's section reads without the changes just forgotten. */
	text = malloc(filelen + 1);
	if (!text)
		return -1;
	memcpy(text, file, filelen);
	if (master_state_render(st, &text, &len) == -1) {
		free(text);
		return -1;
	}
	snprintf(c.section, sizeof(c.section), "%s", group);
	snprintf(section, sizeof(section), "group %s", group);
	c.before = slb_ini_section_hash(text, len, section);
	free(text);
	return append(st, &c);
}

int master_state_set(struct master_state *st, const char *text, size_t len, const char *type,
		     const char *section, const char *key, const char *value)
{
	struct master_change c = { .kind = MASTER_CHANGE_SET };
	char name[2 * SLB_NAME_MAX];

	for (unsigned i = 0; i < st->nchanges; i++) {
		struct master_change *a = &st->changes[i];

		if (a->kind != MASTER_CHANGE_SET || strcmp(a->type, type) != 0 ||
		    strcmp(a->section, section) != 0 || strcmp(a->key, key) != 0)
			continue;
		/* Back to what it was before: nothing left to change. */
		if (slb_ini_value_hash(value) == a->before)
			master_state_forget(st, i);
		else
			snprintf(a->value, sizeof(a->value), "%s", value);
		return 0;
	}
	snprintf(c.type, sizeof(c.type), "%s", type);
	snprintf(c.section, sizeof(c.section), "%s", section);
	snprintf(c.key, sizeof(c.key), "%s", key);
	snprintf(c.value, sizeof(c.value), "%s", value);
	snprintf(name, sizeof(name), "%s %s", type, section);
	c.before = value_hash(text, len, name, key);
	if (slb_ini_value_hash(value) == c.before)
		return 0;
	return append(st, &c);
}
