# guest.mk: the Phantom guest kernel image (included from Makefile.am).
#
# pvm/kernel/ (boot, traps, drivers, main loop), persist/ (snapshots) and
# the VM's files from pvm/vm.mk are compiled and linked by the host gcc
# in one freestanding invocation: no libc, no red zone, no SSE/x87, no
# PIC, and none of the host program flags (not AM_CFLAGS, not CFLAGS: no
# sanitizers); only the project's warnings (WARN_CFLAGS, with -Werror
# under --enable-werror).  Outputs:
#   phantom-kernel.elf   ELF64, entry _start64 (phantom-sim's loader)
#   phantom-kernel.mb32  the same as elf32-i386, entry _start32, for QEMU
#                        -kernel, which refuses ELF64 Multiboot images
# docs/guest.md describes both entries.
#
# The VM's part (pvm/vm.mk, included before this file) is named by:
#   PVM_GUEST_SRC    C or assembler sources (paths relative to the tree)
#   PVM_GUEST_IMG    generated files to link in too (C, .S or objects;
#                    looked for in the build tree, then the source tree)
#   PVM_GUEST_FLAGS  extra compiler flags for the whole kernel
# (Not *_SOURCES/*_CFLAGS: automake would take those for a program's.)
if HOST_X86_64

GUEST_CC = $(CC)
GUEST_OBJCOPY = objcopy
GUEST_NM = nm
GUEST_CPPFLAGS = -I$(top_srcdir) -I$(top_builddir)
GUEST_CFLAGS = -std=gnu11 -O2 -g $(WARN_CFLAGS) \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -mcmodel=small -mno-red-zone \
	-mno-sse -mno-mmx -mno-80387 -mgeneral-regs-only
GUEST_LINKFLAGS = -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
	-Wl,-T,$(top_srcdir)/pvm/kernel/kernel.ld

GUEST_KERNEL_SRC = \
	pvm/kernel/boot.S \
	pvm/kernel/isr.S \
	pvm/kernel/kmain.c \
	pvm/kernel/cmdline.c \
	pvm/kernel/cpu.c \
	pvm/kernel/memory.c \
	pvm/kernel/paging.c \
	pvm/kernel/timer.c \
	pvm/kernel/uart.c \
	pvm/kernel/kprintf.c \
	pvm/kernel/string.c \
	pvm/kernel/power.c \
	pvm/kernel/trace.c \
	pvm/kernel/pci.c \
	pvm/kernel/virtio_blk.c \
	pvm/kernel/pmem.c \
	pvm/kernel/sched.c \
	pvm/kernel/workloads.c \
	persist/digest.c \
	persist/snapshot.c \
	persist/recover.c \
	persist/store_pmem.c \
	persist/store_disk.c
GUEST_KERNEL_HDR = \
	pvm/kernel/kernel.h \
	pvm/kernel/workload.h \
	persist/digest.h \
	persist/layout.h \
	persist/snapshot.h \
	persist/state.h \
	persist/store.h \
	machine/guest_abi.h \
	pvm/pvm.h

guestdir = $(pkgdatadir)
guest_DATA = phantom-kernel.elf phantom-kernel.mb32

phantom-kernel.elf: $(GUEST_KERNEL_SRC) $(GUEST_KERNEL_HDR) $(PVM_GUEST_SRC) \
		$(PVM_GUEST_IMG) pvm/kernel/kernel.ld guest.mk
	$(AM_V_CCLD)srcs=; \
	for f in $(GUEST_KERNEL_SRC) $(PVM_GUEST_SRC) $(PVM_GUEST_IMG); do \
	  if test -f "$$f"; then srcs="$$srcs $$f"; else srcs="$$srcs $(srcdir)/$$f"; fi; \
	done; \
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(PVM_GUEST_FLAGS) $(GUEST_LINKFLAGS) \
	  -o $@ $$srcs

phantom-kernel.mb32: phantom-kernel.elf
	$(AM_V_GEN)start=`$(GUEST_NM) phantom-kernel.elf | awk '$$3 == "_start32" { print "0x" $$1 }'`; \
	test -n "$$start" || { echo "guest.mk: no _start32 in phantom-kernel.elf" >&2; exit 1; }; \
	$(GUEST_OBJCOPY) -O elf32-i386 --set-start=$$start phantom-kernel.elf $@

CLEANFILES += phantom-kernel.elf phantom-kernel.mb32

endif

EXTRA_DIST += guest.mk pvm/kernel/kernel.ld \
	pvm/kernel/boot.S pvm/kernel/isr.S pvm/kernel/kmain.c pvm/kernel/cmdline.c \
	pvm/kernel/cpu.c pvm/kernel/memory.c pvm/kernel/paging.c pvm/kernel/timer.c \
	pvm/kernel/uart.c pvm/kernel/kprintf.c pvm/kernel/string.c pvm/kernel/power.c \
	pvm/kernel/trace.c pvm/kernel/pci.c pvm/kernel/virtio_blk.c pvm/kernel/pmem.c \
	pvm/kernel/workloads.c pvm/kernel/sched.c pvm/kernel/kernel.h pvm/kernel/workload.h \
	persist/digest.c persist/snapshot.c persist/recover.c persist/store_pmem.c \
	persist/store_disk.c persist/digest.h persist/layout.h persist/snapshot.h \
	persist/state.h persist/store.h
