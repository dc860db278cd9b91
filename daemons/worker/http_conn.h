/*
 * http_conn.h - the records of the HTTP proxy: a client connection with the
 * transaction it is in, a connection to a server (in use by one client or
 * idle in the worker's pool), and the worker-wide HTTP state.
 *
 * One transaction at a time per client: a pipelined request waits in the
 * client's input buffer until the response before it is through, which is
 * what keeps responses in request order.
 */
#ifndef SLB_HTTP_CONN_H
#define SLB_HTTP_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "addr.h"
#include "conn_pool.h"
#include "dlist.h"
#include "gzip.h"
#include "http_buf.h"
#include "http_parser.h"
#include "http_policy.h"
#include "http_tls.h"
#include "worker.h"

struct http_conn;

struct http_server {
	enum worker_tag tag; /* first: epoll data */
	int fd;
	int slot; /* in the shared server table */
	uint32_t serial; /* of the slot when connected: a reload may reuse it */
	bool connecting;
	bool reused; /* came from the idle pool: the server may have closed it meanwhile */
	bool readable;
	bool writable;
	bool rdhup; /* the peer's FIN was reported: a short read no longer means drained */
	bool watch_out; /* EPOLLOUT is in the epoll set */
	bool eof;
	bool write_failed; /* refused a write (reset): nothing more goes to it, its answer is still read */
	bool closed; /* in the graveyard: later events of this batch are stale */
	struct http_tls tls; /* server_tls groups: TLS towards the server */
	struct http_conn *owner; /* NULL while idle */
	struct http_buf in; /* from the server */
	struct http_buf out; /* to the server */
	uint64_t idle_since_ms;
	uint64_t bytes_in; /* not yet added to the server's counters */
	uint64_t bytes_out;
	struct dlist_node slot_node; /* idle: in the pool list of its slot */
	struct dlist_node lru_node; /* idle: in the pool's list by age */
	struct http_server *next_dead;
};

enum http_req_state {
	REQ_HEAD, /* reading a request head */
	REQ_BODY, /* forwarding its body */
	REQ_SENT, /* all of it is on its way to the server */
};

enum http_resp_state {
	RESP_HEAD, /* waiting for a (1xx or final) response head */
	RESP_BODY,
	RESP_DONE,
	RESP_TUNNEL, /* after a 101 to a WebSocket upgrade: bytes both ways until both close */
};

/* How a response body reaches the client. */
enum http_out_mode {
	OUT_AS_IS, /* the server's bytes (Content-Length, or until close to a 1.0 client) */
	OUT_CHUNK, /* decoded or close-delimited data, chunked again for a 1.1 client */
	OUT_DECHUNK, /* chunked from the server, plain to a 1.0 client, then close */
};

#define HTTP_LOG_REQLINE 256
#define HTTP_LOG_HOST 128

struct http_conn {
	enum worker_tag tag; /* first: epoll data */
	int fd;
	bool closed; /* in the graveyard */
	bool readable;
	bool writable;
	bool rdhup;
	bool watch_out;
	bool eof; /* the client half-closed */
	bool closing; /* close once <out> is written */
	bool lingering; /* our FIN is out: reading what the client still sends, then close */
	int linger_undelivered; /* what the kernel still held for the client when lingering was last extended; -1 = not yet */
	struct http_tls tls; /* https: the client's TLS (http_tls.c) */
	bool upgrade; /* this request's WebSocket upgrade goes to the server */
	bool tunnel_up_shut; /* tunnel: the client's FIN was passed to the server */
	bool tunnel_down_shut; /* tunnel: the server's FIN was passed to the client */
	struct worker_listener *l;
	struct http_server *srv;
	struct http_buf in; /* from the client */
	struct http_buf out; /* to the client */
	struct slb_sockaddr client;
	char client_ip[INET6_ADDRSTRLEN];
	enum http_timer timer;
	uint64_t timer_since_ms;
	struct dlist_node timer_node; /* in l->http_waiting[timer] */
	struct http_conn *next_dead;
	unsigned requests; /* transactions completed on this connection */

	/* the transaction */
	enum http_req_state req;
	enum http_resp_state resp;
	struct slb_http_scan scan; /* of the request head, then of response heads */
	enum slb_http_method method;
	unsigned minor;
	bool keep_alive; /* the client may send another request after this one */
	bool client_last; /* the client said this request is its last, and it was read whole */
	bool replayable; /* idempotent, body all in <in>: may go again to a fresh connection */
	bool retried; /* the one retry (connect failure or stale pooled connection) is spent */
	bool resp_started; /* response bytes were written to the client */
	/* A replayable request stays at the start of <in> until its response begins: */
	uint32_t pinned_head; /* bytes of its head */
	uint32_t pinned_body; /* bytes of its body after them */
	uint32_t body_taken; /* of those, forwarded to the server connection */
	enum slb_http_framing req_framing;
	uint64_t req_left; /* body bytes not yet taken from the client */
	bool req_splicing; /* the rest of the request body goes through <req_pipe> */
	struct slb_pipe req_pipe;
	struct slb_http_chunked req_chunk;
	enum slb_http_framing resp_framing;
	enum http_out_mode out_mode;
	bool server_keep_alive;
	uint64_t resp_left; /* body bytes not yet taken from the server */
	bool resp_splicing; /* the rest of the response body goes through <resp_pipe> (http_splice.c) */
	struct slb_pipe resp_pipe;
	struct slb_http_chunked resp_chunk;
	unsigned status;
	struct http_route_result route; /* rule, server and whether the client's cookie chose it */
	bool accept_gzip; /* the request takes gzip (and is not HEAD) */
	bool gzip; /* this response is compressed (http_gzip.c) */
	bool gz_last; /* the server's body is all in: finish the stream after gz_run */
	bool gz_flushed; /* nothing new since the last sync flush */
	uint32_t gz_run; /* body bytes at the head of the server's buffer not compressed yet */
	struct slb_gzip gz; /* the compressor, allocated at the first compressed response */
	int log_slot; /* the server that answered, for the access log */
	uint32_t log_serial;
	uint64_t bytes_in; /* from the client, this transaction */
	uint64_t bytes_out; /* to the client, this transaction */
	uint64_t t_start_ms; /* first byte of the request */
	uint64_t t_sent_ms; /* request head forwarded */
	uint64_t t_response_ms; /* response head in */
	char log_reqline[HTTP_LOG_REQLINE];
	char log_host[HTTP_LOG_HOST];
};

struct http_worker {
	struct dlist *idle_by_slot; /* SLB_MAX_SERVERS lists of idle server connections */
	struct dlist idle; /* all idle server connections, oldest first */
	struct http_conn *dead_conns;
	struct http_server *dead_servers;
	struct slb_http_msg msg; /* the head being parsed: used and forgotten at once */
};

#endif
