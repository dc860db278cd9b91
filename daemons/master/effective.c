/*
 * effective.c - the configuration the daemons run: slb.ini's bytes with the
 * run-time changes (state.h) applied, validated by the one loader, in a
 * sealed memfd that every child reads.
 *
 * slb.ini is validated alone first, so its own errors carry its own line
 * numbers. A change that makes the result invalid (slb.ini was edited in a
 * way that contradicts it: a listener now names a deleted group) is
 * dropped with the loader's reason in the log; slb.ini always wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

int master_memfd_sealed(const char *bytes, size_t len)
{
	int fd = memfd_create("slb.ini", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t done = 0;

	if (fd == -1)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, bytes + done, len - done);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto bad;
		done += (size_t)n;
	}
	/* Sealed: no child can see bytes other than the ones validated. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) == -1)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

char *master_fd_read(int fd, size_t *len)
{
	struct stat st;
	char *buf;
	size_t done = 0;

	if (fstat(fd, &st) == -1)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		done += (size_t)n;
	}
	buf[done] = '\0';
	*len = done;
	return buf;
}

/* <errors> without "path:line: " (they are about the rendered text), first line only. */
static void first_error(const char *errors, char *out, size_t len)
{
	const char *p = errors ? errors : "";
	const char *colon = strstr(p, ": ");
	size_t line = strcspn(p, "\n");

	if (colon && (size_t)(colon - p) < line)
		p = colon + 2;
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
}

/*
 * Renders <st>'s first <k> changes over <file> and loads the result; the
 * config (and its sealed fd in <*fd>) or NULL with the loader's first
 * error in <why>.
 */
static struct slb_config *render_load(struct master *m, struct master_state *st, unsigned k,
				      const char *file, size_t filelen, int *fd, char *why,
				      size_t whylen)
{
	unsigned n = st->nchanges;
	struct slb_config *config = NULL;
	char *text = malloc(filelen + 1), *errors = NULL;
	size_t len = filelen, errlen = 0;
	FILE *err = open_memstream(&errors, &errlen);

	*fd = -1;
	snprintf(why, whylen, "out of memory");
	if (!text || !err)
		goto out;
	memcpy(text, file, filelen);
	st->nchanges = k; /* prefixes were rendered whole before: nothing is dropped */
	if (master_state_render(st, &text, &len) == -1)
		goto out;
	*fd = master_memfd_sealed(text, len);
	if (*fd >= 0)
		config = master_config_load(m, *fd, true, err);
	fflush(err);
	if (!config)
		first_error(errors, why, whylen);
out:
	st->nchanges = n;
	if (!config && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (err)
		fclose(err);
	free(errors);
	free(text);
	return config;
}

int master_config_effective(struct master *m, struct master_state *st, int file_fd,
			    struct slb_config **out, FILE *errors)
{
	struct slb_config *config = master_config_load(m, file_fd, false, errors);
	char *file, *text, why[512], name[160];
	size_t len, textlen;
	int fd, dropped;

	if (!config)
		return -1;
	if (st->nchanges == 0) {
		fd = fcntl(file_fd, F_DUPFD_CLOEXEC, 0);
		if (fd == -1) {
			fprintf(errors, "%s:0: cannot duplicate the snapshot: %s\n", m->config_path,
				strerror(errno));
			slb_config_free(config);
			return -1;
		}
		goto done;
	}
	slb_config_free(config);
	file = master_fd_read(file_fd, &len);
	textlen = len;
	if (!file) {
		fprintf(errors, "%s:0: cannot read the snapshot back\n", m->config_path);
		return -1;
	}
	/* Changes slb.ini contradicts now are dropped first. */
	text = malloc(len + 1);
	dropped = text ? (memcpy(text, file, len), master_state_render(st, &text, &textlen)) : -1;
	free(text);
	if (dropped == -1) {
		free(file);
		fprintf(errors, "%s:0: out of memory\n", m->config_path);
		return -1;
	}
	if (dropped)
		master_state_save(st);
	config = render_load(m, st, st->nchanges, file, len, &fd, why, sizeof(why));
	/* Invalid as a whole: keep each change only if it still validates. */
	for (unsigned k = 1; !config && k <= st->nchanges;) {
		struct slb_config *c = render_load(m, st, k, file, len, &fd, why, sizeof(why));

		if (c) {
			slb_config_free(c);
			close(fd);
			k++;
			continue;
		}
		master_change_describe(&st->changes[k - 1], name, sizeof(name));
		slb_warn("run-time change '%s' dropped: %s", name, why);
		master_state_forget(st, k - 1);
		master_state_save(st);
	}
	if (!config)
		config = render_load(m, st, st->nchanges, file, len, &fd, why, sizeof(why));
	free(file);
	if (!config) {
		fprintf(errors, "%s:0: with the run-time changes: %s\n", m->config_path, why);
		return -1;
	}
done:
	master_state_apply(st, config);
	*out = config;
	return fd;
}

int master_state_commit(struct master *m, struct master_state *st, char *err, size_t errlen)
{
	char *file, why[512];
	size_t len;
	struct slb_config *next;
	int fd, file_fd;

	if (m->stopping) {
		snprintf(err, errlen, "slb-master is stopping");
		return -1;
	}
	file = master_fd_read(m->file_fd, &len);
	if (!file) {
		snprintf(err, errlen, "cannot read the running configuration back");
		return -1;
	}
	next = render_load(m, st, st->nchanges, file, len, &fd, why, sizeof(why));
	free(file);
	if (!next) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	master_state_apply(st, next);
	file_fd = fcntl(m->file_fd, F_DUPFD_CLOEXEC, 0);
	if (file_fd == -1 || master_state_save(st) == -1) {
		snprintf(err, errlen, "cannot write the state file %s (see the log)", st->path);
		goto bad;
	}
	if (master_switch(m, next, fd, file_fd) == -1) {
		master_state_save(&m->state);
		snprintf(err, errlen, "cannot apply it (see the log); nothing changed");
		goto bad;
	}
	m->state = *st;
	slb_info("run-time change applied (generation %u)", m->generation);
	return 0;
bad:
	if (file_fd >= 0)
		close(file_fd);
	close(fd);
	slb_config_free(next);
	return -1;
}
