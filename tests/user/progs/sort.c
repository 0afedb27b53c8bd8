/* tests/user/progs/sort.c: qsort and bsearch on integers, doubles and
 * strings, with a deterministic generator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t seed = 12345;
static uint32_t next(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 1;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	enum { N = 100000, NS = 20000 };
	int *v = malloc(N * sizeof *v);
	double *d = malloc(N * sizeof *d);
	char **s = malloc(NS * sizeof *s);
	for (int i = 0; i < N; i++) {
		v[i] = (int)(next() % 1000000) - 500000;
		d[i] = (double)next() / 3.0 - 1e8;
	}
	for (int i = 0; i < NS; i++) {
		char buf[16];
		int len = 1 + (int)(next() % 12);
		for (int k = 0; k < len; k++)
			buf[k] = (char)('a' + next() % 26);
		buf[len] = 0;
		s[i] = strdup(buf);
	}
	qsort(v, N, sizeof *v, cmp_int);
	qsort(d, N, sizeof *d, cmp_dbl);
	qsort(s, NS, sizeof *s, cmp_str);
	long long sum = 0;
	for (int i = 0; i < N; i++)
		sum += (long long)v[i] * (i % 7 + 1);
	int sorted = 1;
	for (int i = 1; i < N; i++)
		sorted &= v[i - 1] <= v[i] && d[i - 1] <= d[i];
	for (int i = 1; i < NS; i++)
		sorted &= strcmp(s[i - 1], s[i]) <= 0;
	int key = v[N / 3];
	int *hit = bsearch(&key, v, N, sizeof *v, cmp_int);
	printf("sorted %d sum %lld min %d max %d found %d\n", sorted, sum, v[0], v[N - 1], hit && *hit == key);
	printf("%.6f %.6f %s %s %s\n", d[0], d[N - 1], s[0], s[NS / 2], s[NS - 1]);
	for (int i = 0; i < NS; i++)
		free(s[i]);
	free(s);
	free(d);
	free(v);
	return 0;
}
