/* sim/cmd_campaign.c: `phantom-sim campaign`.
 *
 * `campaign --config FILE ...` runs a fault-injection campaign
 * (sim/campaign.c) and writes its reports; `campaign merge` combines the
 * JSON reports of the shards of one campaign into the report the
 * unsharded campaign would have written.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sim/campaign.h"
#include "sim/cli.h"
#include "sim/config.h"
#include "sim/rng.h"
#include "sim/report.h"

static void campaign_usage(FILE *out)
{
	fprintf(out,
		"usage: phantom-sim campaign --config FILE [--set K.P=V]... [--crashes N] [--seed S]\n"
		"           [--policy strict|lenient|random] [--tearing]\n"
		"           [--points uniform|around-commits|exhaustive] [--window A..B] [--around N]\n"
		"           [--jobs J] [--shard K/M] [--only ORDINAL] [--recovery-us N]\n"
		"           [--report FILE.json] [--junit FILE.xml] [--recovery-args WORDS]\n"
		"           [--recovery-timing fast|config] [--reboot]\n"
		"       phantom-sim campaign merge -o OUT.json [--junit FILE.xml] SHARD.json...\n"
		"\n"
		"Runs the config's workload (bounded by run.max_time_us) from an empty\n"
		"persistent image, cuts the power after each chosen persistence event,\n"
		"reboots the guest on the crash state the policy picks and judges the\n"
		"recovery: self-check, durability (per the persistence model), atomicity\n"
		"(digests) and liveness (recovery and a new commit within --recovery-us of\n"
		"simulated time, default 100000).  Exit status 0 only if every point passed,\n"
		"1 if any failed, 2 for bad input, 3 if a report could not be written.\n"
		"Recovery runs append --recovery-args to the guest command line (default\n"
		"\"" CAMPAIGN_RECOVERY_ARGS "\"; \"\" keeps it as configured), so the commit that\n"
		"shows progress comes 1 ms after recovery.  They run with cpu.timing fast\n"
		"(one cycle per instruction; --recovery-us bounds that time) unless\n"
		"--recovery-timing config keeps the config's timing; the workload run that\n"
		"makes the crash states always has the config's.\n"
		"The store is persistent memory, or the disk when pmem is disabled.  --reboot\n"
		"boots a fresh machine for every point instead of forking one booted machine,\n"
		"and reruns the workload from boot for the crash states instead of from\n"
		"checkpoints (the same verdicts, slower: it checks the fast paths).\n");
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

static int bad_option(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "phantom-sim: campaign: %s %s: expected %s\n", opt, val, want);
	return EXIT_USAGE;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"crashes", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 'S'},
		{"policy", required_argument, NULL, 'p'},
		{"tearing", no_argument, NULL, 't'},
		{"points", required_argument, NULL, 'P'},
		{"window", required_argument, NULL, 'w'},
		{"around", required_argument, NULL, 'a'},
		{"jobs", required_argument, NULL, 'j'},
		{"shard", required_argument, NULL, 'k'},
		{"only", required_argument, NULL, 'o'},
		{"recovery-us", required_argument, NULL, 'r'},
		{"report", required_argument, NULL, 'R'},
		{"junit", required_argument, NULL, 'J'},
		{"reboot", no_argument, NULL, 'B'},
		{"recovery-args", required_argument, NULL, 'A'},
		{"recovery-timing", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct campaign_opts o = {.crashes = 100, .seed = 1, .policy = POLICY_RANDOM, .jobs = 2,
				  .shard_k = 1, .shard_m = 1, .recovery_us = CAMPAIGN_RECOVERY_US,
				  .mode = POINTS_UNIFORM, .around = 50,
				  .recovery_args = CAMPAIGN_RECOVERY_ARGS};
	const char *config_path = NULL, *report_path = NULL, *junit = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof *sets);
	size_t nsets = 0;
	unsigned long long u;
	char *end, err[512];
	int c, rc = EXIT_USAGE;
	bool have_seed = false, have_policy = false;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'n':
			if (cli_parse_u64("--crashes", optarg, &u) || u == 0)
				goto out;
			o.crashes = u;
			break;
		case 'S':
			if (cli_parse_u64("--seed", optarg, &u))
				goto out;
			o.seed = u;
			have_seed = true;
			break;
		case 'p':
			if (strcmp(optarg, "strict") == 0) o.policy = POLICY_STRICT;
			else if (strcmp(optarg, "lenient") == 0) o.policy = POLICY_LENIENT;
			else if (strcmp(optarg, "random") == 0) o.policy = POLICY_RANDOM;
			else { rc = bad_option("--policy", optarg, "strict, lenient or random"); goto out; }
			have_policy = true;
			break;
		case 't': o.tearing = true; break;
		case 'P':
			if (point_mode_parse(optarg, &o.mode)) {
				rc = bad_option("--points", optarg, "uniform, around-commits or exhaustive");
				goto out;
			}
			break;
		case 'w':
			o.window_lo = strtoull(optarg, &end, 10);
			if (end == optarg || strncmp(end, "..", 2) ||
			    (o.window_hi = strtoull(end + 2, &end, 10), *end) || o.window_hi < o.window_lo) {
				rc = bad_option("--window", optarg, "A..B with A <= B (persistence events)");
				goto out;
			}
			break;
		case 'a':
			if (cli_parse_u64("--around", optarg, &u))
				goto out;
			o.around = u;
			break;
		case 'j':
			if (cli_parse_u64("--jobs", optarg, &u) || u < 1 || u > 256) {
				rc = bad_option("--jobs", optarg, "1 to 256");
				goto out;
			}
			o.jobs = (unsigned)u;
			break;
		case 'k':
			if (shard_parse(optarg, &o.shard_k, &o.shard_m)) {
				rc = bad_option("--shard", optarg, "K/M with 1 <= K <= M");
				goto out;
			}
			break;
		case 'o':
			if (cli_parse_u64("--only", optarg, &u))
				goto out;
			o.only = true;
			o.only_ordinal = u;
			break;
		case 'r':
			if (cli_parse_u64("--recovery-us", optarg, &u) || u == 0)
				goto out;
			o.recovery_us = u;
			break;
		case 'R': report_path = optarg; break;
		case 'J': junit = optarg; break;
		case 'B': o.reboot = true; break;
		case 'A': o.recovery_args = optarg; break;
		case 'T':
			if (strcmp(optarg, "fast") == 0) o.recovery_config_timing = false;
			else if (strcmp(optarg, "config") == 0) o.recovery_config_timing = true;
			else { rc = bad_option("--recovery-timing", optarg, "fast or config"); goto out; }
			break;
		case 'h': campaign_usage(stdout); rc = EXIT_OK; goto out;
		default: campaign_usage(stderr); goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phantom-sim: campaign: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}
	if (!config_path) {
		fprintf(stderr, "phantom-sim: campaign: --config FILE is required\n");
		goto out;
	}
	if (o.mode == POINTS_EXHAUSTIVE && !o.window_hi) {
		fprintf(stderr, "phantom-sim: campaign: --points exhaustive needs --window A..B\n");
		goto out;
	}

	struct config cfg;
	if (config_load(&cfg, config_path, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		config_free(&cfg);
		goto out;
	}
	for (size_t i = 0; i < nsets; i++) {
		if (config_set(&cfg, sets[i], err, sizeof err)) {
			fprintf(stderr, "phantom-sim: %s\n", err);
			config_free(&cfg);
			goto out;
		}
	}
	if (!have_seed)
		o.seed = cfg.run.seed;
	if (!have_policy && cfg.power.policy != POLICY_STRICT)
		o.policy = cfg.power.policy;
	o.cfg = &cfg;
	o.config_path = config_path;
	o.progress = isatty(STDERR_FILENO);

	/* The reproducer repeats every option that shapes the point list. */
	char repro[1024];
	int len = snprintf(repro, sizeof repro, "--config %s", config_path);
	for (size_t i = 0; i < nsets && len < (int)sizeof repro; i++)
		len += snprintf(repro + len, sizeof repro - (size_t)len, " --set '%s'", sets[i]);
	if (len < (int)sizeof repro)
		len += snprintf(repro + len, sizeof repro - (size_t)len,
				" --seed %llu --policy %s%s --points %s --crashes %llu",
				(unsigned long long)o.seed, config_enum_name("power.policy", o.policy),
				o.tearing ? " --tearing" : "", point_mode_name(o.mode),
				(unsigned long long)o.crashes);
	if (o.mode == POINTS_EXHAUSTIVE && len < (int)sizeof repro)
		len += snprintf(repro + len, sizeof repro - (size_t)len, " --window %llu..%llu",
				(unsigned long long)o.window_lo, (unsigned long long)o.window_hi);
	if (o.mode == POINTS_AROUND_COMMITS && len < (int)sizeof repro)
		len += snprintf(repro + len, sizeof repro - (size_t)len, " --around %llu",
				(unsigned long long)o.around);
	/* And those that shape a verdict, when not the defaults. */
	if (o.recovery_us != CAMPAIGN_RECOVERY_US && len < (int)sizeof repro)
		len += snprintf(repro + len, sizeof repro - (size_t)len, " --recovery-us %llu",
				(unsigned long long)o.recovery_us);
	if (strcmp(o.recovery_args, CAMPAIGN_RECOVERY_ARGS) && len < (int)sizeof repro)
		len += snprintf(repro + len, sizeof repro - (size_t)len, " --recovery-args '%s'",
				o.recovery_args);
	if (o.recovery_config_timing && len < (int)sizeof repro)
		snprintf(repro + len, sizeof repro - (size_t)len, " --recovery-timing config");
	o.repro_args = repro;

	struct report rep;
	struct campaign_stats st;
	report_init(&rep);
	char *json = config_to_json(&cfg);
	rep.h.config = strdup(config_path);
	rep.h.config_hash = hash_fnv1a(json, strlen(json), HASH_FNV1A_INIT);
	free(json);
	rep.h.seed = o.seed;
	rep.h.policy = strdup(config_enum_name("power.policy", o.policy));
	rep.h.points = strdup(point_mode_name(o.mode));
	rep.h.shard_k = o.shard_k;
	rep.h.shard_m = o.shard_m;
	if (campaign_run(&o, &rep, &st, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		report_free(&rep);
		config_free(&cfg);
		goto out;
	}
	rc = report_failures(&rep) ? EXIT_GUEST : EXIT_OK;
	if ((report_path && write_atomically(report_path, report_write_json, &rep)) ||
	    (junit && write_atomically(junit, report_write_junit, &rep))) {
		fprintf(stderr, "phantom-sim: campaign: cannot write %s\n",
			report_path ? report_path : junit);
		rc = EXIT_HOST;
	}
	report_write_summary(&rep, stdout);
	/* The summary first, whole: with both streams on one file, stderr's
	 * lines must not land in the middle of a buffered stdout line. */
	fflush(stdout);
	fprintf(stderr, "phantom-sim: campaign: %llu persistence events, %llu commits; "
		"%zu crash points in %.2f s of host time (%.1f points/s, %u jobs)\n",
		(unsigned long long)st.events, (unsigned long long)st.commits,
		rep.n, st.host_seconds,
		st.host_seconds > 0 ? (double)rep.n / st.host_seconds : 0.0, o.jobs);
	if (st.commits) {
		fprintf(stderr, "phantom-sim: campaign: commits reported at events");
		for (uint64_t i = 0; i < st.commits && i < 8; i++)
			fprintf(stderr, " %llu", (unsigned long long)st.durable_at[i]);
		fprintf(stderr, "%s\n", st.commits > 8 ? " ..." : "");
	}
	report_free(&rep);
	config_free(&cfg);
out:
	free(sets);
	return rc;
}

int cmd_campaign(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "merge") == 0)
		return merge(argc - 1, argv + 1);
	return run(argc, argv);
}
