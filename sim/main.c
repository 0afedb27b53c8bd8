/* sim/main.c: the phantom-sim command dispatcher.
 *
 * `phantom-sim [SUBCOMMAND] ...`; with no subcommand (or when the first
 * argument is an option) it means `run`.  Each subcommand lives in its own
 * sim/cmd_*.c file and owns its options.
 */
#include <stdio.h>
#include <string.h>
#include <config.h>   /* autoconf's, not sim/config.h */
#include "sim/cli.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *issue;      /* for commands not built yet */
};

static const struct subcommand subcommands[] = {
	{"run", cmd_run, "build the machine from a config and run it", NULL},
	{"user", cmd_user, "run a static x86-64 Linux ELF in user mode", NULL},
	{"trace", cmd_trace, "export or plot a recorded trace", NULL},
	{"boot", cmd_boot, "boot a Multiboot kernel, like qemu-system-x86_64 -kernel", NULL},
	{"campaign", cmd_campaign, "run a fault-injection campaign, or merge shard reports", NULL},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: phantom-sim [run] --config FILE [--set KEY.PATH=VALUE]... [--seed N]\n"
		"                   [--stats FILE] [--print-config]\n"
		"       phantom-sim SUBCOMMAND --help\n"
		"       phantom-sim --help | --version\n"
		"\nsubcommands:\n");
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		fprintf(out, "  %-9s %s%s%s%s\n", subcommands[i].name, subcommands[i].summary,
			subcommands[i].fn ? "" : " (not built yet: issue ",
			subcommands[i].fn ? "" : subcommands[i].issue,
			subcommands[i].fn ? "" : ")");
	fprintf(out,
		"\nexit status:\n"
		"  0  the run ended as configured (limit reached or clean guest power-off)\n"
		"  1  the guest failed (fault, unexpected halt, failed self-check)\n"
		"  2  bad input: command line, config, image or ELF (one line on stderr)\n"
		"  3  host error: could not write an output file\n"
		"\nconfig keys: docs/config.md; shipped configs: %s/\n", PKGDATADIR);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("phantom-sim %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argv[1][0] == '-')          /* no subcommand: `run` */
		return cmd_run(argc, argv);
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
		const struct subcommand *s = &subcommands[i];
		if (strcmp(argv[1], s->name) != 0)
			continue;
		if (!s->fn) {
			fprintf(stderr, "phantom-sim: '%s' is not built yet (issue %s)\n",
				s->name, s->issue);
			return EXIT_USAGE;
		}
		return s->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "phantom-sim: unknown subcommand '%s' (see phantom-sim --help)\n", argv[1]);
	return EXIT_USAGE;
}
