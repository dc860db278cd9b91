/*
 * fuzz_config.c - libFuzzer target for the slb.ini loader (scan, iniparser,
 * schema, cross-checks), through slb_config_load_fd() as the daemons call it.
 *
 * Besides the sanitizers' findings, it aborts when the loader breaks its
 * contract: a rejected file always gets at least one message, an accepted
 * one none, every message is one "NAME:LINE: ..." line, and the caller's fd
 * keeps its bytes and its offset. See README.md for how to build and run it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "config.h"

#define DISPLAY_NAME "fuzz.ini"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every line of <text> (<len> bytes) is "DISPLAY_NAME:DIGITS: ...". */
static int messages_well_formed(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	size_t name_len = strlen(DISPLAY_NAME);

	if (len == 0 || text[len - 1] != '\n')
		return 0;
	for (; p < end; p = nl + 1) {
		const char *d = p + name_len + 1;

		nl = memchr(p, '\n', (size_t)(end - p));
		if ((size_t)(nl - p) < name_len + 3 ||
		    memcmp(p, DISPLAY_NAME ":", name_len + 1) != 0)
			return 0;
		if (d >= nl || *d < '0' || *d > '9')
			return 0;
		while (d < nl && *d >= '0' && *d <= '9')
			d++;
		if (d >= nl || *d != ':')
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct slb_config *config;
	char *messages = NULL;
	size_t messages_len = 0;
	unsigned char *back;
	FILE *out;

	if (fd == -1)
		fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
	if (fd == -1 || ftruncate(fd, 0) == -1 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size || lseek(fd, 3, SEEK_SET) != 3)
		abort(); /* the harness itself failed */
	out = open_memstream(&messages, &messages_len);
	if (!out)
		abort();
	config = slb_config_load_fd(fd, DISPLAY_NAME, out);
	if (fclose(out) != 0)
		abort();
	if (!config && messages_len == 0)
		abort(); /* rejected without a message */
	if (config && messages_len != 0)
		abort(); /* accepted, yet with messages */
	if (!config && !messages_well_formed(messages, messages_len))
		abort(); /* a message that is not "file:line: ..." */
	back = malloc(size + 1);
	if (!back || pread(fd, back, size + 1, 0) != (ssize_t)size ||
	    (size && memcmp(back, data, size) != 0) || lseek(fd, 0, SEEK_CUR) != 3)
		abort(); /* the caller's fd changed */
	free(back);
	slb_config_free(config);
	free(messages);
	return 0;
}
