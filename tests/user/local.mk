# tests/user/: the user-mode runner's tests (issue 3).
#
# Shell tests compare `phantom-sim user` with native runs of Debian's
# static busybox and of the programs in progs/, built static with gcc
# (check_PROGRAMS below) and with musl-gcc when configure found it (the
# .musl rules; an empty .musl file means musl-gcc was not found).
#
# The programs are built without AM_CFLAGS/AM_LDFLAGS: they run on the
# simulated CPU, so no sanitizer runtime may be linked into them.

# The runner's sources.  They belong in machine/'s fragment; they are
# listed here, the fragment this helper owns, until the lead moves them.
libphantom_a_SOURCES += \
	machine/elf.c machine/elf.h \
	machine/linux_user.c machine/linux_user.h \
	machine/linux_syscall.c machine/linux_syscall.h

TESTS += \
	tests/user/busybox-text.sh \
	tests/user/busybox-hash.sh \
	tests/user/busybox-gzip.sh \
	tests/user/progs.sh \
	tests/user/bad-elf.sh \
	tests/user/elf-fuzz.sh \
	tests/user/runner.sh
EXTRA_DIST += \
	tests/user/lib.sh \
	tests/user/busybox-text.sh \
	tests/user/busybox-hash.sh \
	tests/user/busybox-gzip.sh \
	tests/user/progs.sh \
	tests/user/bad-elf.sh \
	tests/user/elf-fuzz.sh \
	tests/user/runner.sh

check_PROGRAMS += \
	tests/user/progs/intmath \
	tests/user/progs/float \
	tests/user/progs/jmp \
	tests/user/progs/sort \
	tests/user/progs/alloc \
	tests/user/progs/syscalls \
	tests/user/progs/segv \
	tests/user/progs/seeded \
	tests/user/progs/abort \
	tests/user/progs/intmath-dynamic \
	tests/user/progs/intmath-pie

tests_user_progs_intmath_SOURCES = tests/user/progs/intmath.c
tests_user_progs_intmath_CFLAGS = -O2
tests_user_progs_intmath_LDFLAGS = -static
tests_user_progs_intmath_LDADD = -lm

tests_user_progs_float_SOURCES = tests/user/progs/float.c
tests_user_progs_float_CFLAGS = -O2
tests_user_progs_float_LDFLAGS = -static
tests_user_progs_float_LDADD = -lm

tests_user_progs_jmp_SOURCES = tests/user/progs/jmp.c
tests_user_progs_jmp_CFLAGS = -O2
tests_user_progs_jmp_LDFLAGS = -static
tests_user_progs_jmp_LDADD = -lm

tests_user_progs_sort_SOURCES = tests/user/progs/sort.c
tests_user_progs_sort_CFLAGS = -O2
tests_user_progs_sort_LDFLAGS = -static
tests_user_progs_sort_LDADD = -lm

tests_user_progs_alloc_SOURCES = tests/user/progs/alloc.c
tests_user_progs_alloc_CFLAGS = -O2
tests_user_progs_alloc_LDFLAGS = -static
tests_user_progs_alloc_LDADD = -lm

tests_user_progs_syscalls_SOURCES = tests/user/progs/syscalls.c
tests_user_progs_syscalls_CFLAGS = -O2
tests_user_progs_syscalls_LDFLAGS = -static
tests_user_progs_syscalls_LDADD = -lm

tests_user_progs_segv_SOURCES = tests/user/progs/segv.c
tests_user_progs_segv_CFLAGS = -O2
tests_user_progs_segv_LDFLAGS = -static
tests_user_progs_segv_LDADD = -lm

tests_user_progs_seeded_SOURCES = tests/user/progs/seeded.c
tests_user_progs_seeded_CFLAGS = -O2
tests_user_progs_seeded_LDFLAGS = -static
tests_user_progs_seeded_LDADD = -lm

tests_user_progs_abort_SOURCES = tests/user/progs/abort.c
tests_user_progs_abort_CFLAGS = -O2
tests_user_progs_abort_LDFLAGS = -static
tests_user_progs_abort_LDADD =

# Static PIE (ET_DYN without PT_INTERP): loaded at 0x555555554000.
tests_user_progs_intmath_pie_SOURCES = tests/user/progs/intmath.c
tests_user_progs_intmath_pie_CFLAGS = -O2 -fPIE
tests_user_progs_intmath_pie_LDFLAGS = -static-pie
tests_user_progs_intmath_pie_LDADD =

# The same source linked dynamically: bad-elf.sh checks it is refused.
tests_user_progs_intmath_dynamic_SOURCES = tests/user/progs/intmath.c
tests_user_progs_intmath_dynamic_CFLAGS = -O2
tests_user_progs_intmath_dynamic_LDFLAGS =
tests_user_progs_intmath_dynamic_LDADD =

USER_MUSL_PROGS = \
	tests/user/progs/intmath.musl \
	tests/user/progs/float.musl \
	tests/user/progs/jmp.musl \
	tests/user/progs/sort.musl \
	tests/user/progs/alloc.musl \
	tests/user/progs/syscalls.musl \
	tests/user/progs/segv.musl \
	tests/user/progs/seeded.musl

check_SCRIPTS += $(USER_MUSL_PROGS)
CLEANFILES += $(USER_MUSL_PROGS)

# One rule builds every .musl program from its .c (an empty file when
# configure found no musl-gcc: progs.sh then skips the musl runs).
SUFFIXES = .musl
.c.musl:
	$(AM_V_CC)$(MKDIR_P) $(@D) && \
	if test -n "$(MUSL_GCC)"; then \
		$(MUSL_GCC) -static -O2 -o $@ $< -lm; \
	else rm -f $@ && : >$@; fi
