/*
 * shm.c - creating, mapping and laying out the shared-memory segment.
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

void slb_shm_name(const char *instance, char *buf, size_t len)
{
	snprintf(buf, len, "/slb.%s", instance);
}

/* Header, servers, listeners, sessions: each table starts on a cache line. */
static size_t sessions_offset(void)
{
	return ALIGN64(sizeof(struct slb_shm_header)) +
	       ALIGN64(sizeof(struct slb_shm_server) * SLB_MAX_SERVERS) +
	       ALIGN64(sizeof(struct slb_shm_listener) * SLB_MAX_LISTENERS);
}

static size_t layout_size(uint32_t session_capacity)
{
	return sessions_offset() + slb_sessions_size(session_capacity);
}

static int map_segment(struct slb_shm *shm, int fd, size_t size)
{
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (base == MAP_FAILED) {
		slb_err("cannot map shared memory: %m");
		return -1;
	}
	shm->hdr = base;
	shm->size = size;
	shm->fd = fd;
	return 0;
}

static void point_tables(struct slb_shm *shm)
{
	char *base = (char *)shm->hdr;

	shm->servers = (struct slb_shm_server *)(base + shm->hdr->servers_offset);
	shm->listeners = (struct slb_shm_listener *)(base + shm->hdr->listeners_offset);
	shm->sessions = (struct slb_sessions *)(base + shm->hdr->sessions_offset);
}

int slb_shm_create(struct slb_shm *shm, const char *instance, uint32_t session_capacity)
{
	char name[64];
	size_t size = layout_size(session_capacity);
	int fd;

	slb_shm_name(instance, name, sizeof(name));
	/* A segment left by a killed master is stale: its processes are gone. */
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		slb_err("cannot create shared memory %s: %m", name);
		return -1;
	}
	if (ftruncate(fd, (off_t)size) == -1) {
		slb_err("cannot size shared memory %s: %m", name);
		goto bad;
	}
	if (map_segment(shm, fd, size) == -1)
		goto bad;
	shm->hdr->magic = SLB_SHM_MAGIC;
	shm->hdr->layout_version = SLB_SHM_LAYOUT_VERSION;
	shm->hdr->size = size;
	shm->hdr->server_capacity = SLB_MAX_SERVERS;
	shm->hdr->listener_capacity = SLB_MAX_LISTENERS;
	shm->hdr->servers_offset = (uint32_t)ALIGN64(sizeof(struct slb_shm_header));
	shm->hdr->listeners_offset = (uint32_t)(shm->hdr->servers_offset +
		ALIGN64(sizeof(struct slb_shm_server) * SLB_MAX_SERVERS));
	shm->hdr->sessions_offset = (uint32_t)sessions_offset();
	atomic_store(&shm->hdr->next_serial, 1);
	point_tables(shm);
	slb_sessions_init(shm->sessions, session_capacity);
	shm->hdr->session_capacity = slb_sessions_capacity(shm->sessions);
	return 0;
bad:
	close(fd);
	shm_unlink(name);
	return -1;
}

int slb_shm_attach_fd(struct slb_shm *shm, int fd)
{
	struct stat st;
	const struct slb_shm_header *hdr;

	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sizeof(*hdr)) {
		slb_err("shared memory fd %d is not a segment", fd);
		return -1;
	}
	if (map_segment(shm, fd, (size_t)st.st_size) == -1)
		return -1;
	hdr = shm->hdr;
	if (hdr->magic != SLB_SHM_MAGIC || hdr->layout_version != SLB_SHM_LAYOUT_VERSION ||
	    hdr->size != (uint64_t)st.st_size || hdr->server_capacity != SLB_MAX_SERVERS ||
	    hdr->listener_capacity != SLB_MAX_LISTENERS ||
	    hdr->size != layout_size(hdr->session_capacity) ||
	    hdr->sessions_offset != sessions_offset()) {
		slb_err("shared memory layout mismatch (magic %llx version %u)",
			(unsigned long long)hdr->magic, hdr->layout_version);
		munmap(shm->hdr, shm->size);
		shm->hdr = NULL;
		return -1;
	}
	point_tables(shm);
	if (slb_sessions_capacity(shm->sessions) != hdr->session_capacity) {
		slb_err("shared memory session table mismatch (%u entries, header says %u)",
			slb_sessions_capacity(shm->sessions), hdr->session_capacity);
		slb_shm_detach(shm);
		return -1;
	}
	return 0;
}

