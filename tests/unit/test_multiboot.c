/* tests/unit/test_multiboot.c: the Multiboot loader and the memory layout,
 * on kernels built byte by byte here: ELF32, the a.out kludge and ELF64,
 * and one broken image per check the loader makes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "machine/bus.h"
#include "machine/layout.h"
#include "machine/multiboot.h"
#include "sim/config.h"
#include "sim/sim.h"

static struct sim sim;
static struct bus bus;
static struct layout lay;
static uint8_t img[16384];
static char err[256];

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }
static uint32_t rd32(uint64_t pa) { return (uint32_t)bus_read(&bus, pa, 4); }
static uint64_t rd64(uint64_t pa) { return bus_read(&bus, pa, 8); }

static void setup(void)
{
	struct config cfg;
	config_defaults(&cfg);
	cfg.memory.dram_mb = 64;
	cfg.pmem.enabled = true;
	cfg.pmem.base = 0x100000000ull;
	cfg.pmem.size_mb = 16;
	layout_from_config(&lay, &cfg);
	config_free(&cfg);
	sim_init(&sim, 1);
	bus_init(&bus, &sim);
	ck_assert_int_eq(bus_add_ram(&bus, "dram", 0, lay.dram_low, BUS_RWX), 0);
	memset(img, 0, sizeof img);
}

static void teardown(void)
{
	bus_free(&bus);
	sim_free(&sim);
}

static void mb_header(uint8_t *h, uint32_t flags)
{
	put32(h, 0x1BADB002);
	put32(h + 4, flags);
	put32(h + 8, (uint32_t)-(0x1BADB002u + flags));
}

/* ELF32: one PT_LOAD of 0x200 file bytes + 0x100 bss, loaded at paddr
 * 0x100000, linked at vaddr 0xC0100000, header at file offset 0x100. */
static size_t make_elf32(uint32_t entry_vaddr)
{
	memcpy(img, "\177ELF\1\1\1", 7);
	put16(img + 16, 2);
	put16(img + 18, 3);
	put32(img + 20, 1);
	put32(img + 24, entry_vaddr);
	put32(img + 28, 52);
	put16(img + 40, 52);
	put16(img + 42, 32);
	put16(img + 44, 1);
	uint8_t *ph = img + 52;
	put32(ph, 1);
	put32(ph + 4, 0x100);
	put32(ph + 8, 0xC0100000);
	put32(ph + 12, 0x100000);
	put32(ph + 16, 0x200);
	put32(ph + 20, 0x300);
	mb_header(img + 0x100, 0x3);
	memset(img + 0x110, 0xAB, 0x1F0);
	return 0x300;
}

START_TEST(layout_matches_config)
{
	ck_assert_int_eq(lay.n, 4);
	ck_assert_uint_eq(lay.ranges[0].base, 0);
	ck_assert_uint_eq(lay.ranges[0].size, 0x9FC00);
	ck_assert_uint_eq(lay.ranges[1].type, MEM_RESERVED);
	ck_assert_uint_eq(lay.ranges[2].base, 0x100000);
	ck_assert_uint_eq(lay.ranges[2].size, (64u << 20) - 0x100000);
	ck_assert_uint_eq(lay.ranges[3].base, 0x100000000ull);
	ck_assert_uint_eq(lay.ranges[3].type, MEM_PMEM);

	struct config cfg;
	config_defaults(&cfg);
	cfg.memory.dram_mb = 5 * 1024;          /* 3 GiB low, 2 GiB from 4 GiB */
	layout_from_config(&lay, &cfg);
	ck_assert_uint_eq(lay.dram_low, 3ull << 30);
	ck_assert_uint_eq(lay.dram_high, 2ull << 30);
	ck_assert_uint_eq(lay.ranges[lay.n - 1].base, 4ull << 30);
	config_free(&cfg);
}
END_TEST

