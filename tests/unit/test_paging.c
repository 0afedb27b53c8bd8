/* tests/unit/test_paging.c: the page-table walker against hand-built
 * tables, one rule of SDM Vol. 3A chapter 4 per test. */
#include <check.h>
#include <stdlib.h>
#include "machine/bus.h"
#include "machine/paging.h"
#include "sim/sim.h"

#define P  1ull
#define RW 2ull
#define US 4ull
#define A  (1ull << 5)
#define D  (1ull << 6)
#define PS (1ull << 7)
#define G  (1ull << 8)
#define XD (1ull << 63)

static struct sim sim;
static struct bus bus;

static void setup(void)
{
	sim_init(&sim, 1);
	bus_init(&bus, &sim);
	ck_assert_int_eq(bus_add_ram(&bus, "ram", 0, 64 << 20, BUS_RWX), 0);
}

static void teardown(void)
{
	bus_free(&bus);
	sim_free(&sim);
}

static void put(uint64_t pa, uint64_t v) { bus_write(&bus, pa, 8, v); }
static uint64_t get(uint64_t pa) { return bus_read(&bus, pa, 8); }

static struct paging_regs long_mode(void)
{
	return (struct paging_regs){
		.cr0 = CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE,
		.efer = EFER_LMA | EFER_NXE, .maxphyaddr = 46, .gbpages = true,
	};
}

/* PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000, PT at 0x4000; linear
 * 0x400000 + i*4K maps to 0x100000 + i*4K with the given leaf flags. */
static void build_4k(uint64_t upper, uint64_t leaf)
{
	put(0x1000, 0x2000 | upper);
	put(0x2000, 0x3000 | upper);
	put(0x3000 + 8 * 2, 0x4000 | upper);
	for (int i = 0; i < 4; i++)
		put(0x4000 + 8 * i, (0x100000 + 0x1000 * (uint64_t)i) | leaf);
}

static int walk(const struct paging_regs *r, uint64_t la, unsigned acc,
		struct paging_xlat *x, uint32_t *err)
{
	*err = 0xdead;
	return paging_walk(&bus, r, la, acc, x, err);
}

START_TEST(translates_and_sets_accessed_dirty)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	build_4k(P | RW | US, P | RW | US);
	ck_assert_int_eq(walk(&r, 0x401234, PAGING_READ, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x101234);
	ck_assert_uint_eq(x.page_size, 4096);
	ck_assert(get(0x1000) & A);
	ck_assert(get(0x4008) & A);
	ck_assert(!(get(0x4008) & D));
	ck_assert_int_eq(walk(&r, 0x401234, PAGING_WRITE, &x, &err), 0);
	ck_assert(get(0x4008) & D);
	ck_assert(!(get(0x3010) & D));          /* D only in the final entry */
}
END_TEST

START_TEST(not_present_error_codes)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	build_4k(P | RW | US, P | RW | US);
	put(0x4010, 0);                         /* page 2 absent */
	ck_assert_int_eq(walk(&r, 0x402000, PAGING_READ, &x, &err), -1);
	ck_assert_uint_eq(err, 0);
	ck_assert_int_eq(walk(&r, 0x402000, PAGING_WRITE | PAGING_USER, &x, &err), -1);
	ck_assert_uint_eq(err, PF_W | PF_U);
	ck_assert_int_eq(walk(&r, 0x402000, PAGING_EXEC, &x, &err), -1);
	ck_assert_uint_eq(err, PF_I);
	put(0x1000, 0);                         /* whole PML4 entry absent */
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ | PAGING_USER, &x, &err), -1);
	ck_assert_uint_eq(err, PF_U);
}
END_TEST

START_TEST(user_supervisor_and_write_protect)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	build_4k(P | RW | US, P);               /* leaf: supervisor, read-only */
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ | PAGING_USER, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_U);
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_WRITE, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_W);    /* CR0.WP=1 */
	r.cr0 &= ~CR0_WP;
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_WRITE, &x, &err), 0);
	build_4k(P | US, P | RW | US);          /* read-only at an upper level */
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_WRITE | PAGING_USER, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_W | PF_U);
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ | PAGING_USER, &x, &err), 0);
	ck_assert(!x.writable);
}
END_TEST

START_TEST(no_execute)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	build_4k(P | RW | US, P | RW | US | XD);
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ, &x, &err), 0);
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_EXEC, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_I);
	r.efer &= ~EFER_NXE;                    /* XD is then a reserved bit */
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_RSVD);
}
END_TEST

