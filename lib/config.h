/*
 * config.h - slb.ini loaded into a validated, immutable struct.
 *
 * The loader reads the whole file (CONFIG.md is the contract for names),
 * rejects repeated sections and keys, unknown sections and keys (with a
 * spelling suggestion), bad values and dangling cross-references, and reports
 * every error as "file:line: [section] key: message". Either the whole file
 * is valid and a struct comes back, or nothing does: callers never see a
 * half-applied configuration.
 */
#ifndef SLB_CONFIG_H
#define SLB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include "addr.h"

#define SLB_NAME_MAX 32 /* section, server and rule names, NUL included */
#define SLB_TEXT_MAX 256 /* paths, hosts, URL paths */
#define SLB_MAX_LISTENERS 256
#define SLB_MAX_GROUPS 256
#define SLB_MAX_SERVERS_PER_GROUP 256
#define SLB_MAX_SERVERS 4096 /* over all groups: the shm server table size */
#define SLB_MAX_VIPS 64
#define SLB_MAX_RULES 64
#define SLB_MAX_ACL 64
#define SLB_MAX_PEERS 8
#define SLB_MAX_WORKERS 64
#define SLB_POLL_COALESCE_MAX_US 1000

enum slb_protocol { SLB_PROTO_TCP, SLB_PROTO_UDP, SLB_PROTO_HTTP, SLB_PROTO_HTTPS };

/* http and https listeners share the HTTP proxy; https adds TLS towards the client. */
static inline bool slb_protocol_is_http(enum slb_protocol p)
{
	return p == SLB_PROTO_HTTP || p == SLB_PROTO_HTTPS;
}
enum slb_scheduler { SLB_SCHED_RR, SLB_SCHED_WRR, SLB_SCHED_WLC, SLB_SCHED_SH, SLB_SCHED_CH };
enum slb_persistence {
	SLB_PERSIST_NONE,
	SLB_PERSIST_SOURCE_IP,
	SLB_PERSIST_COOKIE_INSERT,
	SLB_PERSIST_COOKIE_REWRITE,
};
enum slb_check_type {
	SLB_CHECK_NONE,
	SLB_CHECK_TCP,
	SLB_CHECK_HTTP,
	SLB_CHECK_HTTPS,
	SLB_CHECK_UDP,
};
enum slb_check_method { SLB_CHECK_GET, SLB_CHECK_HEAD };
enum slb_log_target { SLB_LOG_SYSLOG, SLB_LOG_STDERR, SLB_LOG_FILE };
enum slb_zone { SLB_ZONE_PRIMARY, SLB_ZONE_BACKUP };
enum slb_proxy_protocol { SLB_PROXY_PROTOCOL_NONE, SLB_PROXY_PROTOCOL_V1, SLB_PROXY_PROTOCOL_V2 };
enum slb_group_type { SLB_GROUP_NORMAL, SLB_GROUP_PRIMARY_SECONDARY };
enum slb_server_role { SLB_ROLE_NONE, SLB_ROLE_PRIMARY, SLB_ROLE_SECONDARY };

struct slb_global_conf {
	char instance[SLB_NAME_MAX];
	unsigned workers; /* resolved: "auto" becomes the number of online CPUs */
	char user[SLB_NAME_MAX];
	char control_socket[SLB_TEXT_MAX];
	char pid_file[SLB_TEXT_MAX]; /* default /run/slb/<instance>.pid */
	char state_file[SLB_TEXT_MAX]; /* run-time changes; default /var/lib/slb/<instance>.state */
	bool metrics_enabled;
	struct slb_sockaddr metrics;
	enum slb_log_target log;
	char log_file[SLB_TEXT_MAX]; /* when log is a path */
	int log_level; /* LOG_ERR, LOG_WARNING, LOG_INFO or LOG_DEBUG */
	uint32_t session_table_size;
	uint32_t drain_timeout_ms; /* old workers' grace after a reload */
	uint32_t poll_coalesce_us; /* a worker under load waits this long for a batch; 0 = off */
};

struct slb_node_conf {
	char name[64];
	enum slb_zone zone;
};

struct slb_failover_conf {
	bool enabled; /* false: no [failover] section, standalone node */
	char interface[IF_NAMESIZE];
	unsigned vrid;
	unsigned priority;
	uint32_t advert_interval_ms;
	unsigned npeers;
	struct slb_sockaddr peers[SLB_MAX_PEERS];
	bool preempt;
	uint32_t preempt_delay_ms;
	char auth_key_file[SLB_TEXT_MAX];
	bool sync;
	unsigned sync_port;
	int track_group; /* index into groups, -1 = none */
	unsigned track_weight;
	uint32_t garp_interval_ms; /* gratuitous ARP refresh while master, 0 = off */
	char notify[SLB_TEXT_MAX]; /* run with the new state on every transition */
	int line;
};

