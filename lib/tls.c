/*
 * tls.c - server contexts for https listeners (certificates, SNI, ciphers,
 * resumption with ticket keys every worker derives alike), client contexts,
 * and non-blocking handshake and I/O steps. The choices are explained in
 * tls.h.
 */
#include "tls.h"
#include "http_rules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* Mozilla "intermediate" (v5.7) for TLS 1.2; TLS 1.3 suites are OpenSSL's defaults. */
#define TLS12_CIPHERS                                                                    \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                    \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                    \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"
#define TICKET_PERIOD_S (12 * 3600)
#define SESSION_TIMEOUT_S 3600

const char *slb_tls_error_string(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	buf[0] = '\0';
	if (reason)
		snprintf(buf, len, "%s", reason);
	else if (e)
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* ---- certificates ---- */

static int add_name(struct slb_tls_cert *c, const char *name, size_t len)
{
	char **names = realloc(c->names, (c->nnames + 1) * sizeof(*names));
	size_t i;

	if (!names)
		return -1;
	c->names = names;
	names[c->nnames] = malloc(len + 1);
	if (!names[c->nnames])
		return -1;
	for (i = 0; i < len; i++)
		names[c->nnames][i] = (char)tolower((unsigned char)name[i]);
	names[c->nnames++][len] = '\0';
	return 0;
}

/* The names SNI is matched against: dNSNames, or the CN when there are none. */
static int collect_names(struct slb_tls_cert *c, X509 *x)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, rc = 0;

	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans) && rc == 0; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

		if (gn->type == GEN_DNS)
			rc = add_name(c, (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
				      (size_t)ASN1_STRING_length(gn->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	if (rc == 0 && c->nnames == 0) {
		X509_NAME *subject = X509_get_subject_name(x);
		int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
		ASN1_STRING *cn = idx >= 0 ? X509_NAME_ENTRY_get_data(
						     X509_NAME_get_entry(subject, idx))
					   : NULL;

		if (cn)
			rc = add_name(c, (const char *)ASN1_STRING_get0_data(cn),
				      (size_t)ASN1_STRING_length(cn));
	}
	return rc;
}

static bool name_matches(const char *pattern, const char *host, bool wildcard)
{
	const char *dot;

	if (!wildcard)
		return pattern[0] != '*' && strcasecmp(pattern, host) == 0;
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	/* "*.example.com" covers "a.example.com": one label, not empty, no dot */
	dot = strchr(host, '.');
	return dot && dot > host && strcasecmp(dot, pattern + 1) == 0;
}

static int find_cert(const struct slb_tls_server *ts, const char *host)
{
	int pass;
	unsigned i, j;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < ts->ncerts; i++)
			for (j = 0; j < ts->certs[i].nnames; j++)
				if (name_matches(ts->certs[i].names[j], host, pass == 1))
					return (int)i;
	return -1;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const struct slb_tls_server *ts = arg;
	const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int i = host ? find_cert(ts, host) : -1;

	(void)alert;
	if (i >= 0 && (unsigned)i != ts->default_cert && !SSL_set_SSL_CTX(ssl, ts->certs[i].ctx))
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/* ---- session tickets ---- */

static void derive(const unsigned char secret[32], const char *label, uint64_t period,
		   unsigned char out[32])
{
	unsigned char msg[64];
	unsigned len = 0;
	size_t n = strlen(label);

	memcpy(msg, label, n);
	memcpy(msg + n, &period, sizeof(period));
	HMAC(EVP_sha256(), secret, 32, msg, n + sizeof(period), out, &len);
}

static void ticket_keys_for(struct slb_tls_server *ts, uint64_t period,
			    struct slb_tls_ticket_keys *k)
{
	unsigned char name[32];

	if (k->period == period)
		return;
	k->period = period;
	derive(ts->ticket_secret, "slb ticket name", period, name);
	memcpy(k->name, name, sizeof(k->name));
	derive(ts->ticket_secret, "slb ticket aes", period, k->aes);
	derive(ts->ticket_secret, "slb ticket hmac", period, k->hmac);
}

static int set_mac_key(EVP_MAC_CTX *hctx, unsigned char key[32])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(hctx, params);
}

/* OpenSSL's ticket callback: 1 = use these keys, 2 = accepted but renew, 0 = unknown. */
static int on_ticket(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
		     EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct slb_tls_server *ts = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	uint64_t period = (uint64_t)time(NULL) / TICKET_PERIOD_S;
	unsigned i;

	ticket_keys_for(ts, period, &ts->ticket[0]);
	ticket_keys_for(ts, period - 1, &ts->ticket[1]);
	if (enc) {
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
			return -1;
		memcpy(key_name, ts->ticket[0].name, 16);
		if (!EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, ts->ticket[0].aes, iv) ||
		    !set_mac_key(hctx, ts->ticket[0].hmac))
			return -1;
		return 1;
	}
	for (i = 0; i < 2; i++) {
		if (memcmp(key_name, ts->ticket[i].name, 16) != 0)
			continue;
		if (!EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, ts->ticket[i].aes, iv) ||
		    !set_mac_key(hctx, ts->ticket[i].hmac))
			return -1;
		return i == 0 ? 1 : 2;
	}
	return 0;
}

