# machine/: the system half of the machine (paging, memory layout, boot
# loaders).  The CPU's own files are listed in machine/local.mk.
libphantom_a_SOURCES += \
	machine/guest_abi.h \
	machine/layout.c machine/layout.h \
	machine/multiboot.c machine/multiboot.h \
	machine/paging.c machine/paging.h \
	machine/cache.c machine/cache.h \
	machine/dram.c machine/dram.h \
	machine/optane.c machine/optane.h \
	machine/memctrl.c machine/memctrl.h \
	machine/memhier.c machine/memhier.h \
	machine/cpu_timing.c machine/cpu_timing.h \
	devices/trace_port.c devices/trace_port.h

# The timing model's calibration against published figures (docs/timing.md).
noinst_PROGRAMS += bench/timing-calibrate
bench_timing_calibrate_SOURCES = bench/timing_calibrate.c

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_paging tests/unit/test_multiboot tests/unit/test_timing \
	tests/unit/test_trace_port
TESTS += tests/unit/test_paging tests/unit/test_multiboot tests/unit/test_timing \
	tests/unit/test_trace_port
tests_unit_test_trace_port_SOURCES = tests/unit/test_trace_port.c
tests_unit_test_trace_port_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_trace_port_LDADD = $(LDADD) $(CHECK_LIBS)
tests_unit_test_timing_SOURCES = tests/unit/test_timing.c
tests_unit_test_timing_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_timing_LDADD = $(LDADD) $(CHECK_LIBS)
tests_unit_test_paging_SOURCES = tests/unit/test_paging.c
tests_unit_test_paging_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_paging_LDADD = $(LDADD) $(CHECK_LIBS)
tests_unit_test_multiboot_SOURCES = tests/unit/test_multiboot.c
tests_unit_test_multiboot_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_multiboot_LDADD = $(LDADD) $(CHECK_LIBS)
endif

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_cpu_timing
TESTS += tests/unit/test_cpu_timing
tests_unit_test_cpu_timing_SOURCES = tests/unit/test_cpu_timing.c tests/unit/cpu_harness.h
tests_unit_test_cpu_timing_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_cpu_timing_LDADD = $(LDADD) $(CHECK_LIBS)
endif