void slb_shm_detach(struct slb_shm *shm)
{
	if (shm->hdr)
		munmap(shm->hdr, shm->size);
	shm->hdr = NULL;
}

void slb_shm_unlink(const char *instance)
{
	char name[64];

	slb_shm_name(instance, name, sizeof(name));
	shm_unlink(name);
}

int slb_shm_server_find(const struct slb_shm *shm, const char *group, const char *name)
{
	for (int i = 0; i < SLB_MAX_SERVERS; i++) {
		const struct slb_shm_server *s = &shm->servers[i];

		if (atomic_load_explicit(&s->serial, memory_order_acquire) != 0 &&
		    strcmp(s->group, group) == 0 && strcmp(s->name, name) == 0)
			return i;
	}
	return -1;
}

int slb_shm_listener_find(const struct slb_shm *shm, const char *name)
{
	for (int i = 0; i < SLB_MAX_LISTENERS; i++) {
		const struct slb_shm_listener *l = &shm->listeners[i];

		if (atomic_load_explicit(&l->serial, memory_order_acquire) != 0 &&
		    strcmp(l->name, name) == 0)
			return i;
	}
	return -1;
}

static bool listener_in_config(const struct slb_config *config, const char *name)
{
	for (unsigned i = 0; i < config->nlisteners; i++)
		if (strcmp(config->listeners[i].name, name) == 0)
			return true;
	return false;
}

static uint32_t take_serial(struct slb_shm *shm)
{
	uint32_t serial = atomic_fetch_add(&shm->hdr->next_serial, 1);

	if (serial == 0) /* wrapped: 0 means free */
		serial = atomic_fetch_add(&shm->hdr->next_serial, 1);
	return serial;
}

/* A slot whose server stays: same name in the same group at the same address. */
static bool server_slot_kept(const struct slb_config *config, const struct slb_shm_server *s)
{
	const struct slb_server_conf *sc = slb_config_find_server(config, s->group, s->name);

	return sc && slb_sockaddr_equal(&sc->addr, &s->addr);
}

static void server_slot_fill(struct slb_shm *shm, struct slb_shm_server *s, const char *group,
			     const struct slb_server_conf *sc, uint32_t health)
{
	/* Fields first, serial last: a reader that sees the serial sees the rest. */
	snprintf(s->group, sizeof(s->group), "%s", group);
	snprintf(s->name, sizeof(s->name), "%s", sc->name);
	s->addr = sc->addr;
	atomic_store(&s->weight, sc->weight);
	atomic_store(&s->health, health);
	atomic_store(&s->active, 0);
	atomic_store(&s->total, 0);
	atomic_store(&s->failed, 0);
	atomic_store(&s->bytes_in, 0);
	atomic_store(&s->bytes_out, 0);
	atomic_store(&s->requests, 0);
	atomic_store(&s->retries, 0);
	atomic_store(&s->reuse_aborts, 0);
	atomic_store(&s->last_check_ms, 0);
	atomic_store(&s->check_latency_us, 0);
	atomic_store(&s->check_streak, 0);
	atomic_store(&s->transitions, 0);
	atomic_store(&s->drain_deadline_ms, 0);
	atomic_store_explicit(&s->serial, take_serial(shm), memory_order_release);
}

