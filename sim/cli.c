/* sim/cli.c: helpers shared by the subcommands' option parsers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "sim/cli.h"

int cli_parse_u64(const char *opt, const char *text, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!text || !*text || *text == '-') {
		fprintf(stderr, "phantom-sim: %s: expected a non-negative integer, got \"%s\"\n",
			opt, text ? text : "");
		return -1;
	}
	*out = strtoull(text, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "phantom-sim: %s: expected a non-negative integer, got \"%s\"\n",
			opt, text);
		return -1;
	}
	return 0;
}
