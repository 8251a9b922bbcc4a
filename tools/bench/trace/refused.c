// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side of tools/bench/trace: connects refused the two ways that
 * make bench compares, WARM_UP + 1 of each, so that the host can
 * single-step the last one of each kind.  The first kind finds nothing
 * bound on the port; the second finds a conditional listener whose
 * program (one instruction, as wspbench's) rejects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/wsp.h>

#define WARM_UP	3

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void refuse(int c, const struct sockaddr_wsp *a, const char *what)
{
	int i;

	for (i = 0; i <= WARM_UP; i++)
		if (!connect(c, (const struct sockaddr *)a, sizeof(*a)) ||
		    errno != ECONNREFUSED)
			die(what);
}

static int listener(struct sockaddr_wsp *a)
{
	socklen_t alen = sizeof(*a);
	int fd = socket(AF_WSP, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
	    getsockname(fd, (struct sockaddr *)a, &alen) || listen(fd, 128))
		die("listener");
	return fd;
}

int main(void)
{
	struct sockaddr_wsp a = { .swsp_family = AF_WSP };
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_REJECT);
	struct sock_fprog prog = { 1, &insn };
	int one = 1, l, c;

	close(listener(&a));	/* a port that nothing is bound on */
	c = socket(AF_WSP, SOCK_STREAM, 0);
	if (c < 0)
		die("socket");
	refuse(c, &a, "connect, no listener");
	l = listener(&a);
	if (setsockopt(l, SOL_WSP, WSP_CONDITIONAL_ACCEPT, &one, sizeof(one)) ||
	    setsockopt(l, SOL_WSP, WSP_ATTACH_FILTER, &prog, sizeof(prog)))
		die("filter");
	refuse(c, &a, "connect, refused by the filter");
	printf("refused: done\n");
	return 0;
}
