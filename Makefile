# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of wsp.ko, plus the developer targets.
#
#   make                 build wsp.ko against $(KDIR)
#   make check           build kernels, boot them in QEMU, run every test
#   make vm              interactive VM with wsp.ko loaded
#   make demo            the wspcat scene in a VM (DEMO_KERNEL=stock-6.1)
#   make style / sparse  checkpatch and sparse over our sources
#   make bench           AF_WSP vs AF_UNIX and TCP, stock kernel, -smp 1
#
# The developer targets take the sources from $(WSP_TREE), by default this
# tree; KERNELS picks the kernels for check (debug-6.1 stock-6.1), KERNEL
# the one for vm.  Everything is done by selftests/vm/run.sh.

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)
COMPAT := net/wsp/compat/compat.h

all: modules

$(COMPAT): net/wsp/compat/gen-compat.sh $(wildcard net/wsp/compat/probes/*.c)
	@net/wsp/compat/gen-compat.sh $(KDIR) $@

compat: $(COMPAT)

modules: $(COMPAT)
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	rm -f $(COMPAT)

.PHONY: all compat modules clean

WSP_TREE ?= $(CURDIR)
KERNELS ?= debug-6.1 stock-6.1
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
bench:
	@WSP_TREE="$(WSP_TREE)" $(CURDIR)/tools/bench/vm.sh

.PHONY: bench