struct slb_vip_conf {
	char name[SLB_NAME_MAX];
	struct slb_cidr address;
	char interface[IF_NAMESIZE];
	int line;
};

struct slb_server_conf {
	char name[SLB_NAME_MAX];
	struct slb_sockaddr addr;
	unsigned weight; /* 0..100 */
	enum slb_server_role role;
	int line;
};

struct slb_group_conf {
	char name[SLB_NAME_MAX];
	enum slb_group_type type;
	unsigned nservers;
	struct slb_server_conf *servers;
	enum slb_check_type check;
	unsigned check_port; /* 0 = the server's port */
	bool server_tls; /* http/https listeners reach these servers over TLS */
	char server_tls_ca[SLB_TEXT_MAX]; /* verify servers' certificates against it; "" = no */
	int server_tls_ca_line;
	enum slb_check_method check_method; /* http/https checks */
	char check_path[SLB_TEXT_MAX];
	char check_host[SLB_TEXT_MAX];
	uint32_t check_codes; /* bit N set = status class Nxx accepted (1..5) */
	uint32_t check_interval_ms;
	uint32_t check_timeout_ms;
	unsigned healthy_threshold;
	unsigned unhealthy_threshold;
	int line;
};

struct slb_rule_conf {
	char name[SLB_NAME_MAX];
	char host[SLB_TEXT_MAX]; /* empty = any host; "*.example.com" wildcard */
	char path[SLB_TEXT_MAX]; /* prefix; empty = any path */
	int group; /* index into groups */
	int line;
};

struct slb_tls_cert_conf {
	char name[SLB_NAME_MAX]; /* "" for tls_cert itself */
	char path[SLB_TEXT_MAX];
	int line; /* of its key, for the TLS loader's messages */
};

struct slb_listener_conf {
	char name[SLB_NAME_MAX];
	enum slb_protocol protocol;
	struct slb_sockaddr bind;
	int group; /* index into groups */
	enum slb_scheduler scheduler;
	enum slb_persistence persistence;
	uint32_t persistence_timeout_ms;
	char cookie[64];
	int backup_group; /* index into groups, -1 = none */
	unsigned failover_threshold;
	unsigned nrules;
	struct slb_rule_conf rules[SLB_MAX_RULES];
	bool x_forwarded_for;
	bool redirect_https; /* http: answer every request with a 301 to https:// */
	bool websocket; /* http/https: forward WebSocket upgrades, then tunnel */
	bool gzip;
	unsigned ntls_certs;
	struct slb_tls_cert_conf tls_certs[8];
	char tls_key[SLB_TEXT_MAX];
	int tls_key_line;
	enum slb_proxy_protocol proxy_protocol;
	unsigned nacl_allow;
	struct slb_cidr acl_allow[SLB_MAX_ACL];
	unsigned nacl_deny;
	struct slb_cidr acl_deny[SLB_MAX_ACL];
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t header_timeout_ms;
	uint32_t body_timeout_ms;
	uint32_t keepalive_timeout_ms;
	uint32_t server_timeout_ms;
	unsigned max_connections; /* 0 = unlimited */
	bool enabled; /* false: configured but stopped (not bound, refuses connections) */
	int line;
};

struct slb_config {
	char path[SLB_TEXT_MAX]; /* the name used in messages */
	struct slb_global_conf global;
	struct slb_node_conf node;
	struct slb_failover_conf failover;
	unsigned nvips;
	struct slb_vip_conf *vips;
	unsigned nlisteners;
	struct slb_listener_conf *listeners;
	unsigned ngroups;
	struct slb_group_conf *groups;
};

/*
 * Loads and validates the file at <path>. Every error is written to <errors>
 * as one line "path:line: [section] key: message" (line 0 when the error is
 * about the file as a whole). Returns the configuration, or NULL when the
 * file is not valid (or cannot be read), in which case at least one line was
 * written.
 */
struct slb_config *slb_config_load(const char *path, FILE *errors);

/*
 * Same as slb_config_load() for an already open file <fd> (a sealed memfd in
 * the daemons); <display_name> is the name used in messages. <fd> is read
 * from offset 0 and is neither modified nor closed.
 */
struct slb_config *slb_config_load_fd(int fd, const char *display_name, FILE *errors);

/*
 * Same as slb_config_load_fd() for slb.ini with the run-time changes applied
 * (the file the daemons run): a primary_secondary group may then be short of
 * a server, since slbctl fills a group or replaces a server one at a time.
 * slb.ini itself must give such a group both.
 */
struct slb_config *slb_config_load_changed_fd(int fd, const char *display_name, FILE *errors);

void slb_config_free(struct slb_config *config);

/* Returns the index of the group named <name> (case-insensitive), or -1. */
int slb_config_group_index(const struct slb_config *config, const char *name);

/* The server <name> of group <group> (both case-insensitive), or NULL. */
struct slb_server_conf *slb_config_find_server(const struct slb_config *config, const char *group,
					       const char *name);

#endif
