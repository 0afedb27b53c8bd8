# tests/guests/pm.mk: automake fragment for the persistent-memory tests of
# issue 5 that need more than the unit tests: the pattern kernel and its
# crash-state checker, the scale test of an Optane-server-sized machine,
# image errors through the CLI, and the peak-RSS helper bench/pmem-scale
# uses too.  Kept apart from machine/system2.mk (the other test kernels).

noinst_PROGRAMS += bench/peak-rss
bench_peak_rss_SOURCES = bench/peak_rss.c

check_PROGRAMS += tests/guests/pmcheck
tests_guests_pmcheck_SOURCES = tests/guests/pmcheck.c

TESTS += tests/cli/image-errors.sh tests/cli/pmem-scale.sh tests/cli/pm-patterns.sh
EXTRA_DIST += tests/guests/pm.mk tests/guests/pmpattern.c bench/pmem-scale \
	tests/cli/image-errors.sh tests/cli/pmem-scale.sh tests/cli/pm-patterns.sh

# The pattern kernel: built like the other test kernels (freestanding,
# GUEST_* from guest.mk); ELF64 only, since it runs under phantom-sim alone.
if HOST_X86_64
check_SCRIPTS += tests/guests/pmpattern.elf
tests/guests/pmpattern.elf: tests/guests/boot.S tests/guests/lib.c tests/guests/lib.h \
		tests/guests/pmpattern.c machine/guest_abi.h pvm/kernel/kernel.ld
	$(AM_V_GEN)$(MKDIR_P) tests/guests && \
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/boot.S $(srcdir)/tests/guests/lib.c \
	  $(srcdir)/tests/guests/pmpattern.c
CLEANFILES += tests/guests/pmpattern.elf
endif
