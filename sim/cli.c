/* sim/cli.c: helpers shared by the subcommands' option parsers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/cli.h"
#include "sim/sim.h"

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

int cli_write_stats(const struct sim *s, const char *path)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	if (!tmp)
		abort();
	snprintf(tmp, n, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;
	if (f) {
		rc = stats_write_json(&s->stats, f);
		if (fclose(f))
			rc = -1;
		if (rc == 0)
			rc = rename(tmp, path);
		if (rc)
			remove(tmp);
	}
	if (rc)
		fprintf(stderr, "phantom-sim: --stats %s: cannot write\n", path);
	free(tmp);
	return rc;
}
