/* traces/trace_plot.c: snapshot latency figures through gnuplot.
 *
 * Two figures, each written as NAME.dat (the numbers), NAME.gp (a gnuplot
 * script that reads NAME.dat and writes NAME.pdf with pdfcairo and
 * NAME.svg with svg), and the two images:
 *
 *     latency-cdf    fraction of committed snapshots with latency <= x
 *     latency-time   latency of each committed snapshot against its
 *                    simulated begin time
 *
 * The .dat and .gp files are ours and byte-identical for identical input;
 * authors restyle a figure by editing its .gp and running `gnuplot
 * NAME.gp` in the directory.  gnuplot runs as a child process with the
 * output directory as its working directory and SOURCE_DATE_EPOCH=0, so
 * that cairo does not stamp the PDF with the host's clock.
 */
#define _GNU_SOURCE                     /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "traces/trace_export.h"
#include "traces/trace_scan.h"

static const char cdf_gp[] =
	"# latency-cdf.gp: CDF of snapshot latency (written by phantom-sim trace plot).\n"
	"# Edit freely, then run: gnuplot latency-cdf.gp\n"
	"set encoding utf8\n"
	"set xlabel 'snapshot latency (simulated µs)'\n"
	"set ylabel 'fraction of committed snapshots'\n"
	"set yrange [0:1]\n"
	"set grid\n"
	"set key off\n"
	"set terminal pdfcairo size 5in,3.5in font 'Sans,10'\n"
	"set output 'latency-cdf.pdf'\n"
	"plot 'latency-cdf.dat' using 1:2 with steps linewidth 2\n"
	"set terminal svg size 600,420 font 'Sans,10'\n"
	"set output 'latency-cdf.svg'\n"
	"replot\n"
	"unset output\n";

static const char time_gp[] =
	"# latency-time.gp: snapshot latency over simulated time (written by phantom-sim trace plot).\n"
	"# Edit freely, then run: gnuplot latency-time.gp\n"
	"set encoding utf8\n"
	"set xlabel 'snapshot begin (simulated ms)'\n"
	"set ylabel 'snapshot latency (simulated µs)'\n"
	"set yrange [0:*]\n"
	"set grid\n"
	"set key off\n"
	"set terminal pdfcairo size 5in,3.5in font 'Sans,10'\n"
	"set output 'latency-time.pdf'\n"
	"plot 'latency-time.dat' using 1:2 with linespoints pointtype 7 pointsize 0.4\n"
	"set terminal svg size 600,420 font 'Sans,10'\n"
	"set output 'latency-time.svg'\n"
	"replot\n"
	"unset output\n";

static int cmp_time(const void *a, const void *b)
{
	sim_time_t x = *(const sim_time_t *)a, y = *(const sim_time_t *)b;
	return x < y ? -1 : x > y;
}

/* Write dir/name with the given text or, when text is NULL, leave the
 * FILE open for the caller in *fp. */
static int create(const char *dir, const char *name, FILE **fp, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	*fp = fopen(path, "w");
	if (!*fp) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return -2;
	}
	return 0;
}

static int finish(FILE *f, const char *dir, const char *name, char *err, size_t errlen)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "%s/%s: write failed: %s", dir, name, strerror(errno ? errno : EIO));
		return -2;
	}
	return 0;
}

static int write_text(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
	FILE *f;
	int rc = create(dir, name, &f, err, errlen);
	if (rc)
		return rc;
	fputs(text, f);
	return finish(f, dir, name, err, errlen);
}

/* Run `gnuplot script` in dir.  The exec error, if any, comes back through
 * a close-on-exec pipe so a missing gnuplot is told apart from a failing one. */
