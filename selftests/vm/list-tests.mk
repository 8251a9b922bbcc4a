# SPDX-License-Identifier: GPL-2.0
# Read after selftests/wsp/Makefile by run.sh: print what it wants run.
wspvm-list-tests:
	@echo $(TEST_GEN_PROGS)
.PHONY: wspvm-list-tests
