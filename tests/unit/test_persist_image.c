/* tests/unit/test_persist_image.c: image files and the nvdimm region.
 *
 * Each test works in its own temporary directory and removes it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "tests/unit/test_persist.h"
#include "devices/image.h"
#include "devices/nvdimm.h"
#include "machine/bus.h"
#include "machine/guest_abi.h"
#include "sim/config.h"
#include "sim/sim.h"

#define MiB (1ULL << 20)

static char dir[256];

static void mkdir_tmp(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/phantom-persist-XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static char *path_in(const char *name)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *b = malloc(*len ? *len : 1);
	ck_assert_uint_eq(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

START_TEST(missing_image_is_created_sparse)
{
	mkdir_tmp();
	struct image img;
	char err[256];
	const char *p = path_in("new.img");
	ck_assert_int_eq(image_open(&img, p, 64 * MiB, "pmem.size_mb = 64", err, sizeof err), 0);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_size, 64 * MiB);
	ck_assert_int_le(st.st_blocks, 64);             /* at most 32 KiB allocated */
	ck_assert_int_eq(count_entries(), 1);           /* no temporary left */
	uint8_t *m = image_map(&img, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m[0], 0);
	ck_assert_uint_eq(m[64 * MiB - 1], 0);
	munmap(m, 64 * MiB);
	image_close(&img);
	rm_tmp();
}
END_TEST

START_TEST(wrong_size_is_refused_untouched)
{
	mkdir_tmp();
	const char *p = path_in("small.img");
	FILE *f = fopen(p, "wb");
	for (int i = 0; i < 5000; i++)
		fputc((i * 37) & 0xff, f);
	fclose(f);
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
	size_t n0;
	uint8_t *before = read_file(p, &n0);

	struct image img;
	char err[512] = "";
	ck_assert_int_eq(image_open(&img, p, 2 * MiB, "pmem.size_mb = 2", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, p));                  /* names the file */
	ck_assert_ptr_nonnull(strstr(err, "2097152"));          /* and the expected size */
	ck_assert_ptr_nonnull(strstr(err, "pmem.size_mb = 2"));
	ck_assert_ptr_null(strchr(err, '\n'));                  /* one line */

	/* Through the device too. */
	struct sim sim;
	sim_init(&sim, 1);
	struct nvdimm nv;
	struct crash_policy pol = {POLICY_STRICT, false};
	ck_assert_int_eq(nvdimm_open(&nv, &sim, NULL, p, 1ULL << 32, 2 * MiB, PDOMAIN_ADR,
				     &pol, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, p));
	sim_free(&sim);

	size_t n1;
	uint8_t *after = read_file(p, &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert_mem_eq(before, after, n0);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1000000000);
	ck_assert_int_eq(count_entries(), 1);
	free(before);
	free(after);
	rm_tmp();
}
END_TEST

START_TEST(unreadable_image_is_one_clear_line)
{
	mkdir_tmp();
	struct image img;
	char err[512] = "";
	/* A directory where the image should be: not a regular file. */
	const char *p = path_in("adir");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(image_open(&img, p, 2 * MiB, "pmem.size_mb = 2", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, p));
	ck_assert_ptr_nonnull(strstr(err, "2097152"));
	ck_assert_ptr_nonnull(strstr(err, "regular"));
	rmdir(p);
	/* A missing directory: cannot be created. */
	p = path_in("no/such/dir.img");
	ck_assert_int_eq(image_open(&img, p, 2 * MiB, "pmem.size_mb = 2", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, p));
	rm_tmp();
}
END_TEST

/* Private dirty kB of the mapping that starts at addr (/proc/self/smaps),
 * or -1 if not found. */