static int apply_servers(struct slb_shm *shm, const struct slb_config *config)
{
	static bool just_freed[SLB_MAX_SERVERS];
	unsigned needed = 0, free_now = 0;
	/*
	 * At start every server is taken as up until its checks say otherwise
	 * (nothing is known yet, and refusing everyone would be worse). One
	 * that joins a running node is down until its first passing check.
	 */
	bool first_layout = atomic_load(&shm->hdr->generation) == 0;

	/* Count first, so a full table changes nothing. */
	for (int i = 0; i < SLB_MAX_SERVERS; i++)
		if (atomic_load(&shm->servers[i].serial) == 0)
			free_now++;
	for (unsigned g = 0; g < config->ngroups; g++)
		for (unsigned i = 0; i < config->groups[g].nservers; i++) {
			int slot = slb_shm_server_find(shm, config->groups[g].name,
						       config->groups[g].servers[i].name);

			if (slot < 0 || !server_slot_kept(config, &shm->servers[slot]))
				needed++;
		}
	if (needed > free_now) {
		slb_err("shared memory server table full (%u slots)", SLB_MAX_SERVERS);
		return -1;
	}
	/*
	 * Release first (an address change is a new server under an old name),
	 * but never hand a slot out again in the same pass: workers of the
	 * previous generation may still be closing connections counted on it.
	 */
	for (int i = 0; i < SLB_MAX_SERVERS; i++) {
		struct slb_shm_server *s = &shm->servers[i];

		just_freed[i] = false;
		if (atomic_load(&s->serial) == 0)
			continue;
		if (!server_slot_kept(config, s)) {
			atomic_store_explicit(&s->serial, 0, memory_order_release);
			just_freed[i] = true;
		} else {
			atomic_store(&s->weight, slb_config_find_server(config, s->group, s->name)->weight);
		}
	}
	for (unsigned g = 0; g < config->ngroups; g++) {
		const struct slb_group_conf *gc = &config->groups[g];

		for (unsigned i = 0; i < gc->nservers; i++) {
			int slot = slb_shm_server_find(shm, gc->name, gc->servers[i].name);

			if (slot >= 0)
				continue;
			for (slot = 0; slot < SLB_MAX_SERVERS; slot++)
				if (!just_freed[slot] && atomic_load(&shm->servers[slot].serial) == 0)
					break;
			server_slot_fill(shm, &shm->servers[slot], gc->name, &gc->servers[i],
					 first_layout || gc->check == SLB_CHECK_NONE
						 ? SLB_HEALTH_UP
						 : SLB_HEALTH_DOWN);
		}
	}
	return 0;
}

static void apply_listeners(struct slb_shm *shm, const struct slb_config *config)
{
	for (int i = 0; i < SLB_MAX_LISTENERS; i++) {
		struct slb_shm_listener *l = &shm->listeners[i];

		if (atomic_load(&l->serial) != 0 && !listener_in_config(config, l->name)) {
			atomic_store_explicit(&l->serial, 0, memory_order_release);
			/* A listener later given this slot must not inherit them. */
			slb_sessions_flush(shm->sessions, i);
		}
	}
	for (unsigned i = 0; i < config->nlisteners; i++) {
		struct slb_shm_listener *l;
		int slot;

		if (slb_shm_listener_find(shm, config->listeners[i].name) >= 0)
			continue;
		for (slot = 0; slot < SLB_MAX_LISTENERS; slot++)
			if (atomic_load(&shm->listeners[slot].serial) == 0)
				break;
		l = &shm->listeners[slot];
		snprintf(l->name, sizeof(l->name), "%s", config->listeners[i].name);
		atomic_store(&l->active, 0);
		atomic_store(&l->total, 0);
		atomic_store(&l->no_server, 0);
		atomic_store(&l->denied, 0);
		atomic_store(&l->bytes_in, 0);
		atomic_store(&l->bytes_out, 0);
		atomic_store(&l->requests, 0);
		atomic_store(&l->on_backup, 0);
		atomic_store_explicit(&l->serial, take_serial(shm), memory_order_release);
	}
}

int slb_shm_apply_config(struct slb_shm *shm, const struct slb_config *config)
{
	if (apply_servers(shm, config) == -1)
		return -1;
	apply_listeners(shm, config);
	atomic_fetch_add(&shm->hdr->generation, 1);
	return 0;
}
