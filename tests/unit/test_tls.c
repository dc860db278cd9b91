/*
 * test_tls.c - TLS for https listeners, against certificates made by
 * tests/tools/make-test-ca.sh (a test CA, two leaves with different SANs):
 * SNI picks the certificate (exact, wildcard of one label, default), the
 * client verifies it against the test CA, sessions resume across two
 * "workers" (ticket keys derived alike) in TLS 1.2 and 1.3, old protocols
 * are refused, and bad files are config errors naming file:line and key.
 * Client and server talk over a non-blocking socketpair, driven by the
 * want-read/want-write helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include "tls.h"

static char dir[] = "/tmp/slb-test-tls-XXXXXX";

static int setup(void **state)
{
	char cmd[512];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/tests/tools/make-test-ca.sh %s", TEST_SRC_DIR, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void add_cert(struct slb_listener_conf *l, const char *name, const char *file, int line)
{
	struct slb_tls_cert_conf *c = &l->tls_certs[l->ntls_certs++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s/%s", dir, file);
	c->line = line;
}

static void set_key(struct slb_listener_conf *l, const char *file, int line)
{
	snprintf(l->tls_key, sizeof(l->tls_key), "%s/%s", dir, file);
	l->tls_key_line = line;
}

/* tls_cert = site.pem (key in site.key), tls_cert.api = api.pem (key inside). */
static void site_listener(struct slb_listener_conf *l)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "web443");
	l->protocol = SLB_PROTO_HTTPS;
	add_cert(l, "", "site.pem", 10);
	add_cert(l, "api", "api.pem", 11);
	set_key(l, "site.key", 12);
}

struct pair {
	SSL *client, *server;
	int fds[2];
};

/* Runs both handshakes to the end, stepping each when it can; true when both finished. */
static bool handshake(struct pair *p)
{
	enum slb_tls_io c = SLB_TLS_WANT_WRITE, s = SLB_TLS_WANT_READ;
	int i;

	for (i = 0; i < 100 && (c != SLB_TLS_OK || s != SLB_TLS_OK); i++) {
		if (c != SLB_TLS_OK)
			c = slb_tls_handshake(p->client);
		if (s != SLB_TLS_OK)
			s = slb_tls_handshake(p->server);
		if (c == SLB_TLS_ERROR || s == SLB_TLS_ERROR)
			return false;
	}
	return c == SLB_TLS_OK && s == SLB_TLS_OK;
}

/* One byte from server to client: lets TLS 1.3 deliver its session tickets. */
static void exchange(struct pair *p)
{
	char b = 0;
	size_t n = 0;
	int i;

	assert_int_equal(slb_tls_write(p->server, "x", 1, &n), SLB_TLS_OK);
	for (i = 0; i < 10 && slb_tls_read(p->client, &b, 1, &n) != SLB_TLS_OK; i++)
		;
	assert_int_equal(b, 'x');
}

static void connect_pair(struct pair *p, struct slb_tls_server *ts, SSL_CTX *cctx,
			 const char *sni, SSL_SESSION *resume)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fds), 0);
	p->server = slb_tls_server_ssl(ts, p->fds[0]);
	p->client = slb_tls_client_ssl(cctx, p->fds[1], sni);
	assert_non_null(p->server);
	assert_non_null(p->client);
	if (resume)
		assert_int_equal(SSL_set_session(p->client, resume), 1);
}

/* Clean closes, as real peers do: OpenSSL keeps no session of a connection cut short. */
static void close_pair(struct pair *p)
{
	SSL_shutdown(p->client);
	SSL_shutdown(p->server);
	SSL_free(p->client);
	SSL_free(p->server);
	close(p->fds[0]);
	close(p->fds[1]);
}

/* The CN of the certificate the client got. */
static void peer_cn(SSL *client, char *cn, int len)
{
	X509 *x = SSL_get1_peer_certificate(client);

	assert_non_null(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, len);
	X509_free(x);
}

static SSL_CTX *verifying_client(void)
{
	char ca[300];
	SSL_CTX *c;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	c = slb_tls_client_new(true, ca);
	assert_non_null(c);
	return c;
}

static void expect_cert(struct slb_tls_server *ts, SSL_CTX *cctx, const char *sni,
			const char *cn_expected)
{
	struct pair p;
	char cn[64] = "";

	connect_pair(&p, ts, cctx, sni, NULL);
	if (!handshake(&p))
		fail_msg("SNI %s: handshake failed (%s)", sni ? sni : "(none)",
			 slb_tls_error_string(cn, sizeof(cn)));
	peer_cn(p.client, cn, sizeof(cn));
	if (strcmp(cn, cn_expected) != 0)
		fail_msg("SNI %s: got %s, expected %s", sni ? sni : "(none)", cn, cn_expected);
	close_pair(&p);
}