/* ---- server contexts ---- */

static SSL_CTX *server_ctx_new(struct slb_tls_server *ts)
{
	static const unsigned char sid_ctx[] = "slb";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) || !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * Mozilla intermediate: every suite is strong, so the client's order
	 * wins. HTTP frames its own messages: a client closing without
	 * close_notify has simply closed.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_timeout(ctx, SESSION_TIMEOUT_S);
	SSL_CTX_set_app_data(ctx, ts);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, ts);
	return ctx;
}

/* The private key of a PEM file, or NULL when it holds none. */
static EVP_PKEY *pem_private_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return key;
}

struct load_error {
	char key[SLB_NAME_MAX + 16]; /* "tls_cert", "tls_cert.NAME" or "tls_key" */
	int line;
	char msg[384];
};

static void fail(struct load_error *e, const char *key, int line, const char *what,
		 const char *path)
{
	char reason[256];

	snprintf(e->key, sizeof(e->key), "%s", key);
	e->line = line;
	slb_tls_error_string(reason, sizeof(reason));
	if (errno && !reason[0])
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	snprintf(e->msg, sizeof(e->msg), "%s %s%s%s", what, path, reason[0] ? ": " : "", reason);
}

/* Loads certificate <i> of <l> into <ts>, naming its key in <key_name> (<key_len> bytes). */
static int load_cert(struct slb_tls_server *ts, const struct slb_listener_conf *l, unsigned i,
		     char *key_name, size_t key_len, struct load_error *e)
{
	const struct slb_tls_cert_conf *cc = &l->tls_certs[i];
	struct slb_tls_cert *c = &ts->certs[ts->ncerts];
	EVP_PKEY *key;
	int rc;

	snprintf(key_name, key_len, cc->name[0] ? "tls_cert.%s" : "tls_cert", cc->name);
	c->ctx = server_ctx_new(ts);
	ts->ncerts++;
	errno = 0;
	if (!c->ctx) {
		fail(e, key_name, cc->line, "cannot set up TLS for", cc->path);
		return -1;
	}
	if (!SSL_CTX_use_certificate_chain_file(c->ctx, cc->path)) {
		fail(e, key_name, cc->line, "cannot load the certificate chain", cc->path);
		return -1;
	}
	key = pem_private_key(cc->path);
	if (key) {
		rc = SSL_CTX_use_PrivateKey(c->ctx, key);
		EVP_PKEY_free(key);
	} else if (!l->tls_key[0]) {
		errno = 0;
		fail(e, key_name, cc->line, "no tls_key, and no private key in", cc->path);
		return -1;
	} else {
		errno = 0;
		rc = SSL_CTX_use_PrivateKey_file(c->ctx, l->tls_key, SSL_FILETYPE_PEM);
		if (!rc) {
			fail(e, "tls_key", l->tls_key_line, "cannot load the private key", l->tls_key);
			return -1;
		}
	}
	if (!rc || !SSL_CTX_check_private_key(c->ctx)) {
		fail(e, key_name, cc->line, "the private key does not match the certificate in",
		     cc->path);
		return -1;
	}
	if (collect_names(c, SSL_CTX_get0_certificate(c->ctx)) == -1) {
		fail(e, key_name, cc->line, "out of memory reading the names of", cc->path);
		return -1;
	}
	return 0;
}

