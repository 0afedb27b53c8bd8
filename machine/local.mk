# machine/: the CPU interpreter and the bus.
libphantom_a_SOURCES += \
	machine/bus.c machine/bus.h \
	machine/cpu.c machine/cpu.h \
	machine/exec.h \
	machine/insn.c machine/insn.h \
	machine/decode.c \
	machine/flags.h \
	machine/alu.c \
	machine/move.c \
	machine/control.c \
	machine/string.c \
	machine/sse.c \
	machine/x87.c \
	machine/cpuid.c
EXTRA_DIST += machine/insn.def

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_cpu tests/unit/test_bus
TESTS += tests/unit/test_cpu tests/unit/test_bus
tests_unit_test_cpu_SOURCES = tests/unit/test_cpu.c tests/unit/test_cpu_sse.c tests/unit/cpu_harness.h
tests_unit_test_cpu_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_cpu_LDADD = $(LDADD) $(CHECK_LIBS)
tests_unit_test_bus_SOURCES = tests/unit/test_bus.c
tests_unit_test_bus_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_bus_LDADD = $(LDADD) $(CHECK_LIBS)
endif
