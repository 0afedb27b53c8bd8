# machine/: the system half of the machine (paging, memory layout, boot
# loaders).  The CPU's own files are listed in machine/local.mk.
libphantom_a_SOURCES += \
	machine/guest_abi.h \
	machine/layout.c machine/layout.h \
	machine/multiboot.c machine/multiboot.h \
	machine/paging.c machine/paging.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_paging tests/unit/test_multiboot
TESTS += tests/unit/test_paging tests/unit/test_multiboot
tests_unit_test_paging_SOURCES = tests/unit/test_paging.c
tests_unit_test_paging_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_paging_LDADD = $(LDADD) $(CHECK_LIBS)
tests_unit_test_multiboot_SOURCES = tests/unit/test_multiboot.c
tests_unit_test_multiboot_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_multiboot_LDADD = $(LDADD) $(CHECK_LIBS)
endif
