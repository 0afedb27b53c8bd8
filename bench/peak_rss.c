/* bench/peak_rss.c: run a command and report its peak resident set size.
 *
 *     peak-rss [-o FILE] COMMAND [ARG]...
 *
 * Waits for COMMAND and writes its peak RSS in KiB (ru_maxrss of the
 * child, from wait4) to FILE, or as "peak-rss: N KiB" on stderr without
 * -o.  Exits with COMMAND's status (128 + signal when it was killed), or
 * 127 when it could not be started.  /usr/bin/time -v reports the same
 * figure but is not installed everywhere; bench/pmem-scale and
 * tests/cli/pmem-scale.sh use this instead.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *out = NULL;
	int i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "-o")) {
		out = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: peak-rss [-o FILE] COMMAND [ARG]...\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("peak-rss: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[i], argv + i);
		fprintf(stderr, "peak-rss: cannot run %s\n", argv[i]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		;
	/* ru_maxrss is in KiB on Linux. */
	if (out) {
		FILE *f = fopen(out, "w");
		if (!f || fprintf(f, "%ld\n", ru.ru_maxrss) < 0 || fclose(f)) {
			fprintf(stderr, "peak-rss: cannot write %s\n", out);
			return 127;
		}
	} else {
		fprintf(stderr, "peak-rss: %ld KiB\n", ru.ru_maxrss);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
