/* tests/unit/test_campaign.c: the campaign's oracle, crash-point choice,
 * sharding and reports, on synthetic inputs. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sim/crash_points.h"
#include "sim/oracle.h"
#include "sim/report.h"

static const struct commit_record log3[] = {{1, 0x11}, {2, 0x22}, {3, 0x33}};

static enum verdict judge(struct oracle_input in)
{
	struct oracle_verdict v;
	oracle_judge(&in, &v);
	ck_assert(strlen(v.why) > 0);
	return v.verdict;
}

static struct oracle_input good(void)
{
	return (struct oracle_input){
		.commits = log3, .ncommits = 3, .have_durable = true, .durable_gen = 2,
		.recovered = true, .recovered_gen = 2, .recovered_digest = 0x22, .progressed = true,
	};
}

START_TEST(oracle_categories)
{
	struct oracle_input in = good();
	ck_assert_int_eq(judge(in), VERDICT_PASS);
	in.recovered_gen = 3;                   /* newer than durable: fine */
	in.recovered_digest = 0x33;
	ck_assert_int_eq(judge(in), VERDICT_PASS);

	in = good();
	in.selfcheck = 1;
	ck_assert_int_eq(judge(in), VERDICT_SELFCHECK);
	in = good();
	in.invariant = 5;
	ck_assert_int_eq(judge(in), VERDICT_SELFCHECK);
	in = good();
	in.recovered_gen = 1;                   /* lost a durable commit */
	in.recovered_digest = 0x11;
	ck_assert_int_eq(judge(in), VERDICT_DURABILITY);
	in = good();
	in.recovered_digest = 0x99;             /* torn state */
	ck_assert_int_eq(judge(in), VERDICT_ATOMICITY);
	in = good();
	in.recovered_gen = 7;                   /* never committed */
	ck_assert_int_eq(judge(in), VERDICT_ATOMICITY);
	in = good();
	in.recovered = false;
	ck_assert_int_eq(judge(in), VERDICT_LIVENESS);
	in = good();
	in.progressed = false;
	ck_assert_int_eq(judge(in), VERDICT_LIVENESS);

	in = good();                            /* empty boot after a durable commit */
	in.first_boot = true;
	ck_assert_int_eq(judge(in), VERDICT_DURABILITY);
	in.have_durable = false;                /* ... before any: fine */
	ck_assert_int_eq(judge(in), VERDICT_PASS);
}
END_TEST

START_TEST(uniform_points)
{
	struct point_plan p = {.mode = POINTS_UNIFORM, .events = 100000, .crashes = 500, .seed = 9};
	uint64_t *a, *b;
	size_t na = crash_points_choose(&p, &a), nb = crash_points_choose(&p, &b);
	ck_assert_uint_eq(na, 500);
	ck_assert_uint_eq(nb, na);
	ck_assert_int_eq(memcmp(a, b, na * sizeof *a), 0);     /* same seed, same points */
	for (size_t i = 0; i < na; i++) {
		ck_assert(a[i] >= 1 && a[i] <= 100000);
		if (i)
			ck_assert_uint_gt(a[i], a[i - 1]);      /* sorted, distinct */
	}
	ck_assert_uint_lt(a[0], 2000);                          /* spread over the range */
	ck_assert_uint_gt(a[na - 1], 98000);
	free(b);
	p.seed = 10;
	crash_points_choose(&p, &b);
	ck_assert_int_ne(memcmp(a, b, na * sizeof *a), 0);
	free(a);
	free(b);
	p.crashes = 1000;                       /* more than events: all of them */
	p.events = 50;
	ck_assert_uint_eq(crash_points_choose(&p, &a), 50);
	ck_assert_uint_eq(a[49], 50);
	free(a);
}
END_TEST

START_TEST(around_commits_and_exhaustive)
{
	const uint64_t commits[] = {1000, 5000};
	struct point_plan p = {.mode = POINTS_AROUND_COMMITS, .events = 10000, .crashes = 30,
			       .seed = 1, .commit_events = commits, .ncommits = 2, .around = 10};
	uint64_t *v;
	size_t n = crash_points_choose(&p, &v);
	ck_assert_uint_eq(n, 30);
	for (size_t i = 0; i < n; i++)
		ck_assert((v[i] >= 990 && v[i] <= 1010) || (v[i] >= 4990 && v[i] <= 5010));
	free(v);
	p.crashes = 60;                         /* 42 near commits, 18 topped up */
	n = crash_points_choose(&p, &v);
	ck_assert_uint_eq(n, 60);
	size_t near = 0;
	for (size_t i = 0; i < n; i++)
		near += (v[i] >= 990 && v[i] <= 1010) || (v[i] >= 4990 && v[i] <= 5010);
	ck_assert_uint_eq(near, 42);
	free(v);

	p = (struct point_plan){.mode = POINTS_EXHAUSTIVE, .events = 100, .window_lo = 40, .window_hi = 60};
	n = crash_points_choose(&p, &v);
	ck_assert_uint_eq(n, 21);
	ck_assert_uint_eq(v[0], 40);
	ck_assert_uint_eq(v[20], 60);
	free(v);
}
END_TEST