START_TEST(large_pages)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	put(0x1000, 0x2000 | P | RW);
	put(0x2000 + 8 * 1, 0x40000000 | P | RW | PS);          /* 1 GiB at 1 GiB */
	put(0x2000, 0x3000 | P | RW);
	put(0x3000 + 8 * 3, 0x00600000 | P | RW | PS | G);      /* 2 MiB at 6 MiB */
	ck_assert_int_eq(walk(&r, 0x40123456, PAGING_READ, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x40123456);
	ck_assert_uint_eq(x.page_size, 1u << 30);
	ck_assert_int_eq(walk(&r, 0x0067890a, PAGING_READ, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x0067890a);
	ck_assert_uint_eq(x.page_size, 2u << 20);
	ck_assert(!x.global);                   /* CR4.PGE is off */
	r.cr4 |= CR4_PGE;
	ck_assert_int_eq(walk(&r, 0x0067890a, PAGING_READ, &x, &err), 0);
	ck_assert(x.global);
	r.gbpages = false;                      /* PS in a PDPTE is then reserved */
	ck_assert_int_eq(walk(&r, 0x40123456, PAGING_READ, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_RSVD);
	put(0x3000 + 8 * 3, 0x00602000 | P | RW | PS);          /* bit 13: reserved (12 is PAT) */
	ck_assert_int_eq(walk(&r, 0x0067890a, PAGING_READ, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_RSVD);
}
END_TEST

START_TEST(reserved_physical_bits)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	build_4k(P | RW | US, P | RW | US);
	put(0x4000, (1ull << 47) | 0x100000 | P | RW | US);     /* above MAXPHYADDR */
	ck_assert_int_eq(walk(&r, 0x400000, PAGING_WRITE | PAGING_USER, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_W | PF_U | PF_RSVD);
	put(0x1000, 0x2000 | P | RW | US | PS);                 /* PS in a PML4E */
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_RSVD);
}
END_TEST

START_TEST(faults_and_probes_leave_tables_untouched)
{
	struct paging_regs r = long_mode();
	struct paging_xlat x;
	uint32_t err;
	build_4k(P | RW, P | RW);
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_READ | PAGING_USER, &x, &err), -1);
	ck_assert(!(get(0x1000) & A));
	ck_assert(!(get(0x4008) & A));
	ck_assert_int_eq(walk(&r, 0x401000, PAGING_WRITE | PAGING_PROBE, &x, &err), 0);
	ck_assert(!(get(0x4008) & (A | D)));
	ck_assert(x.dirty);                     /* reports what a write would do */
}
END_TEST

START_TEST(legacy_32bit_and_pae)
{
	struct paging_xlat x;
	uint32_t err;
	struct paging_regs r = {.cr0 = CR0_PG, .cr3 = 0x5000, .cr4 = CR4_PSE, .maxphyaddr = 36};
	bus_write(&bus, 0x5000 + 4 * 1, 4, 0x6000 | P | RW);          /* 4 MiB..8 MiB via PT */
	bus_write(&bus, 0x6000 + 4 * 5, 4, 0x00234000 | P | RW);
	bus_write(&bus, 0x5000 + 4 * 3, 4, 0x00800000 | P | PS);      /* 4 MiB page */
	ck_assert_int_eq(walk(&r, 0x00405abc, PAGING_READ, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x00234abc);
	ck_assert_int_eq(walk(&r, 0x00c12345, PAGING_READ, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x00812345);
	ck_assert_int_eq(walk(&r, 0x00c12345, PAGING_WRITE, &x, &err), 0);   /* WP=0 */
	ck_assert(bus_read(&bus, 0x5000 + 4 * 3, 4) & D);

	/* PAE: PDPT at 0x7000 (32-byte aligned), PD at 0x8000 */
	r = (struct paging_regs){.cr0 = CR0_PG, .cr3 = 0x7000, .cr4 = CR4_PAE,
				 .efer = EFER_NXE, .maxphyaddr = 36};
	put(0x7000 + 8 * 2, 0x8000 | P);
	put(0x8000 + 8 * 1, 0x00a00000 | P | RW | PS | XD);
	ck_assert_int_eq(walk(&r, 0x80212345, PAGING_READ, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x00a12345);
	ck_assert_int_eq(walk(&r, 0x80212345, PAGING_EXEC, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_I);
	put(0x7000 + 8 * 2, 0x8000 | P | RW);   /* R/W is reserved in a PAE PDPTE */
	ck_assert_int_eq(walk(&r, 0x80212345, PAGING_READ, &x, &err), -1);
	ck_assert_uint_eq(err, PF_P | PF_RSVD);
}
END_TEST

START_TEST(paging_off_is_identity)
{
	struct paging_regs r = {.cr0 = 0};
	struct paging_xlat x;
	uint32_t err;
	ck_assert_int_eq(walk(&r, 0x123456789, PAGING_WRITE | PAGING_USER, &x, &err), 0);
	ck_assert_uint_eq(x.pa, 0x123456789);
	ck_assert(paging_canonical(0x00007fffffffffffull));
	ck_assert(paging_canonical(0xffff800000000000ull));
	ck_assert(!paging_canonical(0x0000800000000000ull));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("paging");
	TCase *t = tcase_create("walk");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, translates_and_sets_accessed_dirty);
	tcase_add_test(t, not_present_error_codes);
	tcase_add_test(t, user_supervisor_and_write_protect);
	tcase_add_test(t, no_execute);
	tcase_add_test(t, large_pages);
	tcase_add_test(t, reserved_physical_bits);
	tcase_add_test(t, faults_and_probes_leave_tables_untouched);
	tcase_add_test(t, legacy_32bit_and_pae);
	tcase_add_test(t, paging_off_is_identity);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
