# blockdev.mk: the block device (issue 5): devices/virtio_blk.* (virtio 1.x
# over PCI), devices/blockdev.* (image, volatile write cache, timing
# presets) and machine/blk_crash.* (crash states by policy, image
# write-out).  docs/block.md and docs/crash-model.md ("The block device")
# describe them.
libphantom_a_SOURCES += \
	devices/blockdev.c devices/blockdev.h \
	devices/virtio_blk.c devices/virtio_blk.h \
	machine/blk_crash.c machine/blk_crash.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_block
TESTS += tests/unit/test_block
tests_unit_test_block_SOURCES = \
	tests/unit/test_block.c \
	tests/unit/test_block.h \
	tests/unit/test_block_virtio.c \
	tests/unit/test_block_crash.c
tests_unit_test_block_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_block_LDADD = $(LDADD) $(CHECK_LIBS)
endif

EXTRA_DIST += docs/block.md
