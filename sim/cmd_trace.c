/* sim/cmd_trace.c: `phantom-sim trace ...`, reading recorded traces.
 *
 *     phantom-sim trace export --format chrome|csv|summary|insn [--snapshots] TRACE [-o OUT]
 *     phantom-sim trace plot TRACE -o DIR
 *     phantom-sim trace info TRACE
 *
 * Every command first reads the whole trace to check it (magic, version,
 * record structure, event count, digest), so a truncated or corrupt trace
 * gives one line naming the byte offset and exit status 2 before any
 * output is written.  An output file that cannot be written is exit 3 and,
 * if it is a regular file, is removed rather than left half-written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sim/cli.h"
#include "traces/trace_export.h"
#include "traces/trace_reader.h"

static void usage(FILE *out)
{
	fputs("usage: phantom-sim trace export --format chrome|csv|summary|insn [--snapshots] TRACE [-o OUT]\n"
	      "       phantom-sim trace plot TRACE -o DIR\n"
	      "       phantom-sim trace info TRACE\n"
	      "\n"
	      "export formats (docs/traces.md):\n"
	      "  chrome   Chrome Trace Event JSON; open it in ui.perfetto.dev\n"
	      "  csv      one row per event; with --snapshots, one row per snapshot\n"
	      "  summary  snapshot latency and pause statistics, bytes, write amplification (JSON)\n"
	      "  insn     disassembly of the instruction-trace records\n"
	      "plot writes latency-cdf and latency-time as .pdf and .svg, with their .dat\n"
	      "and .gp files, into DIR (needs gnuplot; GNUPLOT names another binary).\n"
	      "Output goes to stdout unless -o is given.  Exit status: 0 ok, 2 bad command\n"
	      "line or bad trace, 3 output not written (or gnuplot missing).\n", out);
}

struct opts {
	const char *format;
	const char *trace;
	const char *out;
	bool snapshots;
};

/* Options may come before or after TRACE. */
static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0 ||
			   strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0) {
			bool is_format = strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0;
			if (i + 1 >= argc) {
				fprintf(stderr, "phantom-sim trace: %s needs a value\n", a);
				return -1;
			}
			*(is_format ? &o->format : &o->out) = argv[++i];
		} else if (strncmp(a, "--format=", 9) == 0) {
			o->format = a + 9;
		} else if (strncmp(a, "--output=", 9) == 0) {
			o->out = a + 9;
		} else if (strcmp(a, "--snapshots") == 0) {
			o->snapshots = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "phantom-sim trace: unknown option '%s' (see phantom-sim trace --help)\n", a);
			return -1;
		} else if (o->trace) {
			fprintf(stderr, "phantom-sim trace: more than one trace file given ('%s' and '%s')\n",
				o->trace, a);
			return -1;
		} else {
			o->trace = a;
		}
	}
	if (!o->trace) {
		fprintf(stderr, "phantom-sim trace %s: no trace file given (see phantom-sim trace --help)\n",
			argv[1]);
		return -1;
	}
	return 0;
}

static int info(const char *path)
{
	struct trace_reader r;
	struct trace_event ev;
	int rc = trace_reader_open(&r, path);
	while (rc == 0 && (rc = trace_reader_next(&r, &ev)) > 0)
		rc = 0;
	if (rc < 0) {
		fprintf(stderr, "%s\n", r.err);
		trace_reader_close(&r);
		return EXIT_USAGE;
	}
	printf("%s: phantom-sim trace, format version %u\n"
	       "sim_version %s\nconfig_hash 0x%016" PRIx64 "\nseed %" PRIu64 "\n"
	       "events %" PRIu64 "\nend_us %" PRIu64 ".%06" PRIu64 "\ndigest 0x%016" PRIx64 "\n",
	       path, r.version, r.sim_version, r.config_hash, r.seed, r.count,
	       r.end_time / 1000000, r.end_time % 1000000, r.digest);
	trace_reader_close(&r);
	return EXIT_OK;
}

static int export(const struct opts *o)
{
	int (*fn)(const char *, FILE *, char *, size_t);
	if (!o->format) {
		fprintf(stderr, "phantom-sim trace export: --format is required (chrome, csv, summary or insn)\n");
		return EXIT_USAGE;
	}
	if (strcmp(o->format, "chrome") == 0)
		fn = trace_export_chrome;
	else if (strcmp(o->format, "csv") == 0)
		fn = o->snapshots ? trace_export_csv_snapshots : trace_export_csv;
	else if (strcmp(o->format, "summary") == 0)
		fn = trace_export_summary;
	else if (strcmp(o->format, "insn") == 0)
		fn = trace_export_insn;
	else {
		fprintf(stderr, "phantom-sim trace export: unknown format '%s' (chrome, csv, summary or insn)\n",
			o->format);
		return EXIT_USAGE;
	}
	if (o->snapshots && strcmp(o->format, "csv") != 0) {
		fprintf(stderr, "phantom-sim trace export: --snapshots goes with --format csv\n");
		return EXIT_USAGE;
	}

	char err[600];
	if (trace_validate(o->trace, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	bool to_file = o->out && strcmp(o->out, "-") != 0;
	/* Only a regular file (or a new one) is removed after a failure: -o
	 * may name a device or a pipe, which must be left alone. */
	struct stat st;
	bool removable = to_file && (stat(o->out, &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode));
	FILE *out = stdout;
	if (to_file && !(out = fopen(o->out, "w"))) {
		fprintf(stderr, "%s: cannot create: %s\n", o->out, strerror(errno));
		return EXIT_HOST;
	}
	int rc = fn(o->trace, out, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	int bad = ferror(out);
	int closed = to_file ? fclose(out) : fflush(out);
	if (rc == 0 && (bad || closed != 0)) {
		fprintf(stderr, "%s: write failed: %s\n", to_file ? o->out : "stdout",
			strerror(errno ? errno : EIO));
		rc = -2;
	}
	if (rc != 0 && removable)
		unlink(o->out);
	return rc == 0 ? EXIT_OK : rc == -2 ? EXIT_HOST : EXIT_USAGE;
}

static int plot(const struct opts *o)
{
	if (!o->out) {
		fprintf(stderr, "phantom-sim trace plot: -o DIR is required\n");
		return EXIT_USAGE;
	}
	char err[600];
	int rc = trace_plot(o->trace, o->out, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	return rc == 0 ? EXIT_OK : rc == -2 ? EXIT_HOST : EXIT_USAGE;
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(sub, "export") != 0 && strcmp(sub, "plot") != 0 && strcmp(sub, "info") != 0) {
		fprintf(stderr, "phantom-sim trace: unknown command '%s' (export, plot or info)\n", sub);
		return EXIT_USAGE;
	}
	struct opts o = {0};
	int p = parse(argc, argv, &o);
	if (p != 0)
		return p > 0 ? EXIT_OK : EXIT_USAGE;
	if (strcmp(sub, "export") == 0)
		return export(&o);
	if (strcmp(sub, "plot") == 0)
		return plot(&o);
	return info(o.trace);
}
