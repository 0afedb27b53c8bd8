/* sim/cmd_campaign.c: `phantom-sim campaign`.
 *
 * `campaign merge` combines the JSON reports of the shards of one campaign
 * into the report the unsharded campaign would have written.  Running a
 * campaign itself needs a machine that boots the Phantom guest (issues #4
 * and #7); until then it says so and exits 2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/cli.h"
#include "sim/report.h"

static void campaign_usage(FILE *out)
{
	fprintf(out,
		"usage: phantom-sim campaign --config FILE [--crashes N] [--seed S] ...\n"
		"       phantom-sim campaign merge -o OUT.json [--junit FILE.xml] SHARD.json...\n");
}

/* Write through a temporary and rename, so a failed write leaves no
 * half-written report where CI looks for one. */
static int write_atomically(const char *path, int (*fn)(const struct report *, FILE *),
			    const struct report *rep)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int rc = fn(rep, f);
	if (fclose(f))
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc)
		remove(tmp);
	return rc;
}

static int merge(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"junit", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *out_path = NULL, *junit = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out_path = optarg; break;
		case 'j': junit = optarg; break;
		case 'h': campaign_usage(stdout); return EXIT_OK;
		default: campaign_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!out_path || optind >= argc) {
		fprintf(stderr, "phantom-sim: campaign merge: need -o OUT.json and at least one report\n");
		return EXIT_USAGE;
	}
	size_t n = (size_t)(argc - optind);
	struct report *reps = calloc(n, sizeof *reps);
	struct report **ptrs = calloc(n, sizeof *ptrs);
	struct report merged;
	char err[512];
	int rc = EXIT_USAGE;
	report_init(&merged);
	for (size_t i = 0; i < n; i++) {
		ptrs[i] = &reps[i];
		if (report_read_json(&reps[i], argv[optind + (int)i], err, sizeof err)) {
			fprintf(stderr, "phantom-sim: %s\n", err);
			goto out;
		}
	}
	if (report_merge(&merged, ptrs, n, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		goto out;
	}
	if (write_atomically(out_path, report_write_json, &merged) ||
	    (junit && write_atomically(junit, report_write_junit, &merged))) {
		fprintf(stderr, "phantom-sim: campaign merge: cannot write %s\n", out_path);
		rc = EXIT_HOST;
		goto out;
	}
	report_write_summary(&merged, stdout);
	rc = report_failures(&merged) ? EXIT_GUEST : EXIT_OK;
out:
	report_free(&merged);
	for (size_t i = 0; i < n; i++)
		report_free(&reps[i]);
	free(reps);
	free(ptrs);
	return rc;
}

int cmd_campaign(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "merge") == 0)
		return merge(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		campaign_usage(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "phantom-sim: campaign: running a campaign needs the booting machine "
		"(issues #4 and #7), not built yet; 'campaign merge' works\n");
	return EXIT_USAGE;
}