static long private_dirty_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	bool in = false;
	long kb = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {        /* a mapping's header */
			in = lo == (unsigned long)(uintptr_t)addr;
			continue;
		}
		if (in && sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* Drive the region as the CPU would: write mem, report. */
static void pm_store(struct nvdimm *nv, uint64_t off, uint64_t value)
{
	memcpy(nv->mem + off, &value, 8);
	persist_store_hook(&nv->pm, nv->base + off, 8);
}

START_TEST(crash_state_reaches_the_image)
{
	mkdir_tmp();
	const char *p = path_in("pm.img");
	const uint64_t base = 1ULL << 32, size = 4 * MiB;
	struct sim sim;
	sim_init(&sim, 5);
	char err[512];
	for (unsigned policy = POLICY_STRICT; policy <= POLICY_LENIENT; policy++) {
		struct nvdimm nv;
		struct crash_policy pol = {policy, false};
		ck_assert_int_eq(nvdimm_open(&nv, &sim, NULL, p, base, size, PDOMAIN_ADR, &pol,
					     err, sizeof err), 0);
		/* Keep: line 0 (clwb + sfence), a far line (clflush).  Maybe:
		 * line 1 (no flush), page 3 (clwb, no fence). */
		pm_store(&nv, 0, 0x1111111111111111ULL + policy);
		persist_flush(&nv.pm, base, PERSIST_CLWB);
		persist_fence(&nv.pm, PERSIST_SFENCE);
		pm_store(&nv, 64, 0x2222222222222222ULL + policy);
		pm_store(&nv, size - 64, 0x3333333333333333ULL + policy);
		persist_flush(&nv.pm, base + size - 64, PERSIST_CLFLUSH);
		pm_store(&nv, 3 * 4096 + 8, 0x4444444444444444ULL + policy);
		persist_flush(&nv.pm, base + 3 * 4096, PERSIST_CLWB);

		uint8_t *want = malloc(size);
		/* The image as it was (zero at first, then the last round's). */
		size_t n;
		uint8_t *old = read_file(p, &n);
		ck_assert_uint_eq(n, size);
		memcpy(want, old, size);
		free(old);
		uint64_t v = 0x1111111111111111ULL + policy;
		memcpy(want, &v, 8);
		v = 0x3333333333333333ULL + policy;
		memcpy(want + size - 64, &v, 8);
		if (policy == POLICY_LENIENT) {
			v = 0x2222222222222222ULL + policy;
			memcpy(want + 64, &v, 8);
			v = 0x4444444444444444ULL + policy;
			memcpy(want + 3 * 4096 + 8, &v, 8);
		}
		ck_assert_int_gt(private_dirty_kb(nv.mem), 0);
		ck_assert_int_eq(nvdimm_power_fail(&nv, err, sizeof err), 0);
		/* The written pages' host memory is given back. */
		ck_assert_int_eq(private_dirty_kb(nv.mem), 0);
		ck_assert_int_eq(private_dirty_kb(nv.media), 0);
		/* The region now holds the state (a reboot in the same run)... */
		ck_assert_mem_eq(nv.mem, want, size);
		ck_assert_uint_eq(persist_pending(&nv.pm), 0);
		/* ...and it can run and fail again. */
		pm_store(&nv, 128, 0x5555555555555555ULL);
		persist_flush(&nv.pm, base + 128, PERSIST_CLFLUSH);
		v = 0x5555555555555555ULL;
		memcpy(want + 128, &v, 8);
		ck_assert_int_eq(nvdimm_power_fail(&nv, err, sizeof err), 0);
		nvdimm_free(&nv);

		/* Reopening the file gives exactly the state. */
		uint8_t *got = read_file(p, &n);
		ck_assert_uint_eq(n, size);
		ck_assert_mem_eq(got, want, size);
		free(got);
		free(want);
		ck_assert_int_eq(count_entries(), 1);   /* no temporary left */
		struct stat st;
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_le(st.st_blocks, 256);    /* still sparse */
	}
	ck_assert_uint_eq(stats_get(&sim.stats, "pmem.power_failures"), 4);
	sim_free(&sim);
	rm_tmp();
}
END_TEST

START_TEST(region_on_the_bus_sees_stores)
{
	mkdir_tmp();
	struct sim sim;
	sim_init(&sim, 1);
	struct config cfg;
	config_defaults(&cfg);
	cfg.pmem.enabled = true;
	cfg.pmem.size_mb = 2;
	free(cfg.pmem.image);
	cfg.pmem.image = strdup(path_in("bus.img"));
	cfg.power.policy = POLICY_STRICT;
	struct bus bus;
	bus_init(&bus, &sim);
	struct nvdimm nv;
	char err[512];
	ck_assert_int_eq(nvdimm_init(&nv, &sim, &bus, &cfg, err, sizeof err), 0);
	uint64_t base = cfg.pmem.base;
	bus_write(&bus, base + 8, 8, 0x0123456789abcdefULL);
	bus_write(&bus, base + 4096, 4, 0xfeedbeef);
	ck_assert_uint_eq(bus_read(&bus, base + 8, 8), 0x0123456789abcdefULL);
	ck_assert_uint_eq(persist_pending(&nv.pm), 2);
	const struct cpu_mem_hooks *h = nvdimm_cpu_hooks(&nv);
	h->flush(h->ctx, base + 8, CPU_FLUSH_CLWB);
	h->fence(h->ctx, CPU_FENCE_SFENCE);
	ck_assert_uint_eq(persist_pending(&nv.pm), 1);
	/* A device's DMA into the region: one store per call, every line. */
	uint8_t page[4096];
	memset(page, 0x3c, sizeof page);
	ck_assert_int_eq(bus_dma_write(&bus, base + 8192, page, sizeof page), 0);
	ck_assert_uint_eq(persist_pending(&nv.pm), 1 + 64);
	h->flush(h->ctx, base + 8192 + 64, CPU_FLUSH_CLFLUSH);
	ck_assert_uint_eq(persist_pending(&nv.pm), 64);
	/* wbinvd writes every cached line back: one store after it stays
	 * pending, everything before it survives. */
	bus_write(&bus, base + 12288, 8, 0x77);
	h->writeback_all(h->ctx);
	ck_assert_uint_eq(persist_pending(&nv.pm), 0);
	bus_write(&bus, base + 12296, 8, 0x88);
	ck_assert_int_eq(nvdimm_power_fail(&nv, err, sizeof err), 0);
	ck_assert_uint_eq(bus_read(&bus, base + 12288, 8), 0x77);
	ck_assert_uint_eq(bus_read(&bus, base + 12296, 8), 0);     /* after it: lost */
	ck_assert_uint_eq(bus_read(&bus, base + 8, 8), 0x0123456789abcdefULL);
	ck_assert_uint_eq(bus_read(&bus, base + 4096, 4), 0xfeedbeef);  /* wbinvd kept it */
	ck_assert_uint_eq(bus_read(&bus, base + 8192 + 64, 8), 0x3c3c3c3c3c3c3c3cULL);
	ck_assert_uint_eq(bus_read(&bus, base + 8192 + 128, 8), 0x3c3c3c3c3c3c3c3cULL);
	nvdimm_free(&nv);
	bus_free(&bus);
	config_free(&cfg);
	sim_free(&sim);
	rm_tmp();
}
END_TEST

struct fake_trace {
	int outs;
	uint32_t last;
};

static void fake_trace_out(void *ctx, uint16_t port, unsigned size, uint32_t v)
{
	struct fake_trace *t = ctx;
	(void)port, (void)size;
	t->outs++;
	t->last = v;
}

static uint32_t fake_trace_in(void *ctx, uint16_t port, unsigned size)
{
	(void)ctx, (void)port, (void)size;
	return ABI_TRACE_MAGIC;
}

static void fake_uart_out(void *ctx, uint16_t port, unsigned size, uint32_t v)
{
	(void)ctx, (void)port, (void)size, (void)v;
}

START_TEST(trace_port_accesses_do_not_order)
{
	mkdir_tmp();
	struct sim sim;
	sim_init(&sim, 1);
	struct bus bus;
	bus_init(&bus, &sim);
	struct fake_trace ft = {0};
	ck_assert_int_eq(bus_add_pio(&bus, ABI_PORT_TRACE_ARG, 8, fake_trace_in, fake_trace_out, &ft), 0);
	ck_assert_int_eq(bus_add_pio(&bus, 0x3F8, 8, NULL, fake_uart_out, NULL), 0);
	struct nvdimm nv;
	struct crash_policy pol = {POLICY_STRICT, false};
	char err[512];
	const uint64_t base = 1ULL << 32;
	ck_assert_int_eq(nvdimm_open(&nv, &sim, &bus, path_in("tp.img"), base, 2 * MiB,
				     PDOMAIN_ADR, &pol, err, sizeof err), 0);
	ck_assert_int_eq(nvdimm_exempt_trace_port(&nv, &bus), 0);
	const struct cpu_mem_hooks *h = nvdimm_cpu_hooks(&nv);
	bus_write(&bus, base, 8, 42);
	h->flush(h->ctx, base, CPU_FLUSH_CLWB);
	/* What the CPU does for OUT and IN: the fence, then the access. */
	h->fence(h->ctx, CPU_FENCE_IO);
	bus_pio_out(&bus, ABI_PORT_TRACE_ARG, 4, 7);
	h->fence(h->ctx, CPU_FENCE_IO);
	bus_pio_out(&bus, ABI_PORT_TRACE_EMIT, 4, ABI_EV_WORKLOAD_OP);
	h->fence(h->ctx, CPU_FENCE_IO);
	ck_assert_uint_eq(bus_pio_in(&bus, ABI_PORT_TRACE_ARG, 4), ABI_TRACE_MAGIC);
	ck_assert_int_eq(ft.outs, 2);                   /* the device still sees them */
	ck_assert_uint_eq(ft.last, ABI_EV_WORKLOAD_OP);
	ck_assert_uint_eq(persist_pending(&nv.pm), 1);  /* not ordered */
	h->fence(h->ctx, CPU_FENCE_IO);
	bus_pio_out(&bus, 0x3F8, 1, 'x');
	ck_assert_uint_eq(persist_pending(&nv.pm), 0);  /* ordered */
	nvdimm_free(&nv);
	bus_free(&bus);
	sim_free(&sim);
	rm_tmp();
}
END_TEST

START_TEST(six_256_gb_dimms_fit)
{
	/* 6 x 256 GB of persistent memory on a small host: the image is
	 * sparse and the mappings are lazy. */
	mkdir_tmp();
	const char *p = path_in("big.img");
	const uint64_t size = 6 * 256ULL * 1024 * MiB, base = 1ULL << 40;
	struct sim sim;
	sim_init(&sim, 1);
	struct nvdimm nv;
	struct crash_policy pol = {POLICY_LENIENT, false};
	char err[512];
	ck_assert_msg(nvdimm_open(&nv, &sim, NULL, p, base, size, PDOMAIN_ADR, &pol,
				  err, sizeof err) == 0, "%s", err);
	const uint64_t offs[] = {0, 255ULL << 30, size / 2 + 64, size - 8};
	for (int i = 0; i < 4; i++)
		pm_store(&nv, offs[i], 0xabcdef0000000000ULL + (uint64_t)i);
	ck_assert_int_eq(nvdimm_power_fail(&nv, err, sizeof err), 0);
	nvdimm_free(&nv);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_size, size);
	ck_assert_int_le(st.st_blocks, 4 * 8 * 4);      /* four pages, give or take */
	int fd = open(p, O_RDONLY);
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		ck_assert_int_eq(pread(fd, &v, 8, (off_t)offs[i]), 8);
		ck_assert_uint_eq(v, 0xabcdef0000000000ULL + (uint64_t)i);
	}
	close(fd);
	sim_free(&sim);
	rm_tmp();
}
END_TEST