/* The ticket secret: a digest of the default certificate's private key. */
static int ticket_secret(struct slb_tls_server *ts)
{
	EVP_PKEY *key = SSL_CTX_get0_privatekey(ts->certs[ts->default_cert].ctx);
	unsigned char *der = NULL;
	unsigned len = 0;
	int n = key ? i2d_PrivateKey(key, &der) : -1;

	if (n <= 0)
		return -1;
	HMAC(EVP_sha256(), "slb ticket secret", 17, der, (size_t)n, ts->ticket_secret, &len);
	OPENSSL_clear_free(der, (size_t)n);
	return 0;
}

static struct slb_tls_server *server_load(const struct slb_listener_conf *l, struct load_error *e)
{
	struct slb_tls_server *ts = calloc(1, sizeof(*ts));
	char key_name[SLB_NAME_MAX + 16];
	unsigned i;

	if (!ts) {
		fail(e, "tls_cert", l->line, "out of memory for", l->name);
		return NULL;
	}
	ts->default_cert = SLB_TLS_MAX_CERTS;
	for (i = 0; i < l->ntls_certs && i < SLB_TLS_MAX_CERTS; i++) {
		if (load_cert(ts, l, i, key_name, sizeof(key_name), e) == -1) {
			slb_tls_server_free(ts);
			return NULL;
		}
		if (!l->tls_certs[i].name[0])
			ts->default_cert = i;
	}
	if (ts->default_cert == SLB_TLS_MAX_CERTS && ts->ncerts)
		ts->default_cert = 0;
	if (ts->default_cert == SLB_TLS_MAX_CERTS || ticket_secret(ts) == -1) {
		fail(e, "tls_cert", l->line, "no usable certificate in", l->name);
		slb_tls_server_free(ts);
		return NULL;
	}
	return ts;
}

static void report(FILE *errors, const char *config_path, const struct slb_listener_conf *l,
		   const struct load_error *e)
{
	fprintf(errors, "%s:%d: [listener %s] %s: %s\n", config_path, e->line, l->name, e->key,
		e->msg);
}

struct slb_tls_server *slb_tls_server_new(const struct slb_listener_conf *l,
					  const char *config_path, FILE *errors)
{
	struct load_error e = { 0 };
	struct slb_tls_server *ts = server_load(l, &e);

	if (!ts)
		report(errors, config_path, l, &e);
	return ts;
}

void slb_tls_server_free(struct slb_tls_server *ts)
{
	unsigned i, j;

	if (!ts)
		return;
	for (i = 0; i < ts->ncerts; i++) {
		SSL_CTX_free(ts->certs[i].ctx);
		for (j = 0; j < ts->certs[i].nnames; j++)
			free(ts->certs[i].names[j]);
		free(ts->certs[i].names);
	}
	OPENSSL_cleanse(ts, sizeof(*ts));
	free(ts);
}

int slb_tls_check_config(const struct slb_config *config, FILE *errors)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < config->nlisteners; i++) {
		const struct slb_listener_conf *l = &config->listeners[i];
		struct slb_tls_server *ts;

		if (l->protocol != SLB_PROTO_HTTPS)
			continue;
		ts = slb_tls_server_new(l, config->path, errors);
		if (!ts)
			rc = -1;
		slb_tls_server_free(ts);
	}
	return rc;
}

