/*
 * test_shm.c - the shared-memory segment: header and layout, attaching
 * from an inherited fd, and how a new configuration maps onto the server
 * table (slots kept, freed, never reused in the same pass, table full);
 * the session table in it is shared by every mapping.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "clock.h"
#include "shm.h"

static char instance[32];

static void make_server(struct slb_server_conf *s, const char *name, const char *addr, unsigned weight)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	assert_int_equal(slb_sockaddr_parse(addr, &s->addr), 0);
	s->weight = weight;
}

static void make_config(struct slb_config *c, struct slb_group_conf *g, struct slb_server_conf *s,
			unsigned n, struct slb_listener_conf *l, unsigned nl)
{
	memset(c, 0, sizeof(*c));
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "web");
	g->servers = s;
	g->nservers = n;
	c->groups = g;
	c->ngroups = 1;
	c->listeners = l;
	c->nlisteners = nl;
}

static int setup(void **state)
{
	(void)state;
	snprintf(instance, sizeof(instance), "test-shm-%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	slb_shm_unlink(instance);
	return 0;
}

static void test_create_attach_unlink(void **state)
{
	struct slb_shm a, b;
	struct slb_session_key key;
	struct slb_session session;
	struct slb_sockaddr client;
	char path[64];

	(void)state;
	assert_int_equal(slb_shm_create(&a, instance, 1024), 0);
	assert_true(a.hdr->magic == SLB_SHM_MAGIC);
	assert_int_equal(a.hdr->layout_version, SLB_SHM_LAYOUT_VERSION);
	assert_int_equal(a.hdr->server_capacity, SLB_MAX_SERVERS);
	assert_int_equal(a.hdr->servers_offset % 64, 0);
	assert_int_equal(a.hdr->listeners_offset % 64, 0);
	snprintf(path, sizeof(path), "/dev/shm/slb.%s", instance);
	assert_int_equal(access(path, F_OK), 0);

	assert_int_equal(a.hdr->sessions_offset % 64, 0);
	assert_int_equal(a.hdr->session_capacity, 1024);
	assert_int_equal(slb_sessions_capacity(a.sessions), 1024);

	/* A second mapping (as a child process gets it) sees the same memory. */
	assert_int_equal(slb_shm_attach_fd(&b, a.fd), 0);
	atomic_store(&a.servers[5].active, 42);
	assert_int_equal(atomic_load(&b.servers[5].active), 42);
	assert_int_equal(slb_sockaddr_parse("198.18.0.9:4000", &client), 0);
	slb_session_key_make(&key, 1, IPPROTO_TCP, &client.u.sa, false);
	slb_sessions_put(a.sessions, &key, 5, 9, 2000, 1000);
	assert_true(slb_sessions_lookup(b.sessions, &key, 1000, &session));
	assert_int_equal(session.server_slot, 5);
	slb_shm_detach(&b);

	/* A segment with a foreign header is refused. */
	a.hdr->magic = 1;
	assert_int_equal(slb_shm_attach_fd(&b, a.fd), -1);
	a.hdr->magic = SLB_SHM_MAGIC;

	slb_shm_detach(&a);
	close(a.fd);
	slb_shm_unlink(instance);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_apply_keeps_updates_frees(void **state)
{
	struct slb_server_conf s[3];
	struct slb_group_conf g;
	struct slb_listener_conf l[1];
	struct slb_config c;
	struct slb_shm shm;
	int slot_a, slot_b, slot_c;
	uint32_t serial_a;
	struct slb_session_key key;
	struct slb_session session;

	(void)state;
	memset(l, 0, sizeof(l));
	snprintf(l[0].name, sizeof(l[0].name), "front");
	make_server(&s[0], "a", "198.18.0.11:80", 100);
	make_server(&s[1], "b", "198.18.0.12:80", 50);
	make_config(&c, &g, s, 2, l, 1);
	assert_int_equal(slb_shm_create(&shm, instance, 1024), 0);
	assert_int_equal(slb_shm_apply_config(&shm, &c), 0);
	slot_a = slb_shm_server_find(&shm, "web", "a");
	slot_b = slb_shm_server_find(&shm, "web", "b");
	assert_true(slot_a >= 0 && slot_b >= 0 && slot_a != slot_b);
	assert_int_equal(atomic_load(&shm.servers[slot_b].weight), 50);
	assert_int_equal(atomic_load(&shm.servers[slot_a].health), SLB_HEALTH_UP);
	assert_true(slb_shm_listener_find(&shm, "front") >= 0);
	serial_a = atomic_load(&shm.servers[slot_a].serial);
	slb_session_key_make(&key, (uint32_t)slb_shm_listener_find(&shm, "front"), IPPROTO_TCP,
			     &s[1].addr.u.sa, false);
	slb_sessions_put(shm.sessions, &key, (uint32_t)slot_a, serial_a, slb_now_ms() + 60000,
			 slb_now_ms());

	/* Health and counters survive a reload that keeps the server; weight follows. */
	atomic_store(&shm.servers[slot_a].health, SLB_HEALTH_DOWN);
	atomic_store(&shm.servers[slot_a].total, 7);
	atomic_store(&shm.servers[slot_b].requests, 5);
	atomic_store(&shm.servers[slot_b].retries, 3);
	atomic_store(&shm.servers[slot_b].reuse_aborts, 2);
	s[0].weight = 10;
	/* b leaves, c arrives: c must not take b's slot in the same pass. */
	make_server(&s[1], "c", "198.18.0.13:80", 100);
	make_config(&c, &g, s, 2, NULL, 0);
	assert_int_equal(slb_shm_apply_config(&shm, &c), 0);
	assert_int_equal(slb_shm_server_find(&shm, "web", "a"), slot_a);
	assert_int_equal(atomic_load(&shm.servers[slot_a].serial), serial_a);
	assert_int_equal(atomic_load(&shm.servers[slot_a].health), SLB_HEALTH_DOWN);
	assert_int_equal(atomic_load(&shm.servers[slot_a].total), 7);
	assert_int_equal(atomic_load(&shm.servers[slot_a].weight), 10);
	assert_int_equal(slb_shm_server_find(&shm, "web", "b"), -1);
	slot_c = slb_shm_server_find(&shm, "web", "c");
	assert_true(slot_c >= 0 && slot_c != slot_b);
	assert_int_equal(slb_shm_listener_find(&shm, "front"), -1);
	/* A listener that goes takes its sessions: the next one in its slot starts clean. */
	assert_false(slb_sessions_lookup(shm.sessions, &key, slb_now_ms(), &session));

	/* Same name, new address: a new server, starting up with fresh counters (in b's old slot). */
	make_server(&s[0], "a", "198.18.0.21:80", 10);
	assert_int_equal(slb_shm_apply_config(&shm, &c), 0);
	assert_int_equal(slb_shm_server_find(&shm, "web", "a"), slot_b);
	assert_int_equal(atomic_load(&shm.servers[slot_b].total), 0);
	assert_int_equal(atomic_load(&shm.servers[slot_b].requests), 0);
	assert_int_equal(atomic_load(&shm.servers[slot_b].retries), 0);
	assert_int_equal(atomic_load(&shm.servers[slot_b].reuse_aborts), 0);
	assert_int_equal(atomic_load(&shm.servers[slb_shm_server_find(&shm, "web", "a")].health),
			 SLB_HEALTH_UP);
	slb_shm_detach(&shm);
	close(shm.fd);
}

static void test_full_table_changes_nothing(void **state)
{
	static struct slb_server_conf many[SLB_MAX_SERVERS + 1];
	struct slb_group_conf g;
	struct slb_config c;
	struct slb_shm shm;

	(void)state;
	for (unsigned i = 0; i < SLB_MAX_SERVERS + 1; i++) {
		char name[16], addr[32];

		snprintf(name, sizeof(name), "s%u", i);
		snprintf(addr, sizeof(addr), "198.18.%u.%u:80", i / 250, 1 + i % 250);
		make_server(&many[i], name, addr, 1);
	}
	assert_int_equal(slb_shm_create(&shm, instance, 1024), 0);
	make_config(&c, &g, many, 2, NULL, 0);
	assert_int_equal(slb_shm_apply_config(&shm, &c), 0);
	make_config(&c, &g, many, SLB_MAX_SERVERS + 1, NULL, 0);
	assert_int_equal(slb_shm_apply_config(&shm, &c), -1);
	assert_true(slb_shm_server_find(&shm, "web", "s0") >= 0);
	assert_int_equal(slb_shm_server_find(&shm, "web", "s2"), -1);
	slb_shm_detach(&shm);
	close(shm.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_attach_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_keeps_updates_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_table_changes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
