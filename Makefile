# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of wsp.ko, plus the developer targets.
#
#   make                 build wsp.ko against $(KDIR)
#   make check           build kernels, boot them in QEMU, run every test
#   make vm              interactive VM with wsp.ko loaded
#   make style / sparse  checkpatch and sparse over our sources

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
