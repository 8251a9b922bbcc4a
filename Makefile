# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of wsp.ko, plus the developer targets.
#
#   make                 build wsp.ko against $(KDIR)
#   make compat-report   what each compat probe found for $(KDIR)
#   make install         wsp.ko into /lib/modules/$(KVER)/extra, depmod,
#                        and the header into /usr/include/linux (DESTDIR=
#                        stages); make uninstall removes both
#   make check           build kernels, boot them in QEMU, run every test
#   make fuzz            wsp_fuzz for 10^6 syscalls on each debug kernel
#   make vm              interactive VM with wsp.ko loaded
#   make demo            the wspcat scene in a VM (DEMO_KERNEL=stock-6.1)
#   make style / sparse  checkpatch and sparse over our sources
#   make bench           AF_WSP vs AF_UNIX and TCP, stock kernel, -smp 1
#   make bench-trace     the instructions of the two refused connects that
#                        make bench compares, by function (gdb, QEMU)
#
# The developer targets take the sources from $(WSP_TREE), by default this
# tree; KERNELS picks the kernels for check (default: all five), KERNEL
# the one for vm.  Everything is done by selftests/vm/run.sh.

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)
COMPAT := net/wsp/compat/compat.h

all: modules

# Probed for each build: the file is rewritten (and everything rebuilt)
# only when KDIR, its release or config, or the probes change.
$(COMPAT): FORCE
	@$(CURDIR)/net/wsp/compat/gen-compat.sh $(KDIR) $@

compat: $(COMPAT)

# What each probe found for $(KDIR), as compat.h records it.
compat-report: $(COMPAT)
	@sed -n '/^\/\* report:$$/,/^ \*\/$$/{/^ \* /s/^ \* //p}' $(COMPAT)

modules: $(COMPAT)
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	rm -f $(COMPAT)

.PHONY: all compat compat-report modules clean FORCE

# Installation (the kernel's modules_install puts wsp.ko in
# extra/net/wsp/).  KVER is the release of the kernel in $(KDIR) (its
# utsrelease.h: Debian's headers report another kernelrelease).  With
# DESTDIR or INSTALL_MOD_PATH set, the files are staged and depmod is left
# to the packager.
KVER ?= $(or $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null),$(shell uname -r))
INSTALL_MOD_PATH ?= $(DESTDIR)
MODDIR = $(INSTALL_MOD_PATH)/lib/modules/$(KVER)/extra
HDRDIR = $(DESTDIR)/usr/include/linux
# Sign only with the kernel's own key at hand (distribution headers lack it).
NOSIGN = $(if $(wildcard $(KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=)
DEPMOD_RUN = $(if $(INSTALL_MOD_PATH),@echo "staged: not running depmod",depmod -a $(KVER))

install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) KERNELRELEASE=$(KVER) \
		INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) INSTALL_MOD_DIR=extra \
		DEPMOD=true $(NOSIGN) modules_install
	$(DEPMOD_RUN)
	install -D -m 0644 include/uapi/linux/wsp.h $(HDRDIR)/wsp.h

uninstall:
	rm -f $(MODDIR)/net/wsp/wsp.ko* $(MODDIR)/net/wsp/wsp_kunit.ko*
	-rmdir $(MODDIR)/net/wsp $(MODDIR)/net $(MODDIR) 2>/dev/null
	$(DEPMOD_RUN)
	rm -f $(HDRDIR)/wsp.h

.PHONY: install uninstall

WSP_TREE ?= $(CURDIR)
KERNELS ?= debug-6.1 stock-6.1 stock-6.12 stock-7.x debug-7.x
KERNEL ?= debug-6.1
RUN = WSP_TREE="$(WSP_TREE)" KERNELS="$(KERNELS)" KERNEL="$(KERNEL)" \
	$(CURDIR)/selftests/vm/run.sh

check:
	@$(RUN) check

vm:
	@$(RUN) vm

style:
	@$(RUN) style

sparse:
	@$(RUN) sparse

# The wspcat scene in a VM; stock kernel by default.
DEMO_KERNEL ?= stock-6.1
demo:
	@WSP_TREE="$(WSP_TREE)" KERNEL="$(DEMO_KERNEL)" \
		$(CURDIR)/selftests/vm/run.sh demo

.PHONY: check vm style sparse demo

# Benchmarks (issue 6): tools/bench/vm.sh reuses run.sh's kernel and QEMU
# machinery; results go to bench/results/.
fuzz:
	@$(RUN) fuzz

bench:
	@WSP_TREE="$(WSP_TREE)" $(CURDIR)/tools/bench/vm.sh

bench-trace:
	@WSP_TREE="$(WSP_TREE)" $(CURDIR)/tools/bench/trace/trace.sh

.PHONY: fuzz bench bench-trace
