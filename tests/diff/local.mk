# tests/diff/: differential CPU tests (docs/difftest.md).
#
# difftest runs random instruction sequences on our CPU, on the host CPU
# (x86-64 hosts only) and on Unicorn (when configure found it) and compares
# the results; declen checks our decoder's instruction lengths against
# Capstone's.
check_PROGRAMS += tests/diff/declen
TESTS += tests/diff/declen
tests_diff_declen_SOURCES = tests/diff/declen.c

if HOST_X86_64
check_PROGRAMS += tests/diff/difftest
TESTS += tests/diff/difftest
endif
tests_diff_difftest_SOURCES = \
	tests/diff/difftest.c tests/diff/difftest.h \
	tests/diff/gen.c tests/diff/gen.h \
	tests/diff/run_host.c \
	tests/diff/run_ours.c \
	tests/diff/run_unicorn.c
tests_diff_difftest_CFLAGS = $(AM_CFLAGS) $(UNICORN_CFLAGS)
tests_diff_difftest_LDADD = $(LDADD) $(UNICORN_LIBS)

