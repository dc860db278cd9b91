/*
 * state.c - the state file: one line per override,
 *   server GROUP NAME weight=W file_weight=F
 * written whole to a temporary file and renamed, so a crash never leaves
 * half a state behind.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "log.h"

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

void master_state_load(struct master_state *st, const char *path)
{
	char line[256], group[SLB_NAME_MAX], name[SLB_NAME_MAX];
	unsigned lineno = 0, weight, file_weight;
	FILE *f;

	snprintf(st->path, sizeof(st->path), "%s", path);
	st->n = 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			slb_warn("state file %s: %m; starting without run-time changes", path);
		return;
	}
	while (fgets(line, sizeof(line), f) && st->n < SLB_MAX_SERVERS) {
		lineno++;
		if (sscanf(line, "server %31s %31s weight=%u file_weight=%u", group, name, &weight,
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

static int save(const struct master_state *st)
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
		save(st);
}

int master_state_set_weight(struct master_state *st, const char *group, const char *name,
			    uint32_t weight, uint32_t config_weight)
{
	struct master_override *o = find(st, group, name);
	uint32_t file_weight = o ? o->file_weight : config_weight;

	if (weight == file_weight) {
		/* Back to the file's value: nothing to override any more. */
		if (o)
			drop(st, o);
		return save(st);
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
	return save(st);
}
