/*
 * http_response.h - the response side of an HTTP transaction (see
 * http_response.c).
 */
#ifndef SLB_HTTP_RESPONSE_H
#define SLB_HTTP_RESPONSE_H

#include "http_conn.h"

/*
 * Moves <c>'s response on as far as it can: head, body, or tunnel. Returns
 * 1 on progress, 0 without, -1 when <c> was closed.
 */
int http_response_step(struct worker *w, struct http_conn *c);

#endif
