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
#include "machine/cpu.h"
#include "machine/crash.h"
#include "machine/machine.h"
#include "machine/persist.h"
#include "sim/cli.h"
#include "sim/config.h"
#include "sim/insn_trace.h"
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
		"  --trace FILE        record a trace (sets trace.file; docs/traces.md)\n"
		"  --trace-insn[=FROM..TO]  also record every executed instruction, or those\n"
		"                      at addresses in [FROM, TO) (sets trace.insn*)\n"
		"  --power-fail-at K:N cut the power at N of kind K: time_us, insn or event\n"
		"                      (the N-th persistence event); random-K:N draws the\n"
		"                      point in [1, N] from the seed (sets power.fail_*)\n");
}

/* The power-failure plan of power.fail_*.  A random point is drawn from
 * the run seed's own stream, so the same seed cuts at the same place. */
static struct power_fail_plan plan_from(const struct config *cfg)
{
	static const enum power_fail_kind kinds[] = {
		[FAIL_NEVER] = POWER_FAIL_NEVER, [FAIL_TIME_US] = POWER_FAIL_AT_TIME,
		[FAIL_INSN] = POWER_FAIL_AT_INSN, [FAIL_EVENT] = POWER_FAIL_AT_EVENT,
	};
	struct power_fail_plan plan = {.kind = kinds[cfg->power.fail_kind], .at = cfg->power.fail_at};
	if (cfg->power.fail_random && plan.kind != POWER_FAIL_NEVER) {
		struct rng r;
		rng_stream(&r, cfg->run.seed, "power.point");
		power_fail_plan_random(&plan, &r, plan.kind, 1, cfg->power.fail_at);
	}
	if (plan.kind == POWER_FAIL_AT_TIME)
		plan.at *= SIM_US;
	return plan;
}

static void cut_power(void *ctx)
{
	struct machine *m = ctx;
	cpu_request_exit(m->cpu);
	sim_request_stop(m->sim, 0);
}

/* One boot of the machine, until a limit, the guest's end, or the power
 * failure of `plan` (NULL: none).  Powering off applies the crash policy
 * to the persistent images either way.  Returns the exit status. */
static int run_boot(const struct config *cfg, const char *config_path,
		    const struct power_fail_plan *plan, const char *stats_path, bool *failed)
{
	struct sim sim;
	char err[512];
	int rc;
	sim_init(&sim, cfg->run.seed);
	sim.max_time = cfg->run.max_time_us * SIM_US;
	sim.max_insns = cfg->run.max_insns;
	if (plan && plan->kind == POWER_FAIL_AT_TIME && (!sim.max_time || plan->at < sim.max_time))
		sim.max_time = plan->at;
	if (plan && plan->kind == POWER_FAIL_AT_INSN && (!sim.max_insns || plan->at < sim.max_insns))
		sim.max_insns = plan->at;
	*stats_counter(&sim.stats, "run.seed") = cfg->run.seed;

	/* stdout carries the guest's console: keep it in order with what the
	 * simulator prints on stderr. */
	fflush(stdout);
	struct machine m;
	if (machine_init(&m, &sim, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		machine_free(&m, err, sizeof err);
		sim_free(&sim);
		return EXIT_USAGE;
	}
	insn_trace_from_config(m.cpu, m.trace, cfg);
	if (plan && plan->kind == POWER_FAIL_AT_EVENT) {
		if (!m.have_nv) {
			fprintf(stderr, "phantom-sim: %s: power.fail_kind: \"event\" counts persistent-memory "
				"events and needs pmem.enabled; use \"time_us\" or \"insn\"\n", config_path);
			machine_free(&m, err, sizeof err);
			sim_free(&sim);
			return EXIT_USAGE;
		}
		power_fail_arm(plan, &m.nv.pm, cut_power, &m);
	}
	enum machine_exit why = machine_run(&m);
	fflush(stdout);
	uint64_t events = m.have_nv ? persist_event_count(&m.nv.pm) : 0;
	*failed = plan && power_fail_due(plan, sim.now, sim.insns, events);
	*stats_counter(&sim.stats, "run.sim_time_ps") = sim.now;
	*stats_counter(&sim.stats, "run.insns") = sim.insns;
	*stats_counter(&sim.stats, "power.failures") += *failed;

	/* A run ends as configured when it reaches its limit, the planned
	 * power failure, or the guest powers off cleanly (debug-exit value
	 * 0); anything else is a guest failure. */
	rc = EXIT_GUEST;
	if (*failed || why == MACHINE_EXIT_LIMIT || why == MACHINE_EXIT_STOPPED ||
	    (why == MACHINE_EXIT_DEBUG_EXIT && m.exit_code == 1))
		rc = EXIT_OK;
	if (*failed)
		fprintf(stderr, "phantom-sim: %s: power failure (%s policy) after %llu persistence "
			"events, %llu instructions, %llu ps\n", config_path,
			config_enum_name("power.policy", cfg->power.policy), (unsigned long long)events,
			(unsigned long long)sim.insns, (unsigned long long)sim.now);
	else
		fprintf(stderr, "phantom-sim: %s: %s after %llu instructions, %llu ps of simulated time\n",
			config_path, machine_exit_name(why), (unsigned long long)sim.insns,
			(unsigned long long)sim.now);
	if (machine_free(&m, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		rc = EXIT_HOST;
	}
	stats_print(&sim.stats, stderr);
	if (stats_path && cli_write_stats(&sim, stats_path))
		rc = EXIT_HOST;
	sim_free(&sim);
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
		{"trace", required_argument, NULL, 'T'},
		{"trace-insn", optional_argument, NULL, 'I'},
		{"power-fail-at", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *config_path = NULL, *stats_path = NULL, *fail_at = NULL, *trace_path = NULL;
	const char *insn_range = NULL;
	bool trace_insn = false;
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
		case 'T': trace_path = optarg; break;
		case 'I': trace_insn = true; insn_range = optarg; break;
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
	if (trace_path) {
		char *set = malloc(strlen(trace_path) + 16);
		if (!set)
			abort();
		sprintf(set, "trace.file=%s", trace_path);
		int bad = config_set(&cfg, set, err, sizeof err);
		free(set);
		if (bad) {
			fprintf(stderr, "phantom-sim: %s\n", err);
			config_free(&cfg);
			goto out;
		}
	}
	if (trace_insn && (config_set(&cfg, "trace.insn=true", err, sizeof err) ||
			   (insn_range && insn_trace_range_option(&cfg, insn_range, err, sizeof err)))) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		config_free(&cfg);
		goto out;
	}
	if (insn_trace_check(&cfg, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		config_free(&cfg);
		goto out;
	}
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

	struct power_fail_plan plan = plan_from(&cfg);
	for (unsigned boot = 0;; boot++) {
		bool armed = boot == 0 && plan.kind != POWER_FAIL_NEVER;
		bool failed = false;
		rc = run_boot(&cfg, config_path, armed ? &plan : NULL, stats_path, &failed);
		if (!failed || cfg.power.after == AFTER_STOP || rc == EXIT_USAGE || rc == EXIT_HOST)
			break;
		fprintf(stderr, "phantom-sim: rebooting on what survived (power.after=reboot)\n");
	}
	config_free(&cfg);
out:
	free(sets);
	return rc;
}