SSL *slb_tls_server_ssl(struct slb_tls_server *ts, int fd)
{
	SSL *ssl = SSL_new(ts->certs[ts->default_cert].ctx);

	if (ssl && !SSL_set_fd(ssl, fd)) {
		SSL_free(ssl);
		return NULL;
	}
	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

/* ---- client side ---- */

SSL_CTX *slb_tls_client_new(bool verify, const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    (verify && !(ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
				 : SSL_CTX_set_default_verify_paths(ctx)))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* HTTP frames its own messages: a server closing without close_notify is just a close. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

SSL_CTX *slb_tls_group_client(const struct slb_group_conf *gc)
{
	return slb_tls_client_new(gc->server_tls_ca[0] != '\0',
				  gc->server_tls_ca[0] ? gc->server_tls_ca : NULL);
}

int slb_tls_check_groups(const struct slb_config *config, FILE *errors)
{
	char reason[256];
	unsigned i;
	int rc = 0;

	for (i = 0; i < config->ngroups; i++) {
		const struct slb_group_conf *g = &config->groups[i];
		SSL_CTX *ctx;

		if (!g->server_tls_ca[0])
			continue;
		ctx = slb_tls_group_client(g);
		if (!ctx) {
			slb_tls_error_string(reason, sizeof(reason));
			fprintf(errors, "%s:%d: [group %s] server_tls_ca: cannot load %s%s%s\n",
				config->path, g->server_tls_ca_line, g->name, g->server_tls_ca,
				reason[0] ? ": " : "", reason);
			rc = -1;
		}
		SSL_CTX_free(ctx);
	}
	return rc;
}

/*
 * The server's name in check_host <host>: without a port or a trailing dot
 * (a Host header's form, "b.test:8443" -> "b.test"), an IPv6 literal without
 * its brackets ("[::1]:8443" -> "::1"). Returns true when it is an IP literal.
 */
static bool server_name(const char *host, char *name, size_t size)
{
	size_t len = slb_http_host_name_len(host, strlen(host));
	unsigned char ip[sizeof(struct in6_addr)];

	if (host[0] == '[' && len >= 2 && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	snprintf(name, size, "%.*s", (int)len, host);
	return inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
}

SSL *slb_tls_client_ssl(SSL_CTX *ctx, int fd, const char *host)
{
	SSL *ssl = SSL_new(ctx);
	char name[SLB_TEXT_MAX];
	bool ip = host && host[0] && server_name(host, name, sizeof(name));

	if (!ssl)
		return NULL;
	/* RFC 6066 3: SNI carries DNS names only; an IP is still verified. */
	if (!SSL_set_fd(ssl, fd) ||
	    (host && host[0] &&
	     ((!ip && !SSL_set_tlsext_host_name(ssl, name)) || !SSL_set1_host(ssl, name)))) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* ---- non-blocking steps ---- */

static enum slb_tls_io io_result(SSL *ssl, int ret)
{
	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return SLB_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return SLB_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return SLB_TLS_CLOSED;
	default:
		return SLB_TLS_ERROR;
	}
}

enum slb_tls_io slb_tls_handshake(SSL *ssl)
{
	int ret = SSL_do_handshake(ssl);

	return ret == 1 ? SLB_TLS_OK : io_result(ssl, ret);
}

enum slb_tls_io slb_tls_read(SSL *ssl, void *buf, size_t len, size_t *n)
{
	int ret = SSL_read_ex(ssl, buf, len, n);

	return ret == 1 ? SLB_TLS_OK : io_result(ssl, ret);
}

enum slb_tls_io slb_tls_write(SSL *ssl, const void *buf, size_t len, size_t *n)
{
	int ret = SSL_write_ex(ssl, buf, len, n);

	return ret == 1 ? SLB_TLS_OK : io_result(ssl, ret);
}