START_TEST(shards_partition)
{
	unsigned k, m;
	ck_assert_int_eq(shard_parse("3/4", &k, &m), 0);
	ck_assert(k == 3 && m == 4);
	ck_assert_int_eq(shard_parse("0/4", &k, &m), -1);
	ck_assert_int_eq(shard_parse("5/4", &k, &m), -1);
	ck_assert_int_eq(shard_parse("1/", &k, &m), -1);
	ck_assert_int_eq(shard_parse("x", &k, &m), -1);
	for (size_t i = 0; i < 100; i++) {
		int owners = 0;
		for (unsigned s = 1; s <= 7; s++)
			owners += shard_has(i, s, 7);
		ck_assert_int_eq(owners, 1);
	}
}
END_TEST

static void fill(struct report *r, unsigned k, unsigned m)
{
	report_init(r);
	r->h.config = strdup("configs/optane.json");
	r->h.policy = strdup("strict");
	r->h.points = strdup("uniform");
	r->h.config_hash = 0xfeedfacecafebeefull;
	r->h.seed = 5;
	r->h.crashes = 10;
	r->h.shard_k = k;
	r->h.shard_m = m;
	for (uint64_t i = 0; i < 10; i++) {
		if (!shard_has(i, k, m))
			continue;
		char repro[96];
		snprintf(repro, sizeof repro, "phantom-sim campaign --config x --only %llu",
			 (unsigned long long)i);
		struct point_result p = {
			.ordinal = i, .event = 100 + 7 * i, .time_ps = 1000 * i,
			.verdict = i == 4 ? VERDICT_ATOMICITY : VERDICT_PASS,
			.why = i == 4 ? "digest <mismatch> & \"more\"" : "ok",
			.durable_gen = i / 2, .recovered_gen = i / 2, .recovery_ps = 5, .repro = repro,
		};
		report_add(r, &p);
	}
}

static char *to_text(const struct report *r, int (*fn)(const struct report *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(fn(r, f), 0);
	fclose(f);
	return buf;
}

START_TEST(merged_shards_equal_unsharded)
{
	struct report whole, s1, s2, s3, merged;
	fill(&whole, 1, 1);
	fill(&s1, 1, 3);
	fill(&s2, 2, 3);
	fill(&s3, 3, 3);
	struct report *in[] = {&s3, &s1, &s2};  /* any order */
	char err[256];
	ck_assert_int_eq(report_merge(&merged, in, 3, err, sizeof err), 0);
	char *a = to_text(&whole, report_write_json), *b = to_text(&merged, report_write_json);
	ck_assert_str_eq(a, b);
	free(b);

	/* JSON survives a round trip through a file */
	char path[] = "/tmp/phantom-rep-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, a, strlen(a)), (ssize_t)strlen(a));
	close(fd);
	struct report back;
	ck_assert_msg(report_read_json(&back, path, err, sizeof err) == 0, "%s", err);
	b = to_text(&back, report_write_json);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(report_failures(&back), 1);
	unlink(path);
	free(a);
	free(b);

	/* overlapping shards and shards of other campaigns are refused */
	struct report *twice[] = {&s1, &s1};
	report_free(&merged);
	ck_assert_int_eq(report_merge(&merged, twice, 2, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "appears in two"));
	report_free(&merged);
	s2.h.seed = 6;
	struct report *mixed[] = {&s1, &s2};
	ck_assert_int_eq(report_merge(&merged, mixed, 2, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a shard of the same campaign"));
	report_free(&merged);
	report_free(&back);
	report_free(&whole);
	report_free(&s1);
	report_free(&s2);
	report_free(&s3);
}
END_TEST

START_TEST(junit_shape)
{
	struct report r;
	fill(&r, 1, 1);
	char *x = to_text(&r, report_write_junit);
	size_t cases = 0;
	for (char *p = x; (p = strstr(p, "<testcase ")); p++)
		cases++;
	ck_assert_uint_eq(cases, 10);
	ck_assert_ptr_nonnull(strstr(x, "tests=\"10\" failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(x, "<failure type=\"atomicity\" message=\"digest &lt;mismatch&gt; &amp; &quot;more&quot;\""));
	ck_assert_ptr_null(strstr(x, "<mismatch>"));
	free(x);
	report_free(&r);
}
END_TEST

START_TEST(bad_report_files)
{
	char path[] = "/tmp/phantom-rep-XXXXXX", err[256];
	struct report r;
	int fd = mkstemp(path);
	const char *text = "{\"campaign\": {\"config\": \"c\", \"policy\": \"strict\", \"points\": \"uniform\","
			   " \"config_hash\": \"0000000000000001\", \"shard\": \"1/1\", \"seed\": 1,"
			   " \"crashes\": 1}, \"results\": [{\"verdict\": \"maybe\"}]}";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(report_read_json(&r, path, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "results[0].verdict"));
	report_free(&r);
	unlink(path);
	ck_assert_int_eq(report_read_json(&r, "/nonexistent.json", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent.json: cannot open"));
	report_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("campaign");
	TCase *t = tcase_create("campaign");
	tcase_add_test(t, oracle_categories);
	tcase_add_test(t, uniform_points);
	tcase_add_test(t, around_commits_and_exhaustive);
	tcase_add_test(t, shards_partition);
	tcase_add_test(t, merged_shards_equal_unsharded);
	tcase_add_test(t, junit_shape);
	tcase_add_test(t, bad_report_files);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
