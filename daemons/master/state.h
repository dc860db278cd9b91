/*
 * state.h - run-time changes (slbctl) kept across reloads and restarts.
 *
 * The rule: the most recent change wins. A weight set with slbctl
 * overrides the file's weight for that server; the override is kept in
 * [global] state_file and applied on top of slb.ini at every start and
 * reload, until the server's weight in slb.ini itself changes (the
 * operator edited the file since: the file wins and the override is
 * dropped), the server leaves slb.ini, or slbctl sets the file's value.
 */
#ifndef SLB_MASTER_STATE_H
#define SLB_MASTER_STATE_H

#include <stdint.h>

#include "config.h"

struct master_override {
	char group[SLB_NAME_MAX];
	char name[SLB_NAME_MAX];
	uint32_t weight; /* set at run time */
	uint32_t file_weight; /* slb.ini's weight when it was set */
};

struct master_state {
	char path[SLB_TEXT_MAX];
	unsigned n;
	struct master_override items[SLB_MAX_SERVERS];
};

/* Reads <path> (a missing file is an empty state; bad lines are skipped, logged). */
void master_state_load(struct master_state *st, const char *path);

/* Applies the overrides to <config>'s weights, dropping the stale ones (saved). */
void master_state_apply(struct master_state *st, struct slb_config *config);

/*
 * Records that GROUP/NAME now has <weight> at run time, where slb.ini says
 * <config_weight> (or the override in force). Returns 0, or -1 when the
 * file could not be written (logged; the change itself still holds).
 */
int master_state_set_weight(struct master_state *st, const char *group, const char *name,
			    uint32_t weight, uint32_t config_weight);

#endif
