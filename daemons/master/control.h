/*
 * control.h - the control socket's commands (control_cmds.c), called by the
 * connection handling in control.c.
 */
#ifndef SLB_MASTER_CONTROL_H
#define SLB_MASTER_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl.h"
#include "master.h"

/*
 * Runs <req> and writes its answer body (text or JSON, as req->json says)
 * to <out>. Returns 0, or -1 with a one-line reason in <err> of <errlen>
 * bytes, in which case nothing was changed and <out> is discarded.
 */
int control_run(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		size_t errlen);

/* slbctl sessions [LISTENER] and sessions flush [LISTENER] (control_sessions.c). */
int control_sessions(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		     size_t errlen);
int control_sessions_flush(struct master *m, const struct slb_ctl_request *req, FILE *out,
			   char *err, size_t errlen);

/* "weight=N" (0..100) into <weight>: 0, or -1 with the reason in <err>. */
int control_parse_weight(const char *arg, uint32_t *weight, char *err, size_t errlen);

/* control_changes.c: the commands that change the configuration (as control_run) */
int control_server_add(struct master *m, const struct slb_ctl_request *req, FILE *out,
		       char *err, size_t errlen);
int control_server_remove(struct master *m, const struct slb_ctl_request *req, FILE *out,
			  char *err, size_t errlen);
int control_group_create(struct master *m, const struct slb_ctl_request *req, FILE *out,
			 char *err, size_t errlen);
int control_group_delete(struct master *m, const struct slb_ctl_request *req, FILE *out,
			 char *err, size_t errlen);
int control_group_set(struct master *m, const struct slb_ctl_request *req, FILE *out,
		      char *err, size_t errlen);
int control_listener_switch(struct master *m, const struct slb_ctl_request *req, FILE *out,
			    char *err, size_t errlen);

#endif
