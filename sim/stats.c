/* sim/stats.c: named counters, kept as individually allocated entries so
 * the pointers handed out stay valid while the registry grows. */
#include <stdlib.h>
#include <string.h>
#include "sim/stats.h"

void stats_init(struct stats *s)
{
	*s = (struct stats){0};
}

void stats_free(struct stats *s)
{
	for (size_t i = 0; i < s->len; i++) {
		free(s->entries[i]->name);
		free(s->entries[i]);
	}
	free(s->entries);
	*s = (struct stats){0};
}

static struct stat_entry *find(const struct stats *s, const char *name)
{
	for (size_t i = 0; i < s->len; i++)
		if (strcmp(s->entries[i]->name, name) == 0)
			return s->entries[i];
	return NULL;
}

uint64_t *stats_counter(struct stats *s, const char *name)
{
	struct stat_entry *e = find(s, name);
	if (e)
		return &e->value;
	if (s->len == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct stat_entry **v = realloc(s->entries, cap * sizeof *v);
		if (!v)
			abort();
		s->entries = v;
		s->cap = cap;
	}
	e = calloc(1, sizeof *e);
	if (!e || !(e->name = strdup(name)))
		abort();
	s->entries[s->len++] = e;
	return &e->value;
}

uint64_t stats_get(const struct stats *s, const char *name)
{
	const struct stat_entry *e = find(s, name);
	return e ? e->value : 0;
}

static int by_name(const void *a, const void *b)
{
	const struct stat_entry *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/* A sorted copy of the entry pointers, so output order is by name. */
static struct stat_entry **sorted(const struct stats *s)
{
	struct stat_entry **v = malloc((s->len + 1) * sizeof *v);
	if (!v)
		abort();
	if (s->len)
		memcpy(v, s->entries, s->len * sizeof *v);
	qsort(v, s->len, sizeof *v, by_name);
	return v;
}

void stats_print(const struct stats *s, FILE *out)
{
	struct stat_entry **v = sorted(s);
	for (size_t i = 0; i < s->len; i++)
		fprintf(out, "%-40s %20llu\n", v[i]->name, (unsigned long long)v[i]->value);
	free(v);
}

int stats_write_json(const struct stats *s, FILE *out)
{
	struct stat_entry **v = sorted(s);
	fputs("{", out);
	for (size_t i = 0; i < s->len; i++) {
		/* Counter names are dotted identifiers chosen by our own code,
		 * so they need no JSON escaping. */
		fprintf(out, "%s\n  \"%s\": %llu", i ? "," : "", v[i]->name,
			(unsigned long long)v[i]->value);
	}
	fputs(s->len ? "\n}\n" : "}\n", out);
	free(v);
	return ferror(out) ? -1 : 0;
}
