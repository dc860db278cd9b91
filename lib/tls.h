/*
 * tls.h - OpenSSL for HTTPS listeners and TLS towards servers.
 *
 * Server side, per https listener (slb_tls_server_new):
 *   - one SSL_CTX per certificate: `tls_cert` (the default) and every
 *     `tls_cert.NAME`. Each file is a PEM chain, leaf first. Its private key
 *     is the one in the same file when the file holds one, otherwise the
 *     listener's `tls_key`; either way the pair must match.
 *   - SNI picks the certificate: first a certificate with the exact name,
 *     then one with a matching wildcard (`*.example.com` covers exactly one
 *     label, as in RFC 6125), among the subjectAltName dNSNames (the
 *     subject CN only when a certificate has no dNSName); certificates are
 *     tried in file order. No SNI, or no match: the default certificate
 *     (`tls_cert`, or the first `tls_cert.NAME` without it).
 *   - TLS 1.2 and 1.3 only, the Mozilla "intermediate" cipher suites
 *     (ECDHE with AES-GCM or ChaCha20-Poly1305, no CBC, no RSA key
 *     exchange), X25519/P-256/P-384, no renegotiation, no compression.
 *   - session resumption: a per-process session cache (same worker) and
 *     session tickets whose keys every worker derives alike from the
 *     listener's private key and the current 12-hour period, so a ticket
 *     from any worker resumes on any other, keys rotate by themselves, and
 *     the previous period's tickets are still accepted (and renewed).
 *
 * Client side (slb_tls_client_new, slb_tls_group_client): TLS 1.2/1.3
 * towards servers (server_tls) and for `https` checks. Verification is off
 * unless the group names a CA (server_tls_ca, checked for the name
 * check_host): backends commonly hold self-signed or internal certificates,
 * and the address was chosen by the operator, not taken from the network.
 *
 * The handshake and I/O helpers never block: they say what the socket must
 * become (readable or writable) for the call to make progress, which is what
 * an epoll loop needs.
 */
#ifndef SLB_TLS_H
#define SLB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "config.h"

#define SLB_TLS_MAX_CERTS 8

struct slb_tls_cert {
	SSL_CTX *ctx;
	unsigned nnames;
	char **names; /* dNSNames, lowercase; "*.x.y" for wildcards */
};

struct slb_tls_ticket_keys {
	uint64_t period;
	unsigned char name[16], aes[32], hmac[32];
};

struct slb_tls_server {
	unsigned ncerts;
	unsigned default_cert;
	struct slb_tls_cert certs[SLB_TLS_MAX_CERTS];
	unsigned char ticket_secret[32];
	struct slb_tls_ticket_keys ticket[2]; /* this period's, the previous one's */
};

/*
 * Loads the certificates of https listener <l>. On failure returns NULL and
 * writes one line "<config_path>:LINE: [listener NAME] KEY: message" to
 * <errors> for the first bad file. Load it before dropping privileges.
 */
struct slb_tls_server *slb_tls_server_new(const struct slb_listener_conf *l,
					  const char *config_path, FILE *errors);

void slb_tls_server_free(struct slb_tls_server *ts);

/*
 * Checks every https listener of <config> the way slb_tls_server_new loads
 * it (files readable, certificates and keys parse, pairs match). Returns 0,
 * or -1 with every error written to <errors>.
 */
int slb_tls_check_config(const struct slb_config *config, FILE *errors);

/* A new server-side SSL for accepted socket <fd>, or NULL. */
SSL *slb_tls_server_ssl(struct slb_tls_server *ts, int fd);

/*
 * A client context: TLS 1.2/1.3; with <verify>, the peer must present a
 * certificate chain to <ca_file> (NULL: the system's store) valid for the
 * name given to slb_tls_client_ssl(). NULL on failure.
 */
SSL_CTX *slb_tls_client_new(bool verify, const char *ca_file);

/*
 * Checks every group's server_tls_ca the way slb_tls_group_client loads it.
 * Returns 0, or -1 with each error written to <errors> as
 * "<config_path>:LINE: [group NAME] server_tls_ca: message".
 */
int slb_tls_check_groups(const struct slb_config *config, FILE *errors);

/*
 * The client context for the servers of group <gc>: verifying against its
 * server_tls_ca (the name checked being its check_host) when that is set,
 * not verifying otherwise. NULL on failure (an unreadable CA file).
 */
SSL_CTX *slb_tls_group_client(const struct slb_group_conf *gc);

/*
 * A new client-side SSL on connected socket <fd> for check_host <host> (NULL
 * or empty: none): its name without a port is the name verified and the SNI,
 * an IP literal is verified but not sent as SNI (RFC 6066 allows names only).
 */
SSL *slb_tls_client_ssl(SSL_CTX *ctx, int fd, const char *host);

enum slb_tls_io {
	SLB_TLS_OK, /* done (handshake) or bytes moved (read/write) */
	SLB_TLS_WANT_READ, /* call again when the socket is readable */
	SLB_TLS_WANT_WRITE, /* call again when the socket is writable */
	SLB_TLS_CLOSED, /* the peer closed the TLS session (read) */
	SLB_TLS_ERROR, /* failed: the connection is lost */
};

/* Drives the handshake one step. */
enum slb_tls_io slb_tls_handshake(SSL *ssl);

/* Reads up to <len> bytes into <buf>; <*n> is set on SLB_TLS_OK. */
enum slb_tls_io slb_tls_read(SSL *ssl, void *buf, size_t len, size_t *n);

/* Writes up to <len> bytes of <buf>; <*n> is set on SLB_TLS_OK. */
enum slb_tls_io slb_tls_write(SSL *ssl, const void *buf, size_t len, size_t *n);

/* The reason of the last failure on this thread, for a log line ("" when none). */
const char *slb_tls_error_string(char *buf, size_t len);

#endif
