# machine/system2.mk: automake fragment (placeholder until its owner writes it)

# The CPU's system half and the PC machine (issue 4).
libphantom_a_SOURCES += \
	machine/cpu_sys.c machine/cpu_sys.h machine/debug.c machine/mce.c \
	machine/machine.c machine/machine.h \
	sim/cmd_boot.c
EXTRA_DIST += machine/insn_sys.def
# The built-in kernel when phantom-sim runs uninstalled (machine.h).
AM_CPPFLAGS += -DPHANTOM_BUILDDIR='"$(abs_top_builddir)"'

# Test kernels (tests/guests/): small freestanding long-mode kernels that
# check the CPU's system half and the devices, run under phantom-sim boot
# and, when installed, qemu-system-x86_64 (tests/guests/run.sh compares the
# serial output).  Built with the host gcc in freestanding mode like the
# guest (guest.mk): not with AM_CFLAGS/CFLAGS, so never with sanitizers.
TK_NAMES = mode paging ring3 exceptions fxsave timers uart rtc triple bench pmcal debug align mce
TK_LIB = tests/guests/boot.S tests/guests/lib.c tests/guests/lib.h
EXTRA_DIST += $(TK_LIB) tests/guests/run.sh tests/boot/phantom-kernel.sh \
	$(TK_NAMES:%=tests/guests/%.c)
TESTS += tests/guests/run.sh tests/boot/phantom-kernel.sh
if HOST_X86_64
check_SCRIPTS += tests/guests/kernels.stamp
tests/guests/kernels.stamp: $(TK_LIB) $(TK_NAMES:%=tests/guests/%.c) pvm/kernel/kernel.ld
	$(AM_V_GEN)$(MKDIR_P) tests/guests && \
	for t in $(TK_NAMES); do \
	  $(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(GUEST_LINKFLAGS) \
	    -o tests/guests/$$t.elf $(srcdir)/tests/guests/boot.S $(srcdir)/tests/guests/lib.c \
	    $(srcdir)/tests/guests/$$t.c || exit 1; \
	  start=`$(GUEST_NM) tests/guests/$$t.elf | awk '$$3 == "_start32" { print "0x" $$1 }'`; \
	  $(GUEST_OBJCOPY) -O elf32-i386 --set-start=$$start tests/guests/$$t.elf \
	    tests/guests/$$t.mb32 || exit 1; \
	done && touch $@
CLEANFILES += tests/guests/kernels.stamp $(TK_NAMES:%=tests/guests/%.elf) \
	$(TK_NAMES:%=tests/guests/%.mb32)
endif

# The 32-bit protected-mode test kernel: ELF32 only (gcc -m32).
GUEST32_CFLAGS = -m32 -std=gnu11 -O2 -Wall -Wextra -ffreestanding -fno-builtin -fno-pic \
	-fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx \
	-mno-80387 -mgeneral-regs-only -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-m,elf_i386 -Wl,-z,noexecstack
EXTRA_DIST += tests/guests/prot32.c tests/guests/prot32.ld
if HOST_X86_64
check_SCRIPTS += tests/guests/prot32.mb32
tests/guests/prot32.mb32: tests/guests/prot32.c tests/guests/prot32.ld
	$(AM_V_GEN)$(MKDIR_P) tests/guests && \
	$(GUEST_CC) $(GUEST32_CFLAGS) -Wl,-T,$(srcdir)/tests/guests/prot32.ld \
	  -o $@ $(srcdir)/tests/guests/prot32.c
CLEANFILES += tests/guests/prot32.mb32
endif

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_cpu_sys
TESTS += tests/unit/test_cpu_sys
tests_unit_test_cpu_sys_SOURCES = tests/unit/test_cpu_sys.c
tests_unit_test_cpu_sys_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_cpu_sys_LDADD = $(LDADD) $(CHECK_LIBS)
endif