START_TEST(elf32_loads_and_describes_the_machine)
{
	struct boot_entry be;
	size_t n = make_elf32(0xC0100110);
	ck_assert_msg(multiboot_load_image(&bus, &lay, "k.elf", img, n, "workload=bank x=1",
					   &be, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(be.mode, BOOT_PROTECTED32);
	ck_assert_uint_eq(be.entry, 0x100110);          /* relocated to paddr */
	ck_assert_uint_eq(be.eax, 0x2BADB002);
	ck_assert_uint_eq(be.cs, MB_SEL_CODE32);
	ck_assert_uint_eq(rd32(0x100000), 0x1BADB002);
	ck_assert_uint_eq(rd32(0x1001F0), 0xABABABAB);
	ck_assert_uint_eq(rd64(0x100200), 0);           /* bss */
	ck_assert_uint_eq(rd64(0x1002F8), 0);

	uint64_t info = be.ebx;
	uint32_t flags = rd32(info);
	ck_assert(flags & (1u << 0) && flags & (1u << 2) && flags & (1u << 6) && flags & (1u << 9));
	ck_assert_uint_eq(rd32(info + 4), 639);
	ck_assert_uint_eq(rd32(info + 8), (64u << 10) - 1024);
	char s[64];
	ck_assert_int_eq(bus_dma_read(&bus, rd32(info + 16), s, 18), 0);
	ck_assert_str_eq(s, "workload=bank x=1");
	ck_assert_int_eq(bus_dma_read(&bus, rd32(info + 64), s, 12), 0);
	ck_assert_str_eq(s, "phantom-sim");
	/* memory map: 4 entries of 24 bytes; the last is persistent (type 7) */
	ck_assert_uint_eq(rd32(info + 44), 96);
	uint64_t mm = rd32(info + 48);
	ck_assert_uint_eq(rd32(mm), 20);
	ck_assert_uint_eq(rd64(mm + 4), 0);
	ck_assert_uint_eq(rd32(mm + 20), 1);
	ck_assert_uint_eq(rd64(mm + 72 + 4), 0x100000000ull);
	ck_assert_uint_eq(rd64(mm + 72 + 12), 16u << 20);
	ck_assert_uint_eq(rd32(mm + 72 + 20), 7);
	/* the GDT's code32 descriptor */
	ck_assert_uint_eq(rd64(be.gdt_base + MB_SEL_CODE32), 0x00CF9A000000FFFFull);
}
END_TEST

START_TEST(aout_kludge)
{
	struct boot_entry be;
	/* flat image loaded at 0x200000, header at offset 0x40 */
	mb_header(img + 0x40, 0x10003);
	put32(img + 0x40 + 12, 0x200040);       /* header_addr */
	put32(img + 0x40 + 16, 0x200000);       /* load_addr */
	put32(img + 0x40 + 20, 0x200400);       /* load_end_addr */
	put32(img + 0x40 + 24, 0x201000);       /* bss_end_addr */
	put32(img + 0x40 + 28, 0x200080);       /* entry_addr */
	memset(img + 0x80, 0x90, 0x380);
	bus_write(&bus, 0x200800, 8, 0x1122334455667788ull);   /* becomes bss */
	ck_assert_msg(multiboot_load_image(&bus, &lay, "k.bin", img, 0x400, NULL, &be, err, sizeof err) == 0,
		      "%s", err);
	ck_assert_uint_eq(be.entry, 0x200080);
	ck_assert_uint_eq(bus_read(&bus, 0x200080, 1), 0x90);
	ck_assert_uint_eq(rd64(0x200800), 0);
	ck_assert_uint_eq(be.load_hi, 0x201000);
}
END_TEST

START_TEST(elf64_enters_long_mode)
{
	struct boot_entry be;
	memcpy(img, "\177ELF\2\1\1", 7);
	put16(img + 16, 2);
	put16(img + 18, 62);
	put32(img + 20, 1);
	put64(img + 24, 0xFFFFFFFF80100010ull); /* higher-half entry */
	put64(img + 32, 64);
	put16(img + 52, 64);
	put16(img + 54, 56);
	put16(img + 56, 1);
	uint8_t *ph = img + 64;
	put32(ph, 1);
	put32(ph + 4, 5);
	put64(ph + 8, 0x1000);
	put64(ph + 16, 0xFFFFFFFF80100000ull);
	put64(ph + 24, 0x100000);
	put64(ph + 32, 0x100);
	put64(ph + 40, 0x100);
	put64(ph + 48, 0x1000);
	mb_header(img + 0x1000, 0x3);
	ck_assert_msg(multiboot_load_image(&bus, &lay, "k64.elf", img, 0x1100, NULL, &be, err, sizeof err) == 0,
		      "%s", err);
	ck_assert_int_eq(be.mode, BOOT_LONG64);
	ck_assert_uint_eq(be.entry, 0x100010);
	ck_assert_uint_eq(be.cs, MB_SEL_CODE64);
	ck_assert_uint_eq(be.cr3, MB_LOADER_PML4);
	/* identity map: PML4[0] -> PDPT, PDPT[3] -> 4th PD, whose last entry maps 4 GiB - 2 MiB */
	uint64_t pdpt = rd64(be.cr3) & ~0xFFFull;
	uint64_t pd3 = rd64(pdpt + 24) & ~0xFFFull;
	ck_assert_uint_eq(rd64(pd3 + 511 * 8), (0xFFE00000ull) | 0x83);
	ck_assert_uint_eq(rd64(be.gdt_base + MB_SEL_CODE64), 0x00AF9A000000FFFFull);
}
END_TEST

/* Each broken image fails with its own message and writes nothing. */
static void expect_fail(size_t n, const char *needle)
{
	struct boot_entry be;
	bus_write(&bus, 0x100000, 8, 0x5A5A5A5A5A5A5A5Aull);
	bus_write(&bus, MB_LOADER_INFO, 8, 0x5A5A5A5A5A5A5A5Aull);
	ck_assert_int_eq(multiboot_load_image(&bus, &lay, "bad.k", img, n, "x", &be, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "bad.k: ") == err, "no file name: %s", err);
	ck_assert_msg(strstr(err, needle), "expected '%s' in: %s", needle, err);
	ck_assert_uint_eq(rd64(0x100000), 0x5A5A5A5A5A5A5A5Aull);
	ck_assert_uint_eq(rd64(MB_LOADER_INFO), 0x5A5A5A5A5A5A5A5Aull);
}

START_TEST(bad_images)
{
	size_t n = make_elf32(0xC0100110);
	put32(img + 0x108, 0);                  /* checksum broken */
	expect_fail(n, "no Multiboot header");

	make_elf32(0xC0100110);
	mb_header(img + 0x100, 0x3 | 0x10);     /* unknown required flag bit 4 */
	expect_fail(n, "requires features");

	make_elf32(0xD0000000);                 /* entry outside the segment */
	expect_fail(n, "entry point");

	make_elf32(0xC0100110);
	put32(img + 52 + 12, 0x8000);           /* paddr inside the loader's area */
	expect_fail(n, "boot loader's area");

	make_elf32(0xC0100110);
	put32(img + 52 + 12, 0x3FF0000);        /* runs past the end of 64 MiB of RAM */
	put32(img + 52 + 20, 0x20000);
	expect_fail(n, "not inside guest RAM");

	make_elf32(0xC0100110);
	put32(img + 52 + 16, 0x10000);          /* filesz past the end of the file */
	put32(img + 52 + 20, 0x10000);
	expect_fail(n, "past the end of the file");

	make_elf32(0xC0100110);
	put16(img + 18, 40);                    /* an ARM ELF32 */
	expect_fail(n, "not i386");

	memset(img, 0, sizeof img);
	mb_header(img + 0x40, 0x10003);         /* kludge with header fields cut off */
	expect_fail(0x4C, "truncated");
}
END_TEST

START_TEST(file_errors)
{
	struct boot_entry be;
	ck_assert_int_eq(multiboot_load(&bus, &lay, "/nonexistent/kernel", NULL, &be, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/kernel: cannot open"));
	ck_assert_int_eq(multiboot_load(&bus, &lay, "/", NULL, &be, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("multiboot");
	TCase *t = tcase_create("load");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, layout_matches_config);
	tcase_add_test(t, elf32_loads_and_describes_the_machine);
	tcase_add_test(t, aout_kludge);
	tcase_add_test(t, elf64_enters_long_mode);
	tcase_add_test(t, bad_images);
	tcase_add_test(t, file_errors);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
