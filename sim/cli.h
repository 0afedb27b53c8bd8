/* sim/cli.h: the phantom-sim subcommands and the exit statuses they share.
 *
 * Every subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0]
 * the subcommand's name, and returns the process exit status.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

/* Exit statuses, documented in --help and the README. */
enum {
	EXIT_OK = 0,            /* the run ended as configured */
	EXIT_GUEST = 1,         /* the guest failed: fault, halt, bad result */
	EXIT_USAGE = 2,         /* bad command line, config, image or ELF */
	EXIT_HOST = 3,          /* host I/O error (writing stats, images) */
};

int cmd_run(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_boot(int argc, char **argv);

struct sim;

/* Shared option parsing helpers. */
int cli_parse_u64(const char *opt, const char *text, unsigned long long *out);
/* --stats FILE: the counters as JSON, written through a temporary and a
 * rename so an interrupted run never leaves half a file.  One line on
 * stderr and -1 when it cannot be written. */
int cli_write_stats(const struct sim *s, const char *path);

#endif
