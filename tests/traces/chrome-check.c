/* tests/traces/chrome-check.c: structural check of Chrome Trace Event JSON.
 *
 *     chrome-check FILE
 *     chrome-check --json FILE      (only: is FILE one valid JSON value?)
 *
 * Passes (exit 0, with a one-line tally) when FILE is valid JSON shaped as Perfetto and
 * chrome://tracing expect: an object with a traceEvents array whose every
 * element has a string name and ph, integer pid and tid, a numeric ts
 * (except metadata), a non-negative dur on "X" events, args on "C" and "M"
 * events, balanced and properly nested "B"/"E" pairs per track, and
 * timestamps that never decrease along a track (a track is pid and tid;
 * counters are tracked by pid and name).  Otherwise prints the first
 * problem, naming the event index, and exits 1.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct track {
	double pid, tid;
	char *counter;                  /* counter name, or NULL for a thread track */
	double last_ts;
	int depth;                      /* open "B" events */
};

static struct track *tracks;
static size_t ntracks;

static struct track *find(double pid, double tid, const char *counter)
{
	for (size_t i = 0; i < ntracks; i++) {
		struct track *t = &tracks[i];
		if (t->pid != pid)
			continue;
		if (counter ? t->counter && strcmp(t->counter, counter) == 0
			    : !t->counter && t->tid == tid)
			return t;
	}
	tracks = realloc(tracks, (ntracks + 1) * sizeof *tracks);
	if (!tracks) {
		perror("chrome-check");
		exit(2);
	}
	struct track *t = &tracks[ntracks++];
	*t = (struct track){pid, tid, counter ? strdup(counter) : NULL, -1e300, 0};
	return t;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

#define FAIL(...) do { fprintf(stderr, "%s: ", path); fprintf(stderr, __VA_ARGS__); \
		       fputc('\n', stderr); return 1; } while (0)

static bool is_int(const cJSON *n)
{
	return cJSON_IsNumber(n) && n->valuedouble == (double)(long long)n->valuedouble;
}

int main(int argc, char **argv)
{
	bool json_only = argc == 3 && strcmp(argv[1], "--json") == 0;
	if (argc != 2 && !json_only) {
		fprintf(stderr, "usage: chrome-check [--json] FILE\n");
		return 2;
	}
	const char *path = argv[argc - 1];
	char *text = slurp(path);
	if (!text)
		FAIL("cannot read");
	const char *end;
	cJSON *root = cJSON_ParseWithOpts(text, &end, true);
	if (!root)
		FAIL("not valid JSON (near byte %ld)", (long)(cJSON_GetErrorPtr() - text));
	if (json_only) {
		cJSON_Delete(root);
		free(text);
		return 0;
	}
	if (!cJSON_IsObject(root))
		FAIL("top level is not an object");
	cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
	if (!cJSON_IsArray(evs))
		FAIL("no traceEvents array");
	int i = 0, n_x = 0, n_c = 0, n_i = 0, n_m = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, evs) {
		if (!cJSON_IsObject(e))
			FAIL("event %d is not an object", i);
		cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
		cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
		cJSON *pid = cJSON_GetObjectItemCaseSensitive(e, "pid");
		cJSON *tid = cJSON_GetObjectItemCaseSensitive(e, "tid");
		cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "ts");
		cJSON *dur = cJSON_GetObjectItemCaseSensitive(e, "dur");
		cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
		if (!cJSON_IsString(name))
			FAIL("event %d has no string name", i);
		if (!cJSON_IsString(ph) || strlen(ph->valuestring) != 1 ||
		    !strchr("XBEiICM", ph->valuestring[0]))
			FAIL("event %d (%s): bad ph", i, name->valuestring);
		if (!is_int(pid) || !is_int(tid))
			FAIL("event %d (%s): pid and tid must be integers", i, name->valuestring);
		char p = ph->valuestring[0];
		if (p == 'M') {
			if (!cJSON_IsObject(args))
				FAIL("event %d (%s): metadata without args", i, name->valuestring);
			n_m++;
			i++;
			continue;
		}
		if (!cJSON_IsNumber(ts) || ts->valuedouble < 0)
			FAIL("event %d (%s): no valid ts", i, name->valuestring);
		struct track *t = find(pid->valuedouble, tid->valuedouble,
				       p == 'C' ? name->valuestring : NULL);
		if (ts->valuedouble < t->last_ts)
			FAIL("event %d (%s): ts %.6f goes back on its track (last %.6f)", i,
			     name->valuestring, ts->valuedouble, t->last_ts);
		t->last_ts = ts->valuedouble;
		switch (p) {
		case 'X':
			if (!cJSON_IsNumber(dur) || dur->valuedouble < 0)
				FAIL("event %d (%s): X event without a non-negative dur", i, name->valuestring);
			n_x++;
			break;
		case 'B':
			t->depth++;
			break;
		case 'E':
			if (--t->depth < 0)
				FAIL("event %d (%s): E without a matching B", i, name->valuestring);
			break;
		case 'C':
			if (!cJSON_IsObject(args) || !args->child)
				FAIL("event %d (%s): counter without values", i, name->valuestring);
			for (cJSON *v = args->child; v; v = v->next)
				if (!cJSON_IsNumber(v))
					FAIL("event %d (%s): counter value %s is not a number", i,
					     name->valuestring, v->string);
			n_c++;
			break;
		default:
			n_i++;
			break;
		}
		i++;
	}
	for (size_t k = 0; k < ntracks; k++)
		if (tracks[k].depth != 0)
			FAIL("track pid %.0f tid %.0f ends with %d unclosed B events", tracks[k].pid,
			     tracks[k].tid, tracks[k].depth);
	if (n_m == 0)
		FAIL("no metadata events naming the tracks");
	printf("%s: ok, %d events (%d X, %d C, %d instant, %d metadata) on %zu tracks\n",
	       path, i, n_x, n_c, n_i, n_m, ntracks);
	cJSON_Delete(root);
	free(text);
	for (size_t k = 0; k < ntracks; k++)
		free(tracks[k].counter);
	free(tracks);
	return 0;
}
