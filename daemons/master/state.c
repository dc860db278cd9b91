/*
 * state.c - the state file, one line per weight override and per change:
 *   server GROUP NAME weight=W file_weight=F
 *   add-server GROUP NAME ADDR weight=W [role=ROLE]
 *   remove-server GROUP NAME before=HASH
 *   add-group GROUP type=TYPE
 *   delete-group GROUP before=HASH
 *   set TYPE SECTION KEY VALUE before=HASH
 * written whole to a temporary file, synced and renamed, so a crash never
 * leaves half a state behind.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_values.h"
#include "files.h"
#include "log.h"

#define LINE_MAX_LEN 512

static struct master_override *find(struct master_state *st, const char *group, const char *name)
{
	for (unsigned i = 0; i < st->n; i++)
		if (strcmp(st->items[i].group, group) == 0 && strcmp(st->items[i].name, name) == 0)
			return &st->items[i];
	return NULL;
}

static void drop(struct master_state *st, struct master_override *o)
{
	*o = st->items[--st->n];
}

/*
 * An added server's " role=ROLE" at <line> + <*end>, if any: sets c->role and
 * moves <*end> past it. Returns 0, or -1 when it is there but not a role.
 */
static int role_parse(const char *line, int *end, struct master_change *c)
{
	char role[16], why[SLB_VALUE_ERRLEN];
	int more = 0;

	if (strncmp(line + *end, "role=", 5) != 0)
		return 0;
	if (sscanf(line + *end, "role=%15s %n", role, &more) != 1 || !more ||
	    slb_value_role(role, &c->role, why) == -1)
		return -1;
	*end += more;
	return 0;
}

/* One change line (not a weight override) into st->changes. Returns 0 or -1. */
static int change_parse(const char *line, struct master_state *st)
{
	struct master_change c = { .kind = MASTER_CHANGE_SET };
	unsigned long long before = 0;
	int end = 0;

	snprintf(c.type, sizeof(c.type), "group");
	if (sscanf(line, "add-server %31s %31s %127s weight=%u %n", c.section, c.key, c.value,
		   &c.weight, &end) == 4 && end && c.weight <= 100 && role_parse(line, &end, &c) == 0)
		c.kind = MASTER_CHANGE_ADD_SERVER;
	else if (sscanf(line, "remove-server %31s %31s before=%llx %n", c.section, c.key, &before,
			&end) == 3 && end)
		c.kind = MASTER_CHANGE_REMOVE_SERVER;
	else if (sscanf(line, "add-group %31s type=%127s %n", c.section, c.value, &end) == 2 && end)
		c.kind = MASTER_CHANGE_ADD_GROUP;
	else if (sscanf(line, "delete-group %31s before=%llx %n", c.section, &before, &end) == 2 &&
		 end)
		c.kind = MASTER_CHANGE_DELETE_GROUP;
	else if (sscanf(line, "set %31s %31s %31s %127s before=%llx %n", c.type, c.section, c.key,
			c.value, &before, &end) == 5 && end)
		c.kind = MASTER_CHANGE_SET;
	else
		return -1;
	if (line[end] != '\0')
		return -1;
	c.before = before;
	st->changes[st->nchanges++] = c;
	return 0;
}

static void change_write(FILE *f, const struct master_change *c)
{
	unsigned long long before = c->before;

	switch (c->kind) {
	case MASTER_CHANGE_ADD_SERVER:
		fprintf(f, "add-server %s %s %s weight=%u", c->section, c->key, c->value, c->weight);
		if (c->role != SLB_ROLE_NONE)
			fprintf(f, " role=%s", slb_value_role_name(c->role));
		fputc('\n', f);
		break;
	case MASTER_CHANGE_REMOVE_SERVER:
		fprintf(f, "remove-server %s %s before=%llx\n", c->section, c->key, before);
		break;
	case MASTER_CHANGE_ADD_GROUP:
		fprintf(f, "add-group %s type=%s\n", c->section, c->value);
		break;
	case MASTER_CHANGE_DELETE_GROUP:
		fprintf(f, "delete-group %s before=%llx\n", c->section, before);
		break;
	case MASTER_CHANGE_SET:
		fprintf(f, "set %s %s %s %s before=%llx\n", c->type, c->section, c->key, c->value,
			before);
		break;
	}
}

