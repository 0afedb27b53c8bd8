# tests/guest/local.mk: the guest kernel under qemu-system-x86_64.
# Each test skips (77) without QEMU or without phantom-kernel.mb32.
TESTS += \
	tests/guest/boot.sh \
	tests/guest/exceptions.sh \
	tests/guest/disk-recovery.sh \
	tests/guest/corrupt.sh \
	tests/guest/pmem-recovery.sh \
	tests/guest/pvm.sh \
	tests/guest/kill.sh
EXTRA_DIST += \
	tests/guest/lib.sh \
	tests/guest/boot.sh \
	tests/guest/exceptions.sh \
	tests/guest/disk-recovery.sh \
	tests/guest/corrupt.sh \
	tests/guest/pmem-recovery.sh \
	tests/guest/pvm.sh \
	tests/guest/kill.sh
