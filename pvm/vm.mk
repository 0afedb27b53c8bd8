# pvm/vm.mk: the Phantom VM (included from Makefile.am, before guest.mk).
#
# 1. pvm-asm, the host-side assembler (a plain hosted program).
# 2. pvm/pvm_images.c: the workloads (pvm/workloads/*.pvs) assembled into
#    class images and emitted as a C table, linked into the guest.
# 3. For guest.mk: PVM_GUEST_SRC (the freestanding VM sources),
#    PVM_GUEST_IMG (generated files to link) and PVM_GUEST_FLAGS.
# 4. tests/pvm/test_pvm: the VM compiled for the host with a harness that
#    maps the object space at its fixed address, plus the assembler's
#    bad-input tests.
# docs/pvm.md describes the VM.

PVM_VM_SRC = \
	pvm/vm/alloc.c \
	pvm/vm/classes.c \
	pvm/vm/exec.c \
	pvm/vm/gc.c \
	pvm/vm/invariant.c \
	pvm/vm/loader.c \
	pvm/vm/root.c
PVM_VM_HDR = \
	pvm/pvm.h \
	pvm/vm/image.h \
	pvm/vm/object.h \
	pvm/vm/opcodes.def \
	pvm/vm/vm.h

# Order matters: lib.pvs defines the constants and the Rng class the
# others use; a class's parent must come before it.
PVM_WORKLOADS = \
	pvm/workloads/lib.pvs \
	pvm/workloads/counter.pvs \
	pvm/workloads/bank.pvs \
	pvm/workloads/kv.pvs \
	pvm/workloads/list.pvs

# --- 1. the assembler ----------------------------------------------------
noinst_PROGRAMS += pvm-asm
pvm_asm_SOURCES = pvm/asm/pvm_asm.c pvm/vm/opcodes.def
pvm_asm_LDADD =

# --- 2. the workload images ----------------------------------------------
pvm/pvm_images.c: pvm-asm$(EXEEXT) $(PVM_WORKLOADS)
	$(AM_V_GEN)$(MKDIR_P) pvm && ./pvm-asm$(EXEEXT) --emit-c $@ --symbol pvm_images \
	  $(srcdir)/pvm/workloads/lib.pvs \
	  $(srcdir)/pvm/workloads/counter.pvs \
	  $(srcdir)/pvm/workloads/bank.pvs \
	  $(srcdir)/pvm/workloads/kv.pvs \
	  $(srcdir)/pvm/workloads/list.pvs

CLEANFILES += pvm/pvm_images.c
EXTRA_DIST += $(PVM_WORKLOADS)

# --- 3. what guest.mk links into the kernel -------------------------------
PVM_GUEST_SRC = $(PVM_VM_SRC)
PVM_GUEST_IMG = pvm/pvm_images.c
PVM_GUEST_FLAGS =
# (Not PVM_GUEST_SOURCES: automake would take it for a program's sources.)
EXTRA_DIST += $(PVM_VM_SRC) pvm/pvm.h pvm/vm/image.h pvm/vm/object.h pvm/vm/vm.h

# --- 4. hosted tests -------------------------------------------------------
tests/pvm/unit_images.c: pvm-asm$(EXEEXT) $(srcdir)/pvm/workloads/lib.pvs $(srcdir)/tests/pvm/unit.pvs
	$(AM_V_GEN)$(MKDIR_P) tests/pvm && ./pvm-asm$(EXEEXT) --emit-c $@ --symbol pvm_test_images \
	  $(srcdir)/pvm/workloads/lib.pvs $(srcdir)/tests/pvm/unit.pvs

CLEANFILES += tests/pvm/unit_images.c
EXTRA_DIST += tests/pvm/unit.pvs tests/pvm/asm-errors.sh \
	tests/pvm/test_pvm.c tests/pvm/harness.c tests/pvm/harness.h

if HAVE_CHECK
check_PROGRAMS += tests/pvm/test_pvm
TESTS += tests/pvm/test_pvm
tests_pvm_test_pvm_SOURCES = \
	tests/pvm/test_pvm.c \
	tests/pvm/harness.c \
	tests/pvm/harness.h \
	$(PVM_VM_SRC) \
	$(PVM_VM_HDR)
nodist_tests_pvm_test_pvm_SOURCES = pvm/pvm_images.c tests/pvm/unit_images.c
tests_pvm_test_pvm_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_pvm_test_pvm_LDADD = $(CHECK_LIBS)
endif

TESTS += tests/pvm/asm-errors.sh
