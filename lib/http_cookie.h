/*
 * http_cookie.h - cookie persistence for HTTP listeners: the opaque token
 * that names a server, and strict rewriting of Cookie and Set-Cookie values.
 *
 * The token of a server is base64url(HMAC-SHA256(key, group NUL server))
 * cut to 9 bytes: 12 characters that say nothing about the server's address
 * or name to whoever does not hold the key, the same in every worker and on
 * every node that holds the same key, and stable across reloads and
 * restarts as long as the server keeps its name. Finding a server from a
 * token means comparing it with the tokens of the group's servers (the
 * worker keeps them per server slot).
 *
 * persistence = cookie_insert: slb sets its own cookie, named by the
 * listener's `cookie` key (SLB_COOKIE_DEFAULT_NAME when empty), whose value
 * is the token. A group other than the listener's own that its rules reach
 * has a cookie of its own, the name with an opaque tag of the group, so a
 * client that uses several groups keeps a server in each. Every such
 * cookie is taken out of the Cookie header before the request is
 * forwarded: the server never sees one.
 *
 * persistence = cookie_rewrite: the server's own cookie (the listener's
 * `cookie`) carries the choice: slb prefixes the value of that cookie in the
 * server's Set-Cookie with "TOKEN~" (HAProxy's `cookie NAME prefix`), and
 * strips the prefix from the request's Cookie header, so the server sees
 * exactly the value it set. Empty values (a server deleting its cookie) are
 * left alone.
 *
 * Parsing (RFC 6265 section 4): a Cookie header is pairs separated by ';'
 * and optional whitespace; a request's Cookie fields are read as one list
 * (a client should send one, RFC 6265 5.4), where they lie, of any size. The pair slb uses must be exactly NAME=VALUE with
 * VALUE made of cookie-octets (no controls, whitespace, '"', ',', ';' or
 * '\'), optionally in double quotes; a value that is not, or the name
 * appearing more than once, gives no token (the request is scheduled as new,
 * never guessed). Other pairs are passed through byte for byte.
 */
#ifndef SLB_HTTP_COOKIE_H
#define SLB_HTTP_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parser.h"

#define SLB_COOKIE_DEFAULT_NAME "SLBID"
#define SLB_COOKIE_TOKEN_LEN 12
#define SLB_COOKIE_KEY_LEN 32
#define SLB_COOKIE_PREFIX_SEP '~' /* between the token and the server's value */
#define SLB_COOKIE_TAG_LEN 8 /* of a group's cookie name: NAME_TAG */
#define SLB_COOKIE_NAME_MAX 80 /* a configured name (at most 63) with a group's tag, and NUL */

struct slb_cookie_key {
	uint8_t bytes[SLB_COOKIE_KEY_LEN];
};

enum slb_cookie_mode { SLB_COOKIE_INSERT, SLB_COOKIE_REWRITE };

/* Derives the token key from <secret> (<len> bytes) with SHA-256. */
void slb_cookie_key_derive(struct slb_cookie_key *key, const void *secret, size_t len);

/* Writes the token of server <server> of group <group>, NUL-terminated, into <out>. */
void slb_cookie_token(const struct slb_cookie_key *key, const char *group, const char *server,
		      char out[SLB_COOKIE_TOKEN_LEN + 1]);

/*
 * Writes the name of the cookie_insert cookie for group <group> of a
 * listener whose cookie is <name>: "<name>_TAG", TAG being 8 base64url
 * characters keyed like the tokens, so that it says nothing of the group.
 */
void slb_cookie_group_name(const struct slb_cookie_key *key, const char *name, const char *group,
			   char out[SLB_COOKIE_NAME_MAX]);

/*
 * Request side: the token of the one pair <name> among the Cookie fields
 * of request <m> (INSERT: its value; REWRITE: its "TOKEN~" prefix),
 * written to <token> NUL-terminated. False, with <token> "", when there is
 * none, more than one, or it is not usable. The fields may be of any size.
 */
bool slb_cookie_request_token(const struct slb_http_msg *m, const char *name,
			      enum slb_cookie_mode mode, char token[SLB_COOKIE_TOKEN_LEN + 1]);

/*
 * Request side: the Cookie field towards the server, written into <out>:
 * every Cookie field of <m> joined with "; " (RFC 6265 5.4: one field),
 * in INSERT mode without any pair <name> or <name>_TAG (a group's, see
 * slb_cookie_group_name(): TAG is any 8 base64url characters), in REWRITE mode with the "TOKEN~"
 * prefix taken off the pair <name> when slb_cookie_request_token() finds
 * it (otherwise the pairs go as they came). Returns the length (0: send no
 * Cookie field), or -1 when <cap> bytes are too few. The output is never
 * longer than the fields it replaces, with their names and line ends.
 */
long slb_cookie_request_forward(const struct slb_http_msg *m, const char *name,
				enum slb_cookie_mode mode, char *out, size_t cap);

/*
 * Response side, REWRITE mode. When the Set-Cookie value <hdr> (<len>
 * bytes) sets cookie <name> to a non-empty valid value, writes it to <out>
 * with the value prefixed by <token> and '~', and returns 1. Returns 0 when
 * the header is about another cookie, or its value is empty or not valid
 * (send it unchanged), -1 when <out> (<cap> bytes) is too small.
 */
int slb_cookie_rewrite_set_cookie(const char *hdr, size_t len, const char *name,
				  const char *token, char *out, size_t cap, size_t *out_len);

/*
 * Response side, INSERT mode: writes the Set-Cookie value for <name> and
 * <token> into <out>: "NAME=TOKEN; Path=/; Max-Age=N; HttpOnly" (no Max-Age
 * when <max_age_s> is 0; "; Secure" when <secure>, i.e. on https).
 * Returns the length, or -1 when <cap> is too small.
 */
int slb_cookie_insert_set_cookie(const char *name, const char *token, uint32_t max_age_s,
				 bool secure, char *out, size_t cap);

#endif
