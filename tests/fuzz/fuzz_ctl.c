/*
 * fuzz_ctl.c - libFuzzer target for the control-socket request parser
 * (lib/ctl.c): any line a client can send. A parsed request must format
 * back into a line that parses to the same request; a rejected one must
 * say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slb_ctl_request req, again;
	char err[256], line[SLB_CTL_REQUEST_MAX + 2];
	int len;

	if (memchr(data, '\0', size))
		return 0; /* the server refuses NUL bytes before it parses */
	err[0] = '\0';
	if (slb_ctl_parse_line((const char *)data, size, &req, err, sizeof(err)) == -1) {
		if (!err[0])
			abort();
		return 0;
	}
	len = slb_ctl_format(&req, line, sizeof(line));
	if (len < 0)
		return 0;
	if (slb_ctl_parse_line(line, (size_t)len, &again, err, sizeof(err)) == -1 ||
	    again.cmd != req.cmd || again.json != req.json || again.nargs != req.nargs)
		abort();
	for (unsigned i = 0; i < req.nargs; i++)
		if (strcmp(req.args[i], again.args[i]) != 0)
			abort();
	return 0;
}