static int run_gnuplot(const char *dir, const char *script, char *err, size_t errlen)
{
	const char *gp = getenv("GNUPLOT");
	if (!gp || !*gp)
		gp = "gnuplot";
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "phantom-sim: cannot run gnuplot: %s", strerror(errno));
		return -2;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		snprintf(err, errlen, "phantom-sim: cannot run gnuplot: %s", strerror(errno));
		return -2;
	}
	if (pid == 0) {
		close(fds[0]);
		int e = 0;
		if (chdir(dir) != 0 || setenv("SOURCE_DATE_EPOCH", "0", 1) != 0)
			e = errno;
		else {
			execlp(gp, gp, script, (char *)NULL);
			e = errno;
		}
		ssize_t w = write(fds[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	close(fds[1]);
	int e = 0;
	ssize_t got = read(fds[0], &e, sizeof e);
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof e) {
		if (e == ENOENT)
			snprintf(err, errlen, "phantom-sim: gnuplot not found (looked for '%s'); install it "
				 "(Debian: apt-get install gnuplot-nox) or set GNUPLOT", gp);
		else
			snprintf(err, errlen, "phantom-sim: cannot run '%s': %s", gp, strerror(e));
		return -2;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "%s/%s: gnuplot failed (%s %d)", dir, script,
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -2;
	}
	return 0;
}

int trace_plot(const char *path, const char *dir, char *err, size_t errlen)
{
	struct trace_reader r;
	struct trace_event ev;
	struct trace_scan s;
	trace_scan_init(&s, NULL, NULL);
	/* Nothing is written until the whole trace has been read and checked. */
	int rc = trace_reader_open(&r, path);
	if (rc == 0)
		while ((rc = trace_reader_next(&r, &ev)) > 0)
			trace_scan_event(&s, &ev);
	if (rc < 0) {
		snprintf(err, errlen, "%s", r.err);
		goto out;
	}
	trace_scan_finish(&s, r.end_time);
	if (s.oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
		goto out;
	}

	size_t n = 0;
	for (size_t i = 0; i < s.nsnaps; i++)
		n += s.snaps[i].outcome == SNAP_COMMITTED;
	if (n == 0) {
		snprintf(err, errlen, "%s: no committed snapshots to plot", path);
		rc = -1;
		goto out;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
		rc = -2;
		goto out;
	}

	FILE *f;
	char a[32], b[32];
	if ((rc = create(dir, "latency-time.dat", &f, err, errlen)) != 0)
		goto out;
	fputs("# begin_ms latency_us generation (committed snapshots, simulated time)\n", f);
	sim_time_t *lat = malloc(n * sizeof *lat);
	if (!lat) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < s.nsnaps; i++) {
		const struct snap *sn = &s.snaps[i];
		if (sn->outcome != SNAP_COMMITTED)
			continue;
		lat[k++] = sn->end - sn->begin;
		/* ms with 9 decimals is exact in ps */
		fprintf(f, "%" PRIu64 ".%09" PRIu64 " %s %" PRIu64 "\n", sn->begin / SIM_MS,
			sn->begin % SIM_MS, fmt_us(a, sn->end - sn->begin), sn->generation);
	}
	if ((rc = finish(f, dir, "latency-time.dat", err, errlen)) != 0) {
		free(lat);
		goto out;
	}

	qsort(lat, n, sizeof *lat, cmp_time);
	if ((rc = create(dir, "latency-cdf.dat", &f, err, errlen)) != 0) {
		free(lat);
		goto out;
	}
	fputs("# latency_us fraction (committed snapshots with latency <= latency_us)\n", f);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && lat[i + 1] == lat[i])
			continue;               /* one point per distinct latency */
		uint64_t frac = (uint64_t)(((unsigned __int128)(i + 1) * 1000000) / n);
		snprintf(b, sizeof b, "%" PRIu64 ".%06" PRIu64, frac / 1000000, frac % 1000000);
		fprintf(f, "%s %s\n", fmt_us(a, lat[i]), b);
	}
	free(lat);
	if ((rc = finish(f, dir, "latency-cdf.dat", err, errlen)) != 0)
		goto out;

	if ((rc = write_text(dir, "latency-cdf.gp", cdf_gp, err, errlen)) != 0 ||
	    (rc = write_text(dir, "latency-time.gp", time_gp, err, errlen)) != 0)
		goto out;
	if ((rc = run_gnuplot(dir, "latency-cdf.gp", err, errlen)) != 0 ||
	    (rc = run_gnuplot(dir, "latency-time.gp", err, errlen)) != 0)
		goto out;
out:
	trace_scan_free(&s);
	trace_reader_close(&r);
	return rc;
}