static void test_sni(void **state)
{
	struct slb_listener_conf l;
	struct slb_tls_server *ts;
	SSL_CTX *verify = verifying_client(), *plain = slb_tls_client_new(false, NULL);

	(void)state;
	site_listener(&l);
	ts = slb_tls_server_new(&l, "slb.ini", stderr);
	assert_non_null(ts);
	/* verified against the test CA for the name asked */
	expect_cert(ts, verify, "www.example.com", "site");
	expect_cert(ts, verify, "api.example.org", "api");
	expect_cert(ts, verify, "API.Example.ORG", "api");
	expect_cert(ts, verify, "shop.example.com", "site"); /* wildcard */
	/* no SNI, or an unknown name: the default certificate */
	expect_cert(ts, plain, NULL, "site");
	expect_cert(ts, plain, "unknown.org", "site");
	slb_tls_server_free(ts);

	/* The default is tls_cert wherever it is written; a wildcard covers one label only. */
	memset(&l, 0, sizeof(l));
	l.protocol = SLB_PROTO_HTTPS;
	add_cert(&l, "site", "site.pem", 10);
	add_cert(&l, "", "api.pem", 11);
	set_key(&l, "site.key", 12);
	ts = slb_tls_server_new(&l, "slb.ini", stderr);
	assert_non_null(ts);
	expect_cert(ts, plain, NULL, "api");
	expect_cert(ts, plain, "a.example.com", "site");
	expect_cert(ts, plain, "a.b.example.com", "api");
	expect_cert(ts, plain, "example.com", "api");
	slb_tls_server_free(ts);
	SSL_CTX_free(verify);
	SSL_CTX_free(plain);
}

/* A verifying client refuses a certificate that is not for the name it asked. */
static void test_verify_name(void **state)
{
	struct slb_listener_conf l;
	struct slb_tls_server *ts;
	SSL_CTX *verify = verifying_client();
	struct pair p;

	(void)state;
	site_listener(&l);
	ts = slb_tls_server_new(&l, "slb.ini", stderr);
	assert_non_null(ts);
	connect_pair(&p, ts, verify, "unknown.org", NULL);
	assert_false(handshake(&p));
	close_pair(&p);
	slb_tls_server_free(ts);
	SSL_CTX_free(verify);
}

/*
 * check_host as the client's server name: a port and an IPv6 literal's
 * brackets are not part of it, and an IP literal is verified but not sent
 * as SNI.
 */
static void expect_client_name(SSL_CTX *ctx, const char *check_host, const char *sni,
			       const char *verified)
{
	SSL *ssl = slb_tls_client_ssl(ctx, -1, check_host);
	X509_VERIFY_PARAM *vp;
	char *ip;

	assert_non_null(ssl);
	vp = SSL_get0_param(ssl);
	if (sni)
		assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), sni);
	else
		assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	ip = X509_VERIFY_PARAM_get1_ip_asc(vp);
	assert_string_equal(ip ? ip : X509_VERIFY_PARAM_get0_host(vp, 0), verified);
	OPENSSL_free(ip);
	SSL_free(ssl);
}

static void test_client_name(void **state)
{
	SSL_CTX *c = slb_tls_client_new(false, NULL);

	(void)state;
	assert_non_null(c);
	expect_client_name(c, "b1.test", "b1.test", "b1.test");
	expect_client_name(c, "b1.test:8443", "b1.test", "b1.test");
	expect_client_name(c, "127.0.0.1", NULL, "127.0.0.1");
	expect_client_name(c, "127.0.0.1:8443", NULL, "127.0.0.1");
	expect_client_name(c, "[::1]:8443", NULL, "0:0:0:0:0:0:0:1");
	expect_client_name(c, "[2001:db8::1]", NULL, "2001:DB8:0:0:0:0:0:1");
	SSL_CTX_free(c);
}

static void resume_across_workers(int max_version)
{
	struct slb_listener_conf l;
	struct slb_tls_server *w1, *w2;
	SSL_CTX *cctx = verifying_client();
	SSL_SESSION *sess;
	struct pair p;

	site_listener(&l);
	w1 = slb_tls_server_new(&l, "slb.ini", stderr);
	w2 = slb_tls_server_new(&l, "slb.ini", stderr);
	assert_non_null(w1);
	assert_non_null(w2);
	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, max_version), 1);
	connect_pair(&p, w1, cctx, "www.example.com", NULL);
	assert_true(handshake(&p));
	assert_int_equal(SSL_version(p.client), max_version);
	exchange(&p);
	sess = SSL_get1_session(p.client);
	assert_non_null(sess);
	assert_false(SSL_session_reused(p.client));
	close_pair(&p);

	/* the other worker takes the ticket: same keys, derived alike */
	connect_pair(&p, w2, cctx, "www.example.com", sess);
	assert_true(handshake(&p));
	assert_true(SSL_session_reused(p.client));
	close_pair(&p);
	SSL_SESSION_free(sess);
	slb_tls_server_free(w1);
	slb_tls_server_free(w2);
	SSL_CTX_free(cctx);
}

