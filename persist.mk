# persist.mk: the persistent-memory region and the power-failure model
# (issue 5): machine/persist.* (which bytes survive), machine/crash.*
# (crash states by policy, power-failure triggers), devices/nvdimm.* (the
# region on the bus) and devices/image.* (image files updated atomically).
libphantom_a_SOURCES += \
	machine/persist.c machine/persist.h \
	machine/crash.c machine/crash.h \
	devices/nvdimm.c devices/nvdimm.h \
	devices/image.c devices/image.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_persist
TESTS += tests/unit/test_persist
tests_unit_test_persist_SOURCES = \
	tests/unit/test_persist.c \
	tests/unit/test_persist_image.c \
	tests/unit/test_persist.h
tests_unit_test_persist_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_persist_LDADD = $(LDADD) $(CHECK_LIBS)
endif

EXTRA_DIST += docs/crash-model.md
