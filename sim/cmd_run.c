/* sim/cmd_run.c: `phantom-sim run`, the main job.
 *
 * Load the config, apply --set overrides and --seed, build the machine it
 * describes (machine/machine.c) with the built-in Phantom guest unless
 * guest.kernel names another kernel, and run it until a limit or the
 * guest ends the run.  The config is validated before anything is created
 * or written, so bad input leaves every file as it was.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "machine/machine.h"
#include "sim/cli.h"
#include "sim/config.h"
#include "sim/sim.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: phantom-sim [run] --config FILE [--set KEY.PATH=VALUE]... [--seed N]\n"
		"                   [--stats FILE] [--print-config]\n"
		"  --config FILE       machine description (JSON, keys in docs/config.md)\n"
		"  --set K.P=VALUE     override one config key, validated like the file\n"
		"  --seed N            run seed (overrides run.seed)\n"
		"  --stats FILE        write all counters as JSON to FILE at the end\n"
		"  --print-config      print the effective config as JSON and exit\n"
		"  --power-fail-at K:N cut the power at N of kind K: time_us, insn or event\n"
		"                      (the N-th persistence event); random-K:N draws the\n"
		"                      point in [1, N] from the seed (sets power.fail_*)\n");
}

/* Write the stats file through a temporary and rename, so an interrupted
 * run never leaves half a file behind. */
static int write_stats(const struct sim *s, const char *path)
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

/* --power-fail-at [random-]KIND:N, as the power.fail_* keys. */
static int power_fail_option(struct config *cfg, const char *text, char *err, size_t errlen)
{
	bool random = strncmp(text, "random-", 7) == 0;
	const char *kind = random ? text + 7 : text;
	const char *colon = strchr(kind, ':');
	char set[160];
	if (!colon || colon == kind) {
		snprintf(err, errlen, "--power-fail-at %s: expected [random-]KIND:N with KIND "
			 "time_us, insn or event", text);
		return -1;
	}
	/* The point first: config_set checks the pair after each key. */
	snprintf(set, sizeof set, "power.fail_at=%s", colon + 1);
	if (config_set(cfg, set, err, errlen) || cfg->power.fail_at == 0) {
		snprintf(err, errlen, "--power-fail-at %s: expected a positive integer after ':'", text);
		return -1;
	}
	snprintf(set, sizeof set, "power.fail_kind=%.*s", (int)(colon - kind), kind);
	if (strncmp(set + 16, "never", 5) == 0 || config_set(cfg, set, err, errlen)) {
		snprintf(err, errlen, "--power-fail-at %s: expected [random-]KIND:N with KIND "
			 "time_us, insn or event", text);
		return -1;
	}
	cfg->power.fail_random = random;
	return config_check(cfg, err, errlen);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},
		{"stats", required_argument, NULL, 't'},
		{"print-config", no_argument, NULL, 'p'},
		{"power-fail-at", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *config_path = NULL, *stats_path = NULL, *fail_at = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof *sets);
	size_t nsets = 0;
	bool print_config = false, have_seed = false;
	unsigned long long seed = 0;
	int c, rc = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'f': fail_at = optarg; break;
		case 'S':
			if (cli_parse_u64("--seed", optarg, &seed))
				goto out;
			have_seed = true;
			break;
		case 't': stats_path = optarg; break;
		case 'p': print_config = true; break;
		case 'h': run_usage(stdout); rc = EXIT_OK; goto out;
		default: run_usage(stderr); goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phantom-sim: run: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}
	if (!config_path) {
		fprintf(stderr, "phantom-sim: run: --config FILE is required\n");
		goto out;
	}

	struct config cfg;
	char err[512];
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
	if (have_seed)
		cfg.run.seed = seed;
	if (fail_at && power_fail_option(&cfg, fail_at, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		config_free(&cfg);
		goto out;
	}

	if (print_config) {
		char *json = config_to_json(&cfg);
		puts(json);
		free(json);
		config_free(&cfg);
		rc = EXIT_OK;
		goto out;
	}

	struct sim sim;
	sim_init(&sim, cfg.run.seed);
	sim.max_time = cfg.run.max_time_us * SIM_US;
	sim.max_insns = cfg.run.max_insns;
	*stats_counter(&sim.stats, "run.seed") = cfg.run.seed;

	/* stdout carries the guest's console: keep it in order with what the
	 * simulator prints on stderr. */
	fflush(stdout);
	struct machine m;
	if (machine_init(&m, &sim, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		machine_free(&m, err, sizeof err);
		sim_free(&sim);
		config_free(&cfg);
		goto out;
	}
	enum machine_exit why = machine_run(&m);
	fflush(stdout);
	*stats_counter(&sim.stats, "run.sim_time_ps") = sim.now;
	*stats_counter(&sim.stats, "run.insns") = sim.insns;

	/* A run ends as configured when it reaches its limit or the guest
	 * powers off cleanly (debug-exit value 0); anything else is a guest
	 * failure. */
	rc = EXIT_GUEST;
	if (why == MACHINE_EXIT_LIMIT || why == MACHINE_EXIT_STOPPED ||
	    (why == MACHINE_EXIT_DEBUG_EXIT && m.exit_code == 1))
		rc = EXIT_OK;
	fprintf(stderr, "phantom-sim: %s: %s after %llu instructions, %llu ps of simulated time\n",
		config_path, machine_exit_name(why), (unsigned long long)sim.insns,
		(unsigned long long)sim.now);
	if (machine_free(&m, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		rc = EXIT_HOST;
	}
	stats_print(&sim.stats, stderr);
	if (stats_path && write_stats(&sim, stats_path))
		rc = EXIT_HOST;
	sim_free(&sim);
	config_free(&cfg);
out:
	free(sets);
	return rc;
}
