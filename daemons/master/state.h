/*
 * state.h - run-time changes (slbctl) kept across reloads and restarts.
 *
 * The rule: the most recent change wins. Each change made with slbctl is
 * kept in [global] state_file, in the order it was made, together with
 * what it changed as it stood then (a weight; for the other changes a hash
 * of the key's value or of the group's section). At every start and
 * reload the changes are applied, in order, on top of slb.ini's bytes; a
 * change whose target reads differently now was overtaken by an edit of
 * slb.ini (the file is then the newer word): it is dropped and logged.
 *
 *   weight      server set on a server of slb.ini: until slb.ini's weight
 *               for it changes, it leaves the file, or slbctl sets the
 *               file's own value
 *   add-server  server add: until slb.ini gets a server of that name in
 *               that group, or the group goes
 *   remove-server, set, delete-group: until slb.ini changes that server's
 *               line, that key, or anything in that group's section
 *   add-group   group create: until slb.ini gets a group of that name
 *
 * Removing what was added at run time forgets the addition; deleting a
 * group forgets every change made to it.
 */
#ifndef SLB_MASTER_STATE_H
#define SLB_MASTER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define MASTER_MAX_CHANGES 1024
#define MASTER_VALUE_MAX 128

struct master_override {
	char group[SLB_NAME_MAX];
	char name[SLB_NAME_MAX];
	uint32_t weight; /* set at run time */
	uint32_t file_weight; /* slb.ini's weight when it was set */
};

enum master_change_kind {
	MASTER_CHANGE_ADD_SERVER,
	MASTER_CHANGE_REMOVE_SERVER,
	MASTER_CHANGE_ADD_GROUP,
	MASTER_CHANGE_DELETE_GROUP,
	MASTER_CHANGE_SET,
};

/* One change to slb.ini's text, as the state file keeps it. */
struct master_change {
	enum master_change_kind kind;
	char type[SLB_NAME_MAX]; /* section type: "group", or "listener" for SET */
	char section[SLB_NAME_MAX]; /* the group's or listener's name */
	char key[SLB_NAME_MAX]; /* server name, or the key a SET sets */
	char value[MASTER_VALUE_MAX]; /* ADDR of an added server, a group's type, a SET's value */
	uint32_t weight; /* an added server's */
	enum slb_server_role role; /* an added server's, in a primary_secondary group */
	uint64_t before; /* hash of what it changed as it stood (ini_edit.h) */
};

struct master_state {
	char path[SLB_TEXT_MAX];
	unsigned n;
	struct master_override items[SLB_MAX_SERVERS];
	unsigned nchanges;
	struct master_change changes[MASTER_MAX_CHANGES];
};

/* Reads <path> (a missing file is an empty state; bad lines are skipped, logged). */
void master_state_load(struct master_state *st, const char *path);

/* Writes the state file whole (temporary file, fsync, rename). 0 or -1 (logged). */
int master_state_save(const struct master_state *st);

/* Applies the overrides to <config>'s weights, dropping the stale ones (saved). */
void master_state_apply(struct master_state *st, struct slb_config *config);

/*
 * Records that GROUP/NAME now has <weight> at run time, where slb.ini says
 * <config_weight> (or the override in force). A server added at run time
 * has its addition's weight changed instead. Returns 0, or -1 when the
 * file could not be written (logged; the change itself still holds).
 */
int master_state_set_weight(struct master_state *st, const char *group, const char *name,
			    uint32_t weight, uint32_t config_weight);

/* state_changes.c ---------------------------------------------------------------- */

/*
 * Applies the changes in order to <*text> (slb.ini's bytes, <*len> long;
 * replaced by the result). Changes that no longer apply are dropped from
 * <st> and logged (the caller saves). Returns the number dropped, or -1
 * when memory ran out.
 */
int master_state_render(struct master_state *st, char **text, size_t *len);

/* "server add web b3" and the like, for messages, into <buf> of <len> bytes. */
void master_change_describe(const struct master_change *c, char *buf, size_t len);

/* Forgets change <i>. */
void master_state_forget(struct master_state *st, unsigned i);

/*
 * Recording one change in a tentative state, given <text> (<len> bytes),
 * the configuration text the state renders to now. Each returns 0, or -1
 * when the list is full or memory ran out. Names are as slb.ini spells them.
 */
int master_state_add_server(struct master_state *st, const char *group, const char *name,
			    const char *addr, uint32_t weight, enum slb_server_role role);
int master_state_remove_server(struct master_state *st, const char *text, size_t len,
			       const char *group, const char *name);
int master_state_add_group(struct master_state *st, const char *group, const char *type);
int master_state_delete_group(struct master_state *st, const char *file, size_t filelen,
			      const char *group);
int master_state_set(struct master_state *st, const char *text, size_t len, const char *type,
		     const char *section, const char *key, const char *value);

#endif