static void test_resumption_tls13(void **state)
{
	(void)state;
	resume_across_workers(TLS1_3_VERSION);
}

static void test_resumption_tls12(void **state)
{
	(void)state;
	resume_across_workers(TLS1_2_VERSION);
}

/* A different private key derives different ticket keys: its tickets are not taken. */
static void test_foreign_ticket(void **state)
{
	struct slb_listener_conf a, b;
	struct slb_tls_server *ta, *tb;
	SSL_CTX *cctx = slb_tls_client_new(false, NULL);
	SSL_SESSION *sess;
	struct pair p;

	(void)state;
	site_listener(&a);
	memset(&b, 0, sizeof(b));
	b.protocol = SLB_PROTO_HTTPS;
	add_cert(&b, "", "api.pem", 3);
	ta = slb_tls_server_new(&a, "slb.ini", stderr);
	tb = slb_tls_server_new(&b, "slb.ini", stderr);
	assert_non_null(ta);
	assert_non_null(tb);
	connect_pair(&p, ta, cctx, NULL, NULL);
	assert_true(handshake(&p));
	exchange(&p);
	sess = SSL_get1_session(p.client);
	close_pair(&p);
	connect_pair(&p, tb, cctx, NULL, sess);
	assert_true(handshake(&p));
	assert_false(SSL_session_reused(p.client));
	close_pair(&p);
	SSL_SESSION_free(sess);
	slb_tls_server_free(ta);
	slb_tls_server_free(tb);
	SSL_CTX_free(cctx);
}

static void test_old_protocols_refused(void **state)
{
	struct slb_listener_conf l;
	struct slb_tls_server *ts;
	SSL_CTX *old = SSL_CTX_new(TLS_client_method());
	struct pair p;

	(void)state;
	site_listener(&l);
	ts = slb_tls_server_new(&l, "slb.ini", stderr);
	assert_non_null(ts);
	SSL_CTX_set_security_level(old, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(old, TLS1_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION), 1);
	SSL_CTX_set_cipher_list(old, "ALL:@SECLEVEL=0");
	connect_pair(&p, ts, old, NULL, NULL);
	assert_false(handshake(&p));
	close_pair(&p);
	slb_tls_server_free(ts);
	SSL_CTX_free(old);
}

/* Runs slb_tls_check_config on a one-listener config; returns what it wrote. */
static char *check(struct slb_listener_conf *l)
{
	struct slb_config c = { .nlisteners = 1, .listeners = l };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int rc;

	snprintf(c.path, sizeof(c.path), "slb.ini");
	assert_non_null(f);
	rc = slb_tls_check_config(&c, f);
	fclose(f);
	assert_int_equal(rc, len ? -1 : 0);
	return out;
}

static void expect_error(struct slb_listener_conf *l, const char *prefix, const char *contains)
{
	char *out = check(l);

	if (strncmp(out, prefix, strlen(prefix)) != 0 || !strstr(out, contains))
		fail_msg("got '%s', expected '%s...%s'", out, prefix, contains);
	assert_int_equal(strchr(out, '\n')[1], '\0'); /* one line */
	free(out);
}

static void test_config_errors(void **state)
{
	struct slb_listener_conf l;
	char *out;

	(void)state;
	site_listener(&l);
	out = check(&l);
	assert_string_equal(out, "");
	free(out);

	site_listener(&l);
	snprintf(l.tls_certs[1].path, sizeof(l.tls_certs[1].path), "%s/missing.pem", dir);
	expect_error(&l, "slb.ini:11: [listener web443] tls_cert.api: cannot load the certificate "
			 "chain ", "missing.pem");

	site_listener(&l);
	set_key(&l, "other.key", 12);
	expect_error(&l, "slb.ini:12: [listener web443] tls_key: ", "other.key");

	site_listener(&l);
	set_key(&l, "nothere.key", 12);
	expect_error(&l, "slb.ini:12: [listener web443] tls_key: cannot load the private key ",
		     "nothere.key");

	/* not a certificate at all */
	site_listener(&l);
	snprintf(l.tls_certs[0].path, sizeof(l.tls_certs[0].path), "%s/site.key", dir);
	expect_error(&l, "slb.ini:10: [listener web443] tls_cert: cannot load the certificate "
			 "chain ", "site.key");

	/* no key anywhere */
	site_listener(&l);
	l.tls_key[0] = '\0';
	expect_error(&l, "slb.ini:10: [listener web443] tls_cert: no tls_key, and no private key "
			 "in ", "site.pem");

	/* a pem with its own key needs no tls_key */
	memset(&l, 0, sizeof(l));
	l.protocol = SLB_PROTO_HTTPS;
	add_cert(&l, "", "api.pem", 4);
	out = check(&l);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_verify_name),
		cmocka_unit_test(test_client_name),
		cmocka_unit_test(test_resumption_tls13),
		cmocka_unit_test(test_resumption_tls12),
		cmocka_unit_test(test_foreign_ticket),
		cmocka_unit_test(test_old_protocols_refused),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
