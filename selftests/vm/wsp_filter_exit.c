// SPDX-License-Identifier: GPL-2.0
/*
 * Run by the VM's init just before "rmmod wsp": leave filters that are
 * waiting for their RCU grace period.  Each type gets a listener whose
 * filter is replaced once and then refuses a connect, so one program is
 * freed by the replacement and one by the close; the process exits at
 * once.  If module exit did not wait for those callbacks (rcu_barrier()),
 * they would run in unloaded text, and the VM would die in the rmmod
 * that follows.
 *
 * Exit status: 0, or the number of the step that failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/types.h>
#include <linux/wsp.h>

static int attach_ret(int fd, __u32 verdict)
{
	struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, verdict);
	struct sock_fprog fp = { .len = 1, .filter = &ret };

	return setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp, sizeof(fp));
}

static int leave_filter(int type)
{
	struct sockaddr_wsp a = { .swsp_family = AF_WSP };
	socklen_t alen = sizeof(a);
	int l, c, err = 0;

	l = socket(AF_WSP, type, 0);
	if (l < 0)
		return 1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(l, (struct sockaddr *)&a, &alen) || listen(l, 4)) {
		err = 2;
		goto out_listener;
	}
	if (attach_ret(l, WSP_FILTER_ACCEPT) ||
	    attach_ret(l, WSP_FILTER_REJECT)) {
		err = 3;
		goto out_listener;
	}
	c = socket(AF_WSP, type, 0);
	if (c < 0) {
		err = 4;
		goto out_listener;
	}
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) != -1 ||
	    errno != ECONNREFUSED)
		err = 5;
	close(c);
out_listener:
	close(l);
	return err;
}

int main(void)
{
	int err = leave_filter(SOCK_STREAM);

	if (!err)
		err = leave_filter(SOCK_SEQPACKET);
	if (err)
		fprintf(stderr, "wsp_filter_exit: step %d: %s\n", err,
			strerror(errno));
	return err;
}
