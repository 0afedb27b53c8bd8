/* tests/unit/test_config.c: the shipped presets and every kind of bad
 * config input, through files and through --set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/check_main.h"
#include "sim/config.h"

static char *preset(const char *name)
{
	static char path[4096];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof path, "%s/configs/%s", top ? top : ".", name);
	return path;
}

/* Write text to a fresh temporary file and return its name. */
static char *temp_config(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/phantom-cfg-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load text as a config; expect failure with every needle in the message. */
static void expect_error(const char *text, const char *needle1, const char *needle2)
{
	struct config cfg;
	char err[512] = "";
	char *path = temp_config(text);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	ck_assert_msg(strstr(err, path), "message lacks the file name: %s", err);
	ck_assert_msg(strstr(err, needle1), "message lacks '%s': %s", needle1, err);
	if (needle2)
		ck_assert_msg(strstr(err, needle2), "message lacks '%s': %s", needle2, err);
	ck_assert_msg(!strchr(err, '\n'), "message is more than one line: %s", err);
	config_free(&cfg);
	unlink(path);
}

START_TEST(presets_load)
{
	const char *names[] = {"optane.json", "eadr.json", "nvme.json", "dram.json"};
	for (int i = 0; i < 4; i++) {
		struct config cfg;
		char err[512];
		int rc = config_load(&cfg, preset(names[i]), err, sizeof err);
		ck_assert_msg(rc == 0, "%s: %s", names[i], err);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(presets_differ_as_documented)
{
	struct config o, e, n, d;
	char err[512];
	ck_assert_int_eq(config_load(&o, preset("optane.json"), err, sizeof err), 0);
	ck_assert_int_eq(config_load(&e, preset("eadr.json"), err, sizeof err), 0);
	ck_assert_int_eq(config_load(&n, preset("nvme.json"), err, sizeof err), 0);
	ck_assert_int_eq(config_load(&d, preset("dram.json"), err, sizeof err), 0);
	ck_assert(o.pmem.enabled && o.pmem.persistence_domain == PDOMAIN_ADR);
	ck_assert(e.pmem.enabled && e.pmem.persistence_domain == PDOMAIN_EADR);
	ck_assert(!n.pmem.enabled && n.block.enabled);
	ck_assert(!d.pmem.enabled && !d.block.enabled);
	ck_assert_uint_eq(o.pmem.base, 0x100000000ULL);
	ck_assert_uint_eq(o.pmem.interleave_bytes, 4096);
	config_free(&o);
	config_free(&e);
	config_free(&n);
	config_free(&d);
}
END_TEST

START_TEST(defaults_fill_missing_keys)
{
	struct config cfg;
	char err[512];
	char *path = temp_config("{\"memory\": {\"dram_mb\": 64}}");
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), 0);
	ck_assert_uint_eq(cfg.memory.dram_mb, 64);
	ck_assert_uint_eq(cfg.cpu.freq_mhz, 2200);
	ck_assert_str_eq(cfg.serial.output, "stdio");
	ck_assert_int_eq(cfg.power.policy, POLICY_STRICT);
	config_free(&cfg);
	unlink(path);
}
END_TEST

START_TEST(malformed_json)
{
	expect_error("{\n  \"memory\": {\"dram_mb\": 64,}\n}", ":2:", "malformed JSON");
	expect_error("", ":1:1", "malformed JSON");
	expect_error("{} trailing", "malformed JSON", NULL);
	expect_error("[1, 2]", "expected a JSON object", NULL);
}
END_TEST

START_TEST(unknown_keys)
{
	expect_error("{\"pmem\": {\"size_gb\": 1}}", "pmem.size_gb", "unknown key");
	expect_error("{\"nvdimm\": {}}", "nvdimm", "unknown key");
	expect_error("{\"pmem\": 5}", "pmem", "expected an object");
}
END_TEST

START_TEST(wrong_types)
{
	expect_error("{\"pmem\": {\"size_mb\": \"big\"}}", "pmem.size_mb", "expected an integer");
	expect_error("{\"pmem\": {\"enabled\": 1}}", "pmem.enabled", "true or false");
	expect_error("{\"guest\": {\"cmdline\": 3}}", "guest.cmdline", "a string");
	expect_error("{\"cpu\": {\"timing\": \"exact\"}}", "cpu.timing", "\"approximate\"");
	expect_error("{\"pmem\": {\"size_mb\": 1.5}}", "pmem.size_mb", "got 1.5");
	expect_error("{\"pmem\": {\"base\": \"4G\"}}", "pmem.base", "0x");
}
END_TEST

START_TEST(out_of_range)
{
	expect_error("{\"pmem\": {\"size_mb\": -5}}", "pmem.size_mb", "from 1 to");
	expect_error("{\"pmem\": {\"size_mb\": 0}}", "pmem.size_mb", "got 0");
	expect_error("{\"cpu\": {\"freq_mhz\": 100000}}", "cpu.freq_mhz", "to 10000");
	expect_error("{\"block\": {\"sector_size\": 513}}", "block.sector_size", NULL);
}
END_TEST

START_TEST(cross_checks)
{
	expect_error("{\"memory\": {\"dram_mb\": 8192}, \"pmem\": {\"enabled\": true, \"base\": \"0x100000000\"}}",
		     "pmem.base", "above DRAM");
	expect_error("{\"pmem\": {\"enabled\": true, \"base\": \"0x100001000\"}}", "pmem.base", "2 MiB");
	expect_error("{\"block\": {\"enabled\": true, \"sector_size\": 4096, \"atomic_write_bytes\": 512}}",
		     "block.atomic_write_bytes", NULL);
	/* Poisoned lines: inside persistent memory, which must be there. */
	expect_error("{\"pmem\": {\"poison\": \"0x100000000\"}}", "pmem.poison", "pmem.enabled");
	expect_error("{\"pmem\": {\"enabled\": true, \"poison\": \"0x1000\"}}", "pmem.poison",
		     "got \"0x1000\"");
	expect_error("{\"pmem\": {\"enabled\": true, \"poison\": \"0x100000000,x\"}}", "pmem.poison",
		     "got \"x\"");
	expect_error("{\"pmem\": {\"enabled\": true, \"poison\": \"0x100000000,\"}}", "pmem.poison",
		     "after the last comma");
}
END_TEST

START_TEST(pmem_poison_list)
{
	struct config cfg;
	char err[512];
	uint64_t a[CONFIG_POISON_MAX];
	size_t n;
	config_defaults(&cfg);
	ck_assert_int_eq(config_pmem_poison(&cfg, a, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(config_set(&cfg, "pmem.enabled=true", err, sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "pmem.poison=0x100000040,4294971392", err, sizeof err), 0);
	ck_assert_int_eq(config_pmem_poison(&cfg, a, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(a[0], 0x100000040ULL);
	ck_assert_uint_eq(a[1], 0x100001000ULL);
	/* The end of the region is outside it. */
	ck_assert_int_eq(config_set(&cfg, "pmem.poison=0x110000000", err, sizeof err), -1);
	config_free(&cfg);
}
END_TEST

START_TEST(set_overrides)
{
	struct config cfg;
	char err[512];
	ck_assert_int_eq(config_load(&cfg, preset("optane.json"), err, sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "pmem.size_mb=512", err, sizeof err), 0);
	ck_assert_uint_eq(cfg.pmem.size_mb, 512);
	ck_assert_int_eq(config_set(&cfg, "pmem.base=0x200000000", err, sizeof err), 0);
	ck_assert_uint_eq(cfg.pmem.base, 0x200000000ULL);
	ck_assert_int_eq(config_set(&cfg, "pmem.persistence_domain=eadr", err, sizeof err), 0);
	ck_assert_int_eq(cfg.pmem.persistence_domain, PDOMAIN_EADR);
	ck_assert_int_eq(config_set(&cfg, "guest.cmdline=workload=kv x=1", err, sizeof err), 0);
	ck_assert_str_eq(cfg.guest.cmdline, "workload=kv x=1");
	ck_assert_int_eq(config_set(&cfg, "block.enabled=true", err, sizeof err), 0);
	ck_assert(cfg.block.enabled);

	ck_assert_int_eq(config_set(&cfg, "pmem.size_mb=abc", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "--set: pmem.size_mb: expected an integer"));
	ck_assert_int_eq(config_set(&cfg, "pmem.size_mb=-1", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "pmem.size_mb=0", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "pmem.enabled=yes", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "true or false"));
	ck_assert_int_eq(config_set(&cfg, "cpu.timing=slow", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "pmem.sizemb=1", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "pmem.sizemb: unknown key"));
	ck_assert_int_eq(config_set(&cfg, "novalue", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected KEY.PATH=VALUE"));
	/* A failed --set leaves the value as it was. */
	ck_assert_uint_eq(cfg.pmem.size_mb, 512);
	config_free(&cfg);
}
END_TEST

START_TEST(print_config_round_trips)
{
	struct config a, b;
	char err[512];
	ck_assert_int_eq(config_load(&a, preset("optane.json"), err, sizeof err), 0);
	ck_assert_int_eq(config_set(&a, "run.seed=99", err, sizeof err), 0);
	char *json = config_to_json(&a);
	char *path = temp_config(json);
	ck_assert_msg(config_load(&b, path, err, sizeof err) == 0, "%s", err);
	char *again = config_to_json(&b);
	ck_assert_str_eq(json, again);
	ck_assert_uint_eq(b.run.seed, 99);
	free(json);
	free(again);
	config_free(&a);
	config_free(&b);
	unlink(path);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("config");
	tcase_add_test(t, presets_load);
	tcase_add_test(t, presets_differ_as_documented);
	tcase_add_test(t, defaults_fill_missing_keys);
	tcase_add_test(t, malformed_json);
	tcase_add_test(t, unknown_keys);
	tcase_add_test(t, wrong_types);
	tcase_add_test(t, out_of_range);
	tcase_add_test(t, cross_checks);
	tcase_add_test(t, pmem_poison_list);
	tcase_add_test(t, set_overrides);
	tcase_add_test(t, print_config_round_trips);
	suite_add_tcase(s, t);
	return s;
}