START_TEST(commit_failure_keeps_the_old_image)
{
	mkdir_tmp();
	char p[512];
	snprintf(p, sizeof p, "%s", path_in("keep.img"));
	struct image img;
	char err[512];
	ck_assert_int_eq(image_open(&img, p, 1 * MiB, "size", err, sizeof err), 0);
	uint8_t *m = image_map(&img, NULL);
	memset(m + 4096, 0x5a, 4096);
	uint64_t page = 1;
	ck_assert_int_eq(image_commit(&img, m, &page, 1, err, sizeof err), 0);
	/* Make the next commits fail: once before the temporary file exists
	 * (its directory is gone), once after (the old image cannot be read). */
	char *saved = img.path;
	img.path = strdup(path_in("gone/keep.img"));
	memset(m + 4096, 0x77, 4096);
	ck_assert_int_eq(image_commit(&img, m, &page, 1, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unchanged"));
	free(img.path);
	img.path = saved;
	int fd = img.fd;
	img.fd = -1;
	ck_assert_int_eq(image_commit(&img, m, &page, 1, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unchanged"));
	img.fd = fd;
	size_t n;
	uint8_t *got = read_file(p, &n);
	ck_assert_uint_eq(n, 1 * MiB);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(got[4096 + i], 0x5a);
	free(got);
	munmap(m, 1 * MiB);
	image_close(&img);
	ck_assert_int_eq(count_entries(), 1);
	rm_tmp();
}
END_TEST

Suite *persist_image_suite(void)
{
	Suite *s = suite_create("persist-image");
	TCase *t = tcase_create("image");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, missing_image_is_created_sparse);
	tcase_add_test(t, wrong_size_is_refused_untouched);
	tcase_add_test(t, unreadable_image_is_one_clear_line);
	tcase_add_test(t, crash_state_reaches_the_image);
	tcase_add_test(t, region_on_the_bus_sees_stores);
	tcase_add_test(t, trace_port_accesses_do_not_order);
	tcase_add_test(t, six_256_gb_dimms_fit);
	tcase_add_test(t, commit_failure_keeps_the_old_image);
	suite_add_tcase(s, t);
	return s;
}