void master_state_load(struct master_state *st, const char *path)
{
	char line[LINE_MAX_LEN], group[SLB_NAME_MAX], name[SLB_NAME_MAX];
	unsigned lineno = 0, weight, file_weight;
	FILE *f;

	snprintf(st->path, sizeof(st->path), "%s", path);
	st->n = st->nchanges = 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			slb_warn("state file %s: %m; starting without run-time changes", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#')
			continue;
		if (strncmp(line, "server ", 7) != 0) {
			if (st->nchanges == MASTER_MAX_CHANGES || change_parse(line, st) == -1)
				slb_warn("state file %s:%u: not understood, ignored", path, lineno);
			continue;
		}
		if (st->n == SLB_MAX_SERVERS ||
		    sscanf(line, "server %31s %31s weight=%u file_weight=%u", group, name, &weight,
			   &file_weight) != 4 || weight > 100 || file_weight > 100 ||
		    find(st, group, name)) {
			slb_warn("state file %s:%u: not understood, ignored", path, lineno);
			continue;
		}
		snprintf(st->items[st->n].group, SLB_NAME_MAX, "%s", group);
		snprintf(st->items[st->n].name, SLB_NAME_MAX, "%s", name);
		st->items[st->n].weight = weight;
		st->items[st->n].file_weight = file_weight;
		st->n++;
	}
	fclose(f);
}

int master_state_save(const struct master_state *st)
{
	char tmp[SLB_TEXT_MAX + 8];
	FILE *f;

	slb_make_parent_dir(st->path, 0750);
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	f = fopen(tmp, "we");
	if (!f)
		goto bad;
	fprintf(f, "# slb run-time changes (slbctl); written by slb-master, do not edit\n");
	for (unsigned i = 0; i < st->n; i++)
		fprintf(f, "server %s %s weight=%u file_weight=%u\n", st->items[i].group,
			st->items[i].name, st->items[i].weight, st->items[i].file_weight);
	for (unsigned i = 0; i < st->nchanges; i++)
		change_write(f, &st->changes[i]);
	if (fflush(f) == EOF || fsync(fileno(f)) == -1) {
		fclose(f);
		goto bad;
	}
	if (fclose(f) == EOF || rename(tmp, st->path) == -1)
		goto bad;
	return 0;
bad:
	slb_err("state file %s: cannot write: %m", st->path);
	unlink(tmp);
	return -1;
}

void master_state_apply(struct master_state *st, struct slb_config *config)
{
	bool dropped = false;

	for (unsigned i = 0; i < st->n;) {
		struct master_override *o = &st->items[i];
		struct slb_server_conf *sc = slb_config_find_server(config, o->group, o->name);

		if (!sc || sc->weight != o->file_weight) {
			slb_info("server %s/%s: run-time weight %u dropped (%s)", o->group, o->name,
				 o->weight, sc ? "slb.ini changed it since" : "no longer in slb.ini");
			drop(st, o);
			dropped = true;
			continue;
		}
		sc->weight = o->weight;
		i++;
	}
	if (dropped)
		master_state_save(st);
}

int master_state_set_weight(struct master_state *st, const char *group, const char *name,
			    uint32_t weight, uint32_t config_weight)
{
	struct master_override *o = find(st, group, name);
	uint32_t file_weight = o ? o->file_weight : config_weight;

	for (unsigned i = 0; i < st->nchanges; i++) {
		struct master_change *c = &st->changes[i];

		if (c->kind == MASTER_CHANGE_ADD_SERVER && strcmp(c->section, group) == 0 &&
		    strcmp(c->key, name) == 0) {
			c->weight = weight;
			return master_state_save(st);
		}
	}

	if (weight == file_weight) {
		/* Back to the file's value: nothing to override any more. */
		if (o)
			drop(st, o);
		return master_state_save(st);
	}
	if (!o) {
		if (st->n == SLB_MAX_SERVERS)
			return -1;
		o = &st->items[st->n++];
		snprintf(o->group, sizeof(o->group), "%s", group);
		snprintf(o->name, sizeof(o->name), "%s", name);
		o->file_weight = file_weight;
	}
	o->weight = weight;
	return master_state_save(st);
}
