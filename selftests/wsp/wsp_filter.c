// SPDX-License-Identifier: GPL-2.0
/*
 * AF_WSP in-kernel condition (SPEC sections 9 and 10): WSP_ATTACH_FILTER,
 * WSP_DETACH_FILTER and SO_LOCK_FILTER; what a program may contain and
 * what it sees; what each of its verdicts does to a request, on an
 * automatic and on a conditional listener; the filter_* counters; the
 * option memory a program is charged to; the same decisions with the JIT
 * and with the interpreter; WSP_REQUEST_ID; and the races of a program
 * that is replaced, or whose listener goes away, while connects run it.
 *
 * Every test runs in a private network namespace, so the counters of
 * /proc/net/wsp_stat start at zero and are asserted as they are.
 * net.core.optmem_max (global before 6.9) and net.core.bpf_jit_enable
 * (always global) are changed through a handle opened before that, and
 * put back.
 */
#include "wsp_util.h"

#include <grp.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/filter.h>

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER		44
#endif

#define FD_OFF(field)		offsetof(struct wsp_filter_data, field)
#define FD_DATA			FD_OFF(data)
#define FD_SIZE			((__u32)sizeof(struct wsp_filter_data))
#define FD_WORDS		(FD_SIZE / 4)

#define OPTMEM_MAX		"/proc/sys/net/core/optmem_max"
#define JIT_ENABLE		"/proc/sys/net/core/bpf_jit_enable"

/* How long "nothing happens" is watched for. */
#define QUIET_MS		200
#define RACE_MS			1500

/* The prefix that the caller-data test's program lets in at once. */
#define TOKEN			"WSP!"

/* ---- building programs ------------------------------------------------ */

/* A program, and the checks whose jump to its "fail" return is patched. */
struct prog {
	struct sock_filter insn[BPF_MAXINSNS + 2];
	unsigned int len;
	unsigned int fix[128];
	unsigned int nfix;
};

#define FIX_JT			0x80000000U

static void prog_init(struct prog *p)
{
	p->len = 0;
	p->nfix = 0;
}

static void emit_jmp(struct prog *p, __u16 code, __u32 k, __u8 jt, __u8 jf)
{
	struct sock_filter *insn = &p->insn[p->len++];

	insn->code = code;
	insn->jt = jt;
	insn->jf = jf;
	insn->k = k;
}

static void emit(struct prog *p, __u16 code, __u32 k)
{
	emit_jmp(p, code, k, 0, 0);
}

/*
 * A conditional jump (@code is BPF_JEQ | BPF_K and the like) that goes on
 * when its condition is @holds, and otherwise to the "fail" return of
 * prog_end().
 */
static void emit_check(struct prog *p, __u16 code, __u32 k, bool holds)
{
	p->fix[p->nfix++] = p->len | (holds ? 0 : FIX_JT);
	emit(p, BPF_JMP | code, k);
}

/* Go on only if the context word at @off is @val. */
static void emit_eq(struct prog *p, __u32 off, __u32 val)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, off);
	emit_check(p, BPF_JEQ | BPF_K, val, true);
}

/* Return @pass after the last instruction, @fail from every failed check. */
static void prog_end(struct prog *p, __u32 pass, __u32 fail)
{
	unsigned int i, at, pc, d;

	emit(p, BPF_RET | BPF_K, pass);
	at = p->len;
	emit(p, BPF_RET | BPF_K, fail);
	for (i = 0; i < p->nfix; i++) {
		pc = p->fix[i] & ~FIX_JT;
		d = at - pc - 1;
		if (d > 255)
			abort();	/* a test built too long a program */
		if (p->fix[i] & FIX_JT)
			p->insn[pc].jt = d;
		else
			p->insn[pc].jf = d;
	}
}

/* @n instructions in all, that return @verdict after n - 1 that do not
 * matter: big programs for the length and memory checks.
 */
static void prog_long(struct prog *p, unsigned int n, __u32 verdict)
{
	prog_init(p);
	while (p->len < n - 1)
		emit(p, BPF_LD | BPF_IMM, p->len);
	emit(p, BPF_RET | BPF_K, verdict);
}

static int attach(int fd, const struct sock_filter *insn, unsigned int len)
{
	struct sock_fprog fp = {
		.len = len,
		.filter = (struct sock_filter *)insn,
	};

	return setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp, sizeof(fp));
}

static int attach_prog(int fd, const struct prog *p)
{
	return attach(fd, p->insn, p->len);
}

/* The one-instruction program "return @verdict". */
static int attach_ret(int fd, __u32 verdict)
{
	struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, verdict);

	return attach(fd, &ret, 1);
}

static int detach(int fd)
{
	return setsockopt(fd, SOL_WSP, WSP_DETACH_FILTER, NULL, 0);
}

/* 0 if the program attaches, else the errno. */
static int attach_err(int fd, const struct sock_filter *insn,
		      unsigned int len)
{
	return attach(fd, insn, len) ? errno : 0;
}

/* Does "@code @k; return accept" attach?  0, or the errno. */
static int attach_err1(int fd, __u16 code, __u32 k)
{
	struct sock_filter insn[2] = {
		BPF_STMT(code, k),
		BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT),
	};

	return attach_err(fd, insn, 2);
}

/* 0 if there was a program to detach, else the errno. */
static int detach_err(int fd)
{
	return detach(fd) ? errno : 0;
}

/* ---- clients ---------------------------------------------------------- */

/*
 * A client with @len bytes of caller data (none if 0) that connects to
 * @port without blocking.  Returns what connect() said: 0 (connected at
 * once), EINPROGRESS (queued) or an errno.  *fdp gets the socket, or -1
 * if the connect failed (it is then closed).
 */
static int dial_data(int type, __u32 port, const void *data, size_t len,
		     int *fdp)
{
	int fd, e;

	*fdp = -1;
	fd = wsp_socket(type);
	if (fd < 0)
		return errno;
	if (len && setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data, len)) {
		e = errno;
		close(fd);
		return e;
	}
	e = wsp_connect_nb(fd, port);
	if (e && e != EINPROGRESS) {
		close(fd);
		return e;
	}
	*fdp = fd;
	return e;
}

static int dial(int type, __u32 port, const char *data, int *fdp)
{
	return dial_data(type, port, data, data ? strlen(data) : 0, fdp);
}

/* The outcome alone: the socket is closed, a queued request withdrawn. */
static int dial_once(int type, __u32 port, const char *data)
{
	int fd, e = dial(type, port, data, &fd);

	if (fd >= 0)
		close(fd);
	return e;
}

/* Accept and close all that accept() has ready; returns how many. */
static int drain(int lfd)
{
	int n = 0, s;

	while ((s = wsp_accept_nb(lfd)) >= 0) {
		close(s);
		n++;
	}
	return n;
}

/* WSP_REQUEST_ID of @fd, or 0 with errno set. */
static __u64 request_id(int fd)
{
	socklen_t len = sizeof(__u64);
	__u64 id = 0;

	if (getsockopt(fd, SOL_WSP, WSP_REQUEST_ID, &id, &len))
		return 0;
	if (len != sizeof(id)) {
		errno = EMSGSIZE;
		return 0;
	}
	return id;
}

/* errno of a WSP_REQUEST_ID that must fail, 0 if it worked. */
static int request_id_err(int fd)
{
	return request_id(fd) ? 0 : errno;
}

/* The listener's backlog use as /proc/net/wsp shows it, or -1. */
static long proc_backlog(int lfd)
{
	struct wsp_proc_line pl;

	if (wsp_proc_find(lfd, &pl))
		return -1;
	return pl.backlog;
}

/* ---- a thread blocked in poll() on a listener ------------------------- */

struct poller {
	int fd;
	int stop;		/* eventfd that ends the wait */
	short revents;		/* the listener's, when the wait ended */
	volatile pid_t tid;
	pthread_t thread;
};

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd[2] = {
		{ .fd = p->fd, .events = POLLIN | POLLPRI },
		{ .fd = p->stop, .events = POLLIN },
	};

	p->tid = gettid();
	if (poll(pfd, 2, 60000) < 0)
		p->revents = -1;
	else
		p->revents = pfd[0].revents;
	return NULL;
}

static char task_state(pid_t tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (wsp_read_file(path, buf, sizeof(buf)) < 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* The voluntary context switches of one of our threads: its wakeups. */
static long wakeups_of(pid_t tid)
{
	char path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (wsp_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + 25, NULL, 10) : -1;
}

/* Start a thread that waits in poll() on @fd; 0 once it sleeps there. */
static int poller_start(struct poller *p, int fd)
{
	long long end = wsp_now_ms() + WSP_SLOW_MS;

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->stop = eventfd(0, EFD_NONBLOCK);
	if (p->stop < 0 || pthread_create(&p->thread, NULL, poller_main, p))
		return -1;
	while (!p->tid || task_state(p->tid) != 'S') {
		if (wsp_now_ms() > end)
			return -1;
		wsp_msleep(10);
	}
	wsp_msleep(50);
	return 0;
}

static long poller_wakeups(struct poller *p)
{
	return wakeups_of(p->tid);
}

/* End the wait if it still goes on; the listener's revents, or -1. */
static short poller_stop(struct poller *p)
{
	__u64 one = 1;

	if (write(p->stop, &one, sizeof(one)) != sizeof(one) ||
	    pthread_join(p->thread, NULL))
		return -1;
	close(p->stop);
	return p->revents;
}

/* ---- the option, on either socket type -------------------------------- */

FIXTURE(opt)
{
	int type;
	int init_optmem;	/* net.core.optmem_max of the initial netns */
	int optmem_fd;		/* the one in force, once changed */
	bool optmem_own;	/* it is this namespace's */
	char optmem_saved[32];	/* to put back, if not empty */
};

FIXTURE_VARIANT(opt)
{
	int type;
};

FIXTURE_VARIANT_ADD(opt, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(opt, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(opt)
{
	self->type = variant->type;
	/* Before 6.9 optmem_max is global, and only the initial namespace
	 * shows it: keep a handle on it from there.
	 */
	self->init_optmem = open(OPTMEM_MAX, O_RDWR);
	ASSERT_EQ(0, wsp_private_netns());
}

static int sysctl_fd_get(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int sysctl_fd_set(int fd, const char *val)
{
	return pwrite(fd, val, strlen(val), 0) == (ssize_t)strlen(val) ?
	       0 : -1;
}

FIXTURE_TEARDOWN(opt)
{
	if (self->optmem_saved[0] &&
	    sysctl_fd_set(self->optmem_fd, self->optmem_saved))
		TH_LOG("optmem_max not restored to %s", self->optmem_saved);
	if (self->optmem_own)
		close(self->optmem_fd);
	if (self->init_optmem >= 0)
		close(self->init_optmem);
}

TEST_F(opt, empty_program_is_einval)
{
	struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT);
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err(fd, &ret, 0));
	EXPECT_EQ(EINVAL, attach_err(fd, NULL, 0));
	/* Nothing was attached, and one instruction is enough. */
	EXPECT_EQ(ENOENT, detach_err(fd));
	EXPECT_EQ(0, attach_err(fd, &ret, 1));
	EXPECT_EQ(0, detach_err(fd));
	close(fd);
}

TEST_F(opt, over_long_program_is_einval)
{
	static struct sock_filter insn[0xffff];
	unsigned int i;
	int fd;

	/* Valid instructions all along: only the length is wrong. */
	for (i = 0; i < 0xffff; i++) {
		struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K,
						  WSP_FILTER_ACCEPT);

		insn[i] = ret;
	}
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err(fd, insn, BPF_MAXINSNS + 1));
	EXPECT_EQ(EINVAL, attach_err(fd, insn, BPF_MAXINSNS + 2));
	EXPECT_EQ(EINVAL, attach_err(fd, insn, 0xffff));
	EXPECT_EQ(ENOENT, detach_err(fd));
	/* BPF_MAXINSNS itself is allowed: see optmem_charge. */
	close(fd);
}

TEST_F(opt, optlen_must_be_that_of_sock_fprog)
{
	struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT);
	struct {
		struct sock_fprog fp;
		char pad[sizeof(struct sock_fprog)];
	} big = { .fp = { .len = 1, .filter = &ret } };
	static const socklen_t bad[] = {
		0, 1, 4, 8, sizeof(struct sock_fprog) - 1,
		sizeof(struct sock_fprog) + 1, 2 * sizeof(struct sock_fprog),
	};
	unsigned int i;
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &big,
					 bad[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("optlen %u", bad[i]);
	}
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(ENOENT, detach_err(fd));
	EXPECT_EQ(0, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &big,
				sizeof(big.fp)));
	close(fd);
}

TEST_F(opt, bad_pointers_are_efault)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT);
	struct sock_fprog fp;
	char *pg, *hole;
	int fd;

	pg = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pg);
	hole = pg + ps;
	ASSERT_EQ(0, munmap(hole, ps));
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);

	/* The struct sock_fprog itself. */
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, NULL,
				 sizeof(fp)));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, hole,
				 sizeof(fp)));
	EXPECT_EQ(EFAULT, errno);
	/* Half of it readable. */
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, hole - 8,
				 sizeof(fp)));
	EXPECT_EQ(EFAULT, errno);

	/* The instructions it points to: all unmapped, or the second. */
	fp.len = 1;
	fp.filter = (struct sock_filter *)hole;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp,
				 sizeof(fp)));
	EXPECT_EQ(EFAULT, errno);
	memcpy(hole - sizeof(ret), &ret, sizeof(ret));
	fp.len = 2;
	fp.filter = (struct sock_filter *)(hole - sizeof(ret));
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp,
				 sizeof(fp)));
	EXPECT_EQ(EFAULT, errno);
	/* NULL is refused as SO_ATTACH_FILTER refuses it. */
	fp.filter = NULL;
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp,
				 sizeof(fp)));
	EXPECT_TRUE(errno == EINVAL || errno == EFAULT) TH_LOG("errno %d",
							       errno);

	EXPECT_EQ(ENOENT, detach_err(fd));
	/* The readable one instruction next to the hole is fine. */
	fp.len = 1;
	fp.filter = (struct sock_filter *)(hole - sizeof(ret));
	EXPECT_EQ(0, setsockopt(fd, SOL_WSP, WSP_ATTACH_FILTER, &fp,
				sizeof(fp)));
	close(fd);
	munmap(pg, ps);
}

TEST_F(opt, byte_loads_are_einval)
{
	int fd = wsp_socket(self->type);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_B | BPF_ABS, 0));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_B | BPF_ABS, 1));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_B | BPF_ABS, FD_DATA));
	EXPECT_EQ(ENOENT, detach_err(fd));
	/* The word load at the same place is the allowed one. */
	EXPECT_EQ(0, attach_err1(fd, BPF_LD | BPF_W | BPF_ABS, FD_DATA));
	close(fd);
}

TEST_F(opt, half_word_loads_are_einval)
{
	int fd = wsp_socket(self->type);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_H | BPF_ABS, 0));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_H | BPF_ABS, 2));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_H | BPF_ABS, FD_DATA));
	EXPECT_EQ(ENOENT, detach_err(fd));
	EXPECT_EQ(0, attach_err1(fd, BPF_LD | BPF_W | BPF_ABS, 0));
	close(fd);
}

TEST_F(opt, indirect_loads_are_einval)
{
	static const __u16 size[] = { BPF_W, BPF_H, BPF_B };
	unsigned int i;
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | size[i] | BPF_IND,
					      0));
		EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | size[i] | BPF_IND,
					      FD_DATA));
	}
	EXPECT_EQ(ENOENT, detach_err(fd));
	close(fd);
}

TEST_F(opt, msh_load_is_einval)
{
	int fd = wsp_socket(self->type);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LDX | BPF_B | BPF_MSH, 0));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LDX | BPF_B | BPF_MSH, 14));
	EXPECT_EQ(ENOENT, detach_err(fd));
	/* BPF_LDX's allowed forms. */
	EXPECT_EQ(0, attach_err1(fd, BPF_LDX | BPF_W | BPF_LEN, 0));
	EXPECT_EQ(0, attach_err1(fd, BPF_LDX | BPF_IMM, 14));
	close(fd);
}

TEST_F(opt, ancillary_loads_are_einval)
{
	static const __u16 size[] = { BPF_W, BPF_H, BPF_B };
	unsigned int ad, i;
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	/* Every SKF_AD_* the uapi knows, and one past. */
	for (ad = 0; ad <= SKF_AD_MAX; ad += 4) {
		for (i = 0; i < 3; i++) {
			EXPECT_EQ(EINVAL,
				  attach_err1(fd, BPF_LD | size[i] | BPF_ABS,
					      SKF_AD_OFF + ad))
				TH_LOG("SKF_AD_OFF + %u, size %#x", ad,
				       size[i]);
		}
	}
	EXPECT_EQ(ENOENT, detach_err(fd));
	close(fd);
}

TEST_F(opt, out_of_range_offsets_are_einval)
{
	static const __u32 bad[] = {
		FD_SIZE, FD_SIZE + 4, 0x1000, 0x7ffffffc, 0xfffffffc,
		SKF_NET_OFF, SKF_NET_OFF + 4, SKF_LL_OFF, SKF_LL_OFF + 4,
	};
	unsigned int i;
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_W | BPF_ABS,
					      bad[i]))
			TH_LOG("offset %#x", bad[i]);
	}
	EXPECT_EQ(ENOENT, detach_err(fd));
	/* The last word is inside. */
	EXPECT_EQ(0, attach_err1(fd, BPF_LD | BPF_W | BPF_ABS, FD_SIZE - 4));
	close(fd);
}

TEST_F(opt, unaligned_offsets_are_einval)
{
	static const __u32 bad[] = {
		1, 2, 3, 5, 6, 7, FD_DATA + 1, FD_DATA + 2, FD_SIZE - 3,
		FD_SIZE - 2, FD_SIZE - 1,
	};
	static const __u32 good[] = { 0, 4, FD_DATA, FD_SIZE - 4 };
	unsigned int i;
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LD | BPF_W | BPF_ABS,
					      bad[i]))
			TH_LOG("offset %u", bad[i]);
	}
	EXPECT_EQ(ENOENT, detach_err(fd));
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		EXPECT_EQ(0, attach_err1(fd, BPF_LD | BPF_W | BPF_ABS,
					 good[i]))
			TH_LOG("offset %u", good[i]);
	}
	close(fd);
}

/*
 * The kernel turns each context load into BPF_LDX | BPF_W | BPF_ABS, the
 * form that reads *(u32 *)(ctx + k) unchecked.  From userspace that code
 * must not get through: it is no classic instruction.
 */
TEST_F(opt, raw_context_load_is_einval)
{
	int fd = wsp_socket(self->type);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LDX | BPF_W | BPF_ABS, 0));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LDX | BPF_W | BPF_ABS,
				      FD_SIZE));
	EXPECT_EQ(EINVAL, attach_err1(fd, BPF_LDX | BPF_W | BPF_ABS,
				      0x10000));
	EXPECT_EQ(ENOENT, detach_err(fd));
	close(fd);
}

/* What the classic checker refuses in any classic program stays refused. */
TEST_F(opt, classic_checker_refusals_are_einval)
{
	struct sock_filter no_ret[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 1),
	};
	struct sock_filter ja_out[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 5),
		BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT),
	};
	struct sock_filter jeq_out[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0),
		BPF_STMT(BPF_RET | BPF_K, WSP_FILTER_ACCEPT),
	};
	struct sock_filter div0[] = {
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter mod0[] = {
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter mem_out[] = {
		BPF_STMT(BPF_ST, BPF_MEMWORDS),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter unwritten[] = {
		BPF_STMT(BPF_LD | BPF_MEM, 3),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter unknown[] = {
		BPF_STMT(0xffff, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, attach_err(fd, no_ret, 1));
	EXPECT_EQ(EINVAL, attach_err(fd, ja_out, 2));
	EXPECT_EQ(EINVAL, attach_err(fd, jeq_out, 2));
	EXPECT_EQ(EINVAL, attach_err(fd, div0, 2));
	EXPECT_EQ(EINVAL, attach_err(fd, mod0, 2));
	EXPECT_EQ(EINVAL, attach_err(fd, mem_out, 2));
	EXPECT_EQ(EINVAL, attach_err(fd, unwritten, 2));
	EXPECT_EQ(EINVAL, attach_err(fd, unknown, 2));
	EXPECT_EQ(ENOENT, detach_err(fd));
	close(fd);
}

/*
 * One of each instruction the contract allows, in one program that
 * attaches and then decides: accept.  X is 3 through every ALU | X.
 */
TEST_F(opt, every_allowed_instruction_attaches_and_runs)
{
	static const __u16 alu[] = {
		BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR,
		BPF_XOR, BPF_LSH, BPF_RSH,
	};
	static const __u16 jmp[] = { BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET };
	struct prog *p;
	unsigned int i;
	int lfd, c;
	__u32 port;

	p = calloc(1, sizeof(*p));
	ASSERT_NE(NULL, p);
	prog_init(p);
	emit(p, BPF_LD | BPF_W | BPF_ABS, FD_OFF(caller_port));
	emit(p, BPF_LD | BPF_W | BPF_LEN, 0);
	emit(p, BPF_LDX | BPF_W | BPF_LEN, 0);
	emit(p, BPF_LD | BPF_IMM, 7);
	emit(p, BPF_LDX | BPF_IMM, 3);
	for (i = 0; i < ARRAY_SIZE(alu); i++) {
		emit(p, BPF_ALU | alu[i] | BPF_K, 2);
		emit(p, BPF_ALU | alu[i] | BPF_X, 0);
	}
	emit(p, BPF_ALU | BPF_NEG, 0);
	emit(p, BPF_MISC | BPF_TAX, 0);
	emit(p, BPF_MISC | BPF_TXA, 0);
	emit(p, BPF_ST, 0);
	emit(p, BPF_STX, 1);
	emit(p, BPF_LD | BPF_MEM, 0);
	emit(p, BPF_LDX | BPF_MEM, 1);
	emit(p, BPF_JMP | BPF_JA, 0);
	for (i = 0; i < ARRAY_SIZE(jmp); i++) {
		emit(p, BPF_JMP | jmp[i] | BPF_K, 1);
		emit(p, BPF_JMP | jmp[i] | BPF_X, 0);
	}
	emit(p, BPF_LD | BPF_IMM, WSP_FILTER_ACCEPT);
	emit_jmp(p, BPF_JMP | BPF_JEQ | BPF_K, WSP_FILTER_ACCEPT, 1, 0);
	emit(p, BPF_RET | BPF_K, WSP_FILTER_REJECT);
	emit(p, BPF_RET | BPF_A, 0);

	lfd = wsp_cond_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_prog(lfd, p));
	EXPECT_EQ(0, dial(self->type, port, NULL, &c));
	EXPECT_EQ(1, wsp_stat("filter_accepted"));
	close(c);
	close(lfd);
	free(p);
}

TEST_F(opt, failed_attach_keeps_the_old_program)
{
	int lfd;
	__u32 port;

	lfd = wsp_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));
	EXPECT_EQ(EINVAL, attach_err1(lfd, BPF_LD | BPF_B | BPF_ABS, 0));
	EXPECT_EQ(EINVAL, attach_err1(lfd, BPF_LD | BPF_W | BPF_ABS, 2));
	EXPECT_EQ(EINVAL, attach_err1(lfd, BPF_LD | BPF_W | BPF_ABS,
				      FD_SIZE));
	EXPECT_EQ(EINVAL, attach_err(lfd, NULL, 0));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	EXPECT_EQ(1, wsp_stat("filter_rejected"));
	EXPECT_EQ(0, wsp_stat("requests"));
	EXPECT_EQ(0, detach_err(lfd));
	close(lfd);
}

TEST_F(opt, lock_filter_gives_eperm)
{
	int lfd;
	__u32 port;

	lfd = wsp_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));
	ASSERT_EQ(0, wsp_set_int(lfd, SOL_SOCKET, SO_LOCK_FILTER, 1));
	EXPECT_EQ(EPERM, attach_err1(lfd, BPF_LD | BPF_IMM, 0));
	EXPECT_EQ(EPERM, detach_err(lfd));
	/* An invalid program is refused as locked, or as invalid. */
	EXPECT_NE(0, attach_err1(lfd, BPF_LD | BPF_B | BPF_ABS, 0));
	/* The locked program still decides. */
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	EXPECT_EQ(1, wsp_stat("filter_rejected"));
	/* The socket core does not let it be unlocked. */
	errno = 0;
	EXPECT_EQ(-1, wsp_set_int(lfd, SOL_SOCKET, SO_LOCK_FILTER, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(EPERM, detach_err(lfd));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	EXPECT_EQ(2, wsp_stat("filter_rejected"));
	close(lfd);
}

TEST_F(opt, lock_filter_without_a_program)
{
	int fd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wsp_set_int(fd, SOL_SOCKET, SO_LOCK_FILTER, 1));
	EXPECT_EQ(1, wsp_get_int(fd, SOL_SOCKET, SO_LOCK_FILTER));
	/* Locked means locked, not "nothing to detach". */
	EXPECT_EQ(EPERM, detach_err(fd));
	EXPECT_EQ(EPERM, attach_err1(fd, BPF_LD | BPF_IMM, 0));
	EXPECT_EQ(EPERM, detach_err(fd));
	close(fd);
}

TEST_F(opt, detach_without_a_program_is_enoent)
{
	struct wsp_qos q;
	int fd, lfd;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ENOENT, detach_err(fd));
	EXPECT_EQ(ENOENT, detach_err(fd));
	ASSERT_EQ(0, attach_ret(fd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, detach_err(fd));
	EXPECT_EQ(ENOENT, detach_err(fd));
	/* A socket with the other extras (QoS) but no program. */
	wsp_qos_shaped(&q, 100000, 8192);
	ASSERT_EQ(0, wsp_set_qos(fd, &q));
	EXPECT_EQ(ENOENT, detach_err(fd));
	close(fd);
	lfd = wsp_cond_listener(self->type, 0, 4, NULL);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(ENOENT, detach_err(lfd));
	close(lfd);
}

/* "Any AF_WSP socket": unbound, bound, connected, accepted, listening. */
TEST_F(opt, attach_on_any_socket)
{
	int fd, lfd, c, s;
	__u32 port;

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, attach_ret(fd, WSP_FILTER_REJECT));
	EXPECT_EQ(0, detach_err(fd));
	ASSERT_EQ(0, wsp_bind(fd, 0));
	EXPECT_EQ(0, attach_ret(fd, WSP_FILTER_REJECT));
	close(fd);		/* with its program */

	ASSERT_EQ(0, wsp_pair(self->type, &lfd, &c, &s, &port));
	EXPECT_EQ(0, attach_ret(lfd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, attach_ret(c, WSP_FILTER_REJECT));
	EXPECT_EQ(0, attach_ret(s, WSP_FILTER_REJECT));
	/* A connected socket's program decides nothing of its own. */
	EXPECT_EQ(1, send(c, "x", 1, 0));
	EXPECT_EQ(1, wsp_recv_n(s, 1));
	EXPECT_EQ(0, detach_err(c));
	EXPECT_EQ(0, detach_err(s));
	EXPECT_EQ(0, detach_err(lfd));
	EXPECT_EQ(0, wsp_stat("filter_rejected"));
	close(s);
	close(c);
	close(lfd);
}

TEST_F(opt, attach_before_listen)
{
	int lfd, c;
	__u32 port;

	lfd = wsp_socket(self->type);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));
	ASSERT_EQ(0, wsp_bind(lfd, 0));
	port = wsp_local_port(lfd);
	ASSERT_EQ(0, listen(lfd, 4));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	EXPECT_EQ(1, wsp_stat("filter_rejected"));
	close(lfd);

	/* Before conditional mode and listen(): accepted at once anyway. */
	lfd = wsp_socket(self->type);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_ACCEPT));
	ASSERT_EQ(0, wsp_set_int(lfd, SOL_WSP, WSP_CONDITIONAL_ACCEPT, 1));
	ASSERT_EQ(0, wsp_bind(lfd, 0));
	port = wsp_local_port(lfd);
	ASSERT_EQ(0, listen(lfd, 4));
	EXPECT_EQ(0, dial(self->type, port, NULL, &c));
	EXPECT_EQ(1, wsp_stat("filter_accepted"));
	EXPECT_EQ(1, drain(lfd));
	close(c);
	close(lfd);
}

/* A program attached later decides later arrivals only. */
TEST_F(opt, attach_after_listen)
{
	struct wsp_request r;
	int lfd, c1, c2;
	__u32 port;

	lfd = wsp_cond_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(EINPROGRESS, dial(self->type, port, NULL, &c1));
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, dial(self->type, port, NULL, &c2));
	/* The one already waiting still waits for its verdict. */
	ASSERT_EQ(0, wsp_peek(lfd, 0, &r));
	EXPECT_EQ(wsp_local_port(c1), r.caller.swsp_port);
	EXPECT_EQ(0, r.flags);
	EXPECT_EQ(-1, wsp_wait_connect(c1, 0));
	EXPECT_EQ(1, wsp_stat("filter_accepted"));
	EXPECT_EQ(2, wsp_stat("requests"));
	EXPECT_EQ(1, drain(lfd));
	EXPECT_EQ(0, wsp_verdict(lfd, r.id, WSP_CF_ACCEPT));
	EXPECT_EQ(0, wsp_wait_connect(c1, WSP_SLOW_MS));
	close(c1);
	close(c2);
	close(lfd);
}

TEST_F(opt, replace)
{
	int lfd, c;
	__u32 port;

	lfd = wsp_listener(self->type, 0, 8, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, dial_once(self->type, port, NULL));
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_DEFER));
	EXPECT_EQ(EINPROGRESS, dial(self->type, port, NULL, &c));
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	/* Gone: the automatic listener's own way again. */
	ASSERT_EQ(0, detach_err(lfd));
	EXPECT_EQ(0, dial_once(self->type, port, NULL));
	EXPECT_EQ(1, wsp_stat("filter_accepted"));
	EXPECT_EQ(2, wsp_stat("filter_rejected"));
	EXPECT_EQ(1, wsp_stat("filter_deferred"));
	EXPECT_EQ(0, wsp_stat("filter_passed"));
	EXPECT_EQ(3, wsp_stat("requests"));
	close(c);
	close(lfd);
}

TEST_F(opt, not_inherited)
{
	int lfd, c, s;
	__u32 port;

	lfd = wsp_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_ACCEPT));
	c = wsp_client(self->type, port);
	ASSERT_LE(0, c);
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(ENOENT, detach_err(s));
	EXPECT_EQ(ENOENT, detach_err(c));
	/* The accepted socket can have one of its own, and lose it. */
	EXPECT_EQ(0, attach_ret(s, WSP_FILTER_REJECT));
	EXPECT_EQ(0, detach_err(s));
	EXPECT_EQ(0, detach_err(lfd));
	EXPECT_EQ(ENOENT, detach_err(lfd));
	close(s);
	close(c);
	close(lfd);
}

TEST_F(opt, stat_has_the_filter_counters_after_the_others)
{
	static const char * const names[] = {
		"requests", "accepted", "rejected", "deferred",
		"withdrawn_timeout", "withdrawn_close", "backlog_overflows",
		"unknown_verdicts", "filter_accepted", "filter_rejected",
		"filter_deferred", "filter_passed",
	};
	char buf[4096], key[64], *line, *save = NULL;
	unsigned int i = 0;
	long long val;

	ASSERT_LT(0, wsp_read_file(WSP_PROC_STAT, buf, sizeof(buf)));
	for (line = strtok_r(buf, "\n", &save); line && i < 12;
	     line = strtok_r(NULL, "\n", &save), i++) {
		ASSERT_EQ(2, sscanf(line, "%63s %lld", key, &val))
			TH_LOG("line %u: \"%s\"", i + 1, line);
		EXPECT_STREQ(names[i], key);
		EXPECT_EQ(0, val);
	}
	EXPECT_EQ(12, i);
}

TEST_F(opt, request_id_errnos)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct wsp_request r;
	int fd, lfd, alfd, c, c2, s;
	__u32 port, aport;
	socklen_t len;
	char *hole;
	__u64 id[2];

	hole = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);

	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ENOTCONN, request_id_err(fd));
	ASSERT_EQ(0, wsp_bind(fd, 0));
	EXPECT_EQ(ENOTCONN, request_id_err(fd));
	close(fd);

	lfd = wsp_cond_listener(self->type, 0, 4, &port);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(ENOTCONN, request_id_err(lfd));
	/* Connecting; then refused. */
	ASSERT_EQ(EINPROGRESS, dial(self->type, port, NULL, &c));
	EXPECT_EQ(ENOTCONN, request_id_err(c));
	ASSERT_EQ(0, wsp_decide_oldest(lfd, WSP_CF_REJECT));
	EXPECT_EQ(ECONNREFUSED, wsp_wait_connect(c, WSP_SLOW_MS));
	EXPECT_EQ(ENOTCONN, request_id_err(c));
	close(c);
	/* Refused by a program. */
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	EXPECT_EQ(ECONNREFUSED, wsp_connect_nb(c, port));
	EXPECT_EQ(ENOTCONN, request_id_err(c));
	close(c);
	close(lfd);

	/* Connected, with wrong lengths and pointers. */
	alfd = wsp_listener(self->type, 0, 4, &aport);
	ASSERT_LE(0, alfd);
	c2 = wsp_client(self->type, aport);
	ASSERT_LE(0, c2);
	s = accept(alfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(ENOTCONN, request_id_err(alfd));
	len = 7;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(c2, SOL_WSP, WSP_REQUEST_ID, id, &len));
	EXPECT_EQ(EINVAL, errno);
	len = 0;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(s, SOL_WSP, WSP_REQUEST_ID, id, &len));
	EXPECT_EQ(EINVAL, errno);
	len = (socklen_t)-1;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(s, SOL_WSP, WSP_REQUEST_ID, id, &len));
	EXPECT_EQ(EINVAL, errno);
	len = 8;
	errno = 0;
	EXPECT_EQ(-1, getsockopt(s, SOL_WSP, WSP_REQUEST_ID, hole, &len));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, getsockopt(s, SOL_WSP, WSP_REQUEST_ID, id,
				 (socklen_t *)hole));
	EXPECT_EQ(EFAULT, errno);
	/* Longer is fine: 8 bytes come back. */
	memset(id, 0xa5, sizeof(id));
	len = sizeof(id);
	EXPECT_EQ(0, getsockopt(c2, SOL_WSP, WSP_REQUEST_ID, id, &len));
	EXPECT_EQ(8, len);
	EXPECT_NE(0, id[0]);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, id[1]);
	EXPECT_EQ(id[0], request_id(s));
	/* Still nothing for the automatic listener to peek. */
	EXPECT_EQ(-1, wsp_peek(alfd, 0, &r));
	close(s);
	close(c2);
	close(alfd);
	munmap(hole, ps);
}

TEST_F(opt, request_id_is_the_peeked_id_on_both_ends)
{
	static const int order[3] = { 2, 0, 1 };
	struct wsp_request r[3];
	int lfd, c[3], s, i, j, found;
	__u64 a_id, b_id;
	__u32 port;
	int a, b, sa, sb;

	lfd = wsp_cond_listener(self->type, 0, 8, &port);
	ASSERT_LE(0, lfd);
	for (i = 0, j = 0; i < 3; i++)
		j += dial(self->type, port, NULL, &c[i]) == EINPROGRESS;
	ASSERT_EQ(3, j);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, wsp_peek(lfd, i ? r[i - 1].id : 0, &r[i]));
		EXPECT_EQ(wsp_local_port(c[i]), r[i].caller.swsp_port);
		EXPECT_LT(i ? r[i - 1].id : 0, r[i].id);
	}
	for (i = 0; i < 3; i++) {
		j = order[i];
		ASSERT_EQ(0, wsp_verdict(lfd, r[j].id, WSP_CF_ACCEPT));
		ASSERT_EQ(0, wsp_wait_connect(c[j], WSP_SLOW_MS));
		EXPECT_EQ(r[j].id, request_id(c[j]));
	}
	for (i = 0; i < 3; i++) {
		s = accept(lfd, NULL, NULL);
		ASSERT_LE(0, s);
		found = -1;
		for (j = 0; j < 3; j++)
			if (wsp_peer_port(s) == r[j].caller.swsp_port)
				found = j;
		ASSERT_LE(0, found);
		EXPECT_EQ(r[found].id, request_id(s));
		close(s);
	}
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(lfd);

	/* Accepted automatically: nothing was peeked, the ends agree. */
	lfd = wsp_listener(self->type, 0, 8, &port);
	ASSERT_LE(0, lfd);
	a = wsp_client(self->type, port);
	ASSERT_LE(0, a);
	b = wsp_client(self->type, port);
	ASSERT_LE(0, b);
	sa = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sa);
	sb = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sb);
	a_id = request_id(a);
	b_id = request_id(b);
	EXPECT_LT(0, a_id);
	EXPECT_LT(a_id, b_id);
	EXPECT_EQ(a_id, request_id(sa));
	EXPECT_EQ(b_id, request_id(sb));
	close(sa);
	close(sb);
	close(a);
	close(b);
	close(lfd);
}

/* ---- what a program sees --------------------------------------------- */

/* struct wsp_filter_data as the program should see one request. */
static void ctx_expect(struct wsp_filter_data *d, __u32 port, int type,
		       const void *data, __u32 len, const struct wsp_qos *qos,
		       __u32 count, __u32 cap)
{
	memset(d, 0, sizeof(*d));
	d->caller_port = port;
	d->pid = getpid();
	d->uid = geteuid();
	d->gid = getegid();
	d->sock_type = type;
	d->data_len = len;
	d->backlog_count = count;
	d->backlog_cap = cap;
	d->qos = *qos;
	memcpy(d->data, data, len < WSP_FILTER_DATA_MAX ? len :
	       WSP_FILTER_DATA_MAX);
}

/*
 * A program that accepts when every word of the context is as @d says,
 * and the two BPF_LEN loads give its size; word @wrong (FD_WORDS and
 * FD_WORDS + 1: the two lengths), if not negative, is expected one
 * higher, so the program must reject.
 */
static void ctx_prog(struct prog *p, const struct wsp_filter_data *d,
		     int wrong)
{
	__u32 w[FD_WORDS];
	unsigned int i;

	memcpy(w, d, sizeof(w));
	prog_init(p);
	for (i = 0; i < FD_WORDS; i++)
		emit_eq(p, i * 4, w[i] + ((int)i == wrong));
	emit(p, BPF_LD | BPF_W | BPF_LEN, 0);
	emit_check(p, BPF_JEQ | BPF_K, FD_SIZE + (wrong == (int)FD_WORDS),
		   true);
	emit(p, BPF_LDX | BPF_W | BPF_LEN, 0);
	emit(p, BPF_MISC | BPF_TXA, 0);
	emit_check(p, BPF_JEQ | BPF_K,
		   FD_SIZE + (wrong == (int)FD_WORDS + 1), true);
	prog_end(p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
}

/*
 * A client bound to a port of its own, with caller data and a QoS; then
 * a program that checks every word of what it sees.  Right, it is
 * accepted at once (on a conditional listener); with any one word
 * expected otherwise, it is refused.
 */
TEST_F(opt, context_fields)
{
	struct wsp_filter_data d;
	struct wsp_qos q, asked;
	unsigned char data[70];
	int lfd, c, wrong, e;
	struct prog *p;
	__u32 port;

	p = calloc(1, sizeof(*p));
	ASSERT_NE(NULL, p);
	for (wrong = 0; wrong < (int)sizeof(data); wrong++)
		data[wrong] = wrong * 7 + 1;
	lfd = wsp_cond_listener(self->type, 0, 16, &port);
	ASSERT_LE(0, lfd);
	for (wrong = -1; wrong < (int)FD_WORDS + 2; wrong++) {
		c = wsp_socket(self->type);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, wsp_bind(c, 0));
		ASSERT_EQ(0, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, data,
					sizeof(data)));
		wsp_qos_shaped(&q, 12345, 4096);
		ASSERT_EQ(0, wsp_set_qos(c, &q));
		ASSERT_EQ(0, wsp_get_qos(c, &asked));
		ASSERT_EQ(12345, asked.sending.token_rate);
		ctx_expect(&d, wsp_local_port(c), self->type, data,
			   sizeof(data), &asked, 0, 16);
		ctx_prog(p, &d, wrong);
		ASSERT_EQ(0, attach_prog(lfd, p));
		e = wsp_connect_nb(c, port);
		if (wrong < 0) {
			EXPECT_EQ(0, e);
		} else {
			EXPECT_EQ(ECONNREFUSED, e) TH_LOG("word %d wrong",
							  wrong);
		}
		close(c);
		drain(lfd);
	}
	EXPECT_EQ(1, wsp_stat("filter_accepted"));
	EXPECT_EQ(FD_WORDS + 2, wsp_stat("filter_rejected"));
	EXPECT_EQ(1, wsp_stat("requests"));
	close(lfd);
	free(p);
}

/* The data words: zero-padded, the first 64 bytes, the host's order. */
TEST_F(opt, context_data_words)
{
	static const unsigned int lens[] = { 0, 1, 5, 63, 64, 65, 100, 4096 };
	static unsigned char data[4096];
	struct wsp_filter_data d;
	struct wsp_qos asked;
	unsigned int i;
	struct prog *p;
	int lfd, c;
	__u32 port, w;

	p = calloc(1, sizeof(*p));
	ASSERT_NE(NULL, p);
	for (i = 0; i < sizeof(data); i++)
		data[i] = 0x80 | i;
	lfd = wsp_listener(self->type, 0, 16, &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		c = wsp_socket(self->type);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, wsp_bind(c, 0));
		if (lens[i]) {
			ASSERT_EQ(0, setsockopt(c, SOL_WSP, WSP_CALLER_DATA,
						data, lens[i]));
		}
		ASSERT_EQ(0, wsp_get_qos(c, &asked));
		ctx_expect(&d, wsp_local_port(c), self->type, data, lens[i],
			   &asked, 0, 16);
		ctx_prog(p, &d, -1);
		ASSERT_EQ(0, attach_prog(lfd, p));
		EXPECT_EQ(0, wsp_connect_nb(c, port)) TH_LOG("%u bytes",
							     lens[i]);
		close(c);
		drain(lfd);
	}
	/* A word is four bytes as memory holds them, not network order. */
	memcpy(&w, "ABCD", 4);
	prog_init(p);
	emit_eq(p, FD_DATA, w);
	emit_eq(p, FD_DATA + 4, 0);
	prog_end(p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(lfd, p));
	EXPECT_EQ(0, dial_once(self->type, port, "ABCD"));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, "DCBA"));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, "ABCDE"));
	EXPECT_EQ(ARRAY_SIZE(lens) + 1,
		  wsp_stat("filter_accepted"));
	EXPECT_EQ(2, wsp_stat("filter_rejected"));
	close(lfd);
	free(p);
}

struct pid_dial {
	int type;
	__u32 port;
	volatile pid_t tid;
	volatile int go;
	int result;
};

static void *pid_dial_main(void *arg)
{
	struct pid_dial *pd = arg;

	pd->tid = gettid();
	while (!pd->go)
		wsp_msleep(1);
	pd->result = dial_once(pd->type, pd->port, NULL);
	return NULL;
}

/* A thread's request shows the process's pid (its tgid), not its tid. */
TEST_F(opt, context_pid_is_the_tgid)
{
	struct pid_dial pd = { .type = self->type };
	struct prog p1, p2;
	pthread_t t;
	int lfd;

	lfd = wsp_listener(self->type, 0, 8, &pd.port);
	ASSERT_LE(0, lfd);
	prog_init(&p1);
	emit_eq(&p1, FD_OFF(pid), getpid());
	prog_end(&p1, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(lfd, &p1));
	EXPECT_EQ(0, dial_once(self->type, pd.port, NULL));

	ASSERT_EQ(0, pthread_create(&t, NULL, pid_dial_main, &pd));
	while (!pd.tid)
		wsp_msleep(1);
	ASSERT_NE(getpid(), pd.tid);
	pd.go = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, pd.result);

	/* The thread's tid is not what the program sees. */
	pd.tid = 0;
	pd.go = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, pid_dial_main, &pd));
	while (!pd.tid)
		wsp_msleep(1);
	prog_init(&p2);
	emit_eq(&p2, FD_OFF(pid), pd.tid);
	prog_end(&p2, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(lfd, &p2));
	pd.go = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(ECONNREFUSED, pd.result);
	EXPECT_EQ(2, wsp_stat("filter_accepted"));
	EXPECT_EQ(1, wsp_stat("filter_rejected"));
	close(lfd);
}

/* backlog_cap follows listen(), clamped by net.wsp.max_backlog. */
TEST_F(opt, context_backlog_cap)
{
	static const struct { int backlog, cap; } steps[] = {
		{ 5, 5 }, { 3, 3 }, { 100, 8 }, { 0, 1 }, { 8, 8 },
	};
	unsigned int i;
	struct prog p;
	int lfd;
	__u32 port;

	ASSERT_EQ(0, wsp_sysctl_set("max_backlog", "8\n"));
	lfd = wsp_listener(self->type, 0, 5, &port);
	ASSERT_LE(0, lfd);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		ASSERT_EQ(0, listen(lfd, steps[i].backlog));
		ASSERT_EQ(steps[i].cap, wsp_get_int(lfd, SOL_WSP,
						    WSP_BACKLOG));
		prog_init(&p);
		emit_eq(&p, FD_OFF(backlog_cap), steps[i].cap);
		prog_end(&p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
		ASSERT_EQ(0, attach_prog(lfd, &p));
		EXPECT_EQ(0, dial_once(self->type, port, NULL))
			TH_LOG("listen(%d)", steps[i].backlog);
		EXPECT_EQ(1, drain(lfd));
		prog_init(&p);
		emit_eq(&p, FD_OFF(backlog_cap), steps[i].cap + 1);
		prog_end(&p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
		ASSERT_EQ(0, attach_prog(lfd, &p));
		EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	}
	EXPECT_EQ(5, wsp_stat("filter_accepted"));
	EXPECT_EQ(5, wsp_stat("filter_rejected"));
	close(lfd);
}

/*
 * pid, uid and gid are seen from the namespaces of the task that
 * attached the program, whoever connects: attached from a new user and
 * pid namespace (nothing mapped), a caller from here is pid 0 and the
 * overflow ids; attached from here, the same program refuses it.  The
 * program then holds the last reference to that pid namespace.
 */
TEST_F(opt, context_credentials_in_the_attachers_namespaces)
{
	struct prog p;
	int lfd, c;
	__u32 port;
	pid_t pid;

	prog_init(&p);
	emit_eq(&p, FD_OFF(pid), 0);
	emit_eq(&p, FD_OFF(uid), 65534);
	emit_eq(&p, FD_OFF(gid), 65534);
	prog_end(&p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	lfd = wsp_listener(self->type, 0, 8, &port);
	ASSERT_LE(0, lfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t inner;

		CHILD_CHECK(unshare(CLONE_NEWUSER | CLONE_NEWPID) == 0);
		inner = fork();
		CHILD_CHECK(inner >= 0);
		if (inner == 0) {
			CHILD_CHECK(getpid() == 1);
			CHILD_CHECK(attach_prog(lfd, &p) == 0);
			_exit(0);
		}
		_exit(wsp_wait_child(inner, WSP_SLOW_MS) ? 1 : 0);
	}
	ASSERT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS * 2));
	EXPECT_EQ(0, dial(self->type, port, NULL, &c));
	EXPECT_EQ(1, drain(lfd));
	close(c);
	/* The same program, attached from here. */
	ASSERT_EQ(0, attach_prog(lfd, &p));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	EXPECT_EQ(1, wsp_stat("filter_accepted"));
	EXPECT_EQ(1, wsp_stat("filter_rejected"));
	close(lfd);
}

/* ---- option memory ----------------------------------------------------- */

/*
 * The program and its bookkeeping are charged to the socket's option
 * memory, as a socket filter is, next to its connect data, and are held
 * to net.core.optmem_max: ENOMEM past it, the old program kept.  The
 * charge goes when the program does.
 */
TEST_F(opt, optmem_charge)
{
	static char data[4000];
	struct prog *big, *mid, *max;
	int ofd, lfd, fd, i;
	char saved[32];
	__u32 port;

	big = calloc(3, sizeof(*big));
	ASSERT_NE(NULL, big);
	mid = big + 1;
	max = big + 2;
	prog_long(big, 1000, WSP_FILTER_ACCEPT);
	prog_long(mid, 300, WSP_FILTER_ACCEPT);
	prog_long(max, BPF_MAXINSNS, WSP_FILTER_ACCEPT);

	/* Per namespace from 6.9; else the global one. */
	ofd = open(OPTMEM_MAX, O_RDWR);
	self->optmem_own = ofd >= 0;
	if (!self->optmem_own)
		ofd = self->init_optmem;
	ASSERT_LE(0, ofd);
	self->optmem_fd = ofd;
	ASSERT_EQ(0, sysctl_fd_get(ofd, saved, sizeof(saved)));
	TH_LOG("optmem_max %ld (%s)", strtol(saved, NULL, 10),
	       self->optmem_own ? "this netns" : "global");
	strcpy(self->optmem_saved, saved);

	lfd = wsp_listener(self->type, 0, 8, &port);
	ASSERT_LE(0, lfd);
	fd = wsp_socket(self->type);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach_ret(lfd, WSP_FILTER_REJECT));

	ASSERT_EQ(0, sysctl_fd_set(ofd, "4096\n"));
	EXPECT_EQ(ENOMEM, attach_err(lfd, big->insn, big->len));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, port, NULL));
	EXPECT_EQ(0, attach_ret(lfd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, dial_once(self->type, port, NULL));
	EXPECT_EQ(1, drain(lfd));
	/* A replaced or detached program gives its charge back. */
	for (i = 0; i < 50; i++) {
		EXPECT_EQ(0, attach_err(lfd, mid->insn, mid->len));
		EXPECT_EQ(0, detach_err(lfd));
	}
	for (i = 0; i < 50; i++) {
		EXPECT_EQ(0, attach_ret(lfd, i & 1 ? WSP_FILTER_ACCEPT :
					WSP_FILTER_PASS));
	}
	/* Caller data and a program share the socket's option memory. */
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data,
				sizeof(data)));
	EXPECT_EQ(ENOMEM, attach_err1(fd, BPF_LD | BPF_IMM, 0));
	ASSERT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data, 0));
	EXPECT_EQ(0, attach_err1(fd, BPF_LD | BPF_IMM, 0));
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data,
				 sizeof(data)));
	EXPECT_EQ(ENOBUFS, errno);
	EXPECT_EQ(0, detach_err(fd));
	EXPECT_EQ(0, setsockopt(fd, SOL_WSP, WSP_CALLER_DATA, data,
				sizeof(data)));

	/* Room enough for the longest program there is. */
	ASSERT_EQ(0, sysctl_fd_set(ofd, "1048576\n"));
	EXPECT_EQ(0, attach_err(lfd, max->insn, max->len));
	EXPECT_EQ(0, dial_once(self->type, port, NULL));
	EXPECT_EQ(0, detach_err(lfd));
	EXPECT_EQ(0, sysctl_fd_set(ofd, saved));
	self->optmem_saved[0] = '\0';
	/* The default limit holds a thousand instructions. */
	EXPECT_EQ(0, attach_err(lfd, big->insn, big->len));
	EXPECT_EQ(0, dial_once(self->type, port, NULL));
	EXPECT_EQ(3, wsp_stat("filter_accepted"));
	EXPECT_EQ(1, wsp_stat("filter_rejected"));
	close(fd);
	close(lfd);
	free(big);
}

/* ---- decisions, on either kind of listener ----------------------------- */

FIXTURE(flt)
{
	int type;
	bool cond;
	int lfd;
	__u32 port;
	int queued;	/* what connect() says when the mode decides */
};

FIXTURE_VARIANT(flt)
{
	int type;
	bool cond;
};

FIXTURE_VARIANT_ADD(flt, stream_auto)
{
	.type = SOCK_STREAM,
	.cond = false,
};

FIXTURE_VARIANT_ADD(flt, stream_cond)
{
	.type = SOCK_STREAM,
	.cond = true,
};

FIXTURE_VARIANT_ADD(flt, seqpacket_auto)
{
	.type = SOCK_SEQPACKET,
	.cond = false,
};

FIXTURE_VARIANT_ADD(flt, seqpacket_cond)
{
	.type = SOCK_SEQPACKET,
	.cond = true,
};

FIXTURE_SETUP(flt)
{
	ASSERT_EQ(0, wsp_private_netns());
	self->type = variant->type;
	self->cond = variant->cond;
	self->queued = variant->cond ? EINPROGRESS : 0;
	self->lfd = wsp_listener_mode(variant->type, 0, 16, &self->port,
				      variant->cond);
	ASSERT_LE(0, self->lfd) TH_LOG("listener: %s", strerror(errno));
}

FIXTURE_TEARDOWN(flt)
{
	wsp_close(&self->lfd);
}

#define EXPECT_FILTER_STATS(acc, rej, def, pass) do {			\
	EXPECT_EQ(acc, wsp_stat("filter_accepted"));			\
	EXPECT_EQ(rej, wsp_stat("filter_rejected"));			\
	EXPECT_EQ(def, wsp_stat("filter_deferred"));			\
	EXPECT_EQ(pass, wsp_stat("filter_passed"));			\
} while (0)

TEST_F(flt, counters_per_verdict)
{
	int c[3];

	/* No program, nothing counted. */
	EXPECT_EQ(self->queued, dial(self->type, self->port, NULL, &c[0]));
	EXPECT_FILTER_STATS(0, 0, 0, 0);
	EXPECT_EQ(1, wsp_stat("requests"));

	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(1, 0, 0, 0);
	EXPECT_EQ(2, wsp_stat("requests"));
	EXPECT_EQ(self->cond ? 1 : 2, wsp_stat("accepted"));

	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_REJECT));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(1, 1, 0, 0);
	/* A refusal by the program is no request. */
	EXPECT_EQ(2, wsp_stat("requests"));

	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_DEFER));
	EXPECT_EQ(EINPROGRESS, dial(self->type, self->port, NULL, &c[1]));
	EXPECT_FILTER_STATS(1, 1, 1, 0);
	EXPECT_EQ(3, wsp_stat("requests"));

	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_PASS));
	EXPECT_EQ(self->queued, dial(self->type, self->port, NULL, &c[2]));
	EXPECT_FILTER_STATS(1, 1, 1, 1);
	EXPECT_EQ(4, wsp_stat("requests"));
	EXPECT_EQ(self->cond ? 1 : 3, wsp_stat("accepted"));

	ASSERT_EQ(0, detach_err(self->lfd));
	EXPECT_EQ(self->queued, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(1, 1, 1, 1);
	EXPECT_EQ(5, wsp_stat("requests"));
	TH_LOG("rejected %lld, deferred %lld", wsp_stat("rejected"),
	       wsp_stat("deferred"));
	close(c[0]);
	close(c[1]);
	close(c[2]);
}

/* Any return value but the four refuses, and counts as refused. */
TEST_F(flt, bogus_return_values_reject)
{
	static const __u32 bogus[] = { 4, 7, 0x100, 0x80000000, 0xffffffff };
	struct sock_filter ret_a[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 5),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct wsp_request r;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bogus); i++) {
		ASSERT_EQ(0, attach_ret(self->lfd, bogus[i]));
		EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port,
						  NULL))
			TH_LOG("returns %#x", bogus[i]);
	}
	ASSERT_EQ(0, attach(self->lfd, ret_a, 2));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(0, 6, 0, 0);
	EXPECT_EQ(0, wsp_stat("requests"));
	EXPECT_EQ(0, wsp_poll1(self->lfd, POLLIN | POLLPRI, 0));
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, proc_backlog(self->lfd));
}

/*
 * Refused by uid: a child that became nobody is refused at once, by a
 * blocking connect and a non-blocking one, and the listener never hears
 * of it: a thread in poll() on it is not woken, poll() shows nothing, the
 * peek has nothing, the FD_ACCEPT eventfd is quiet, no slot is taken.
 * Root's connect is accepted at once.  Then the other way round.
 */
TEST_F(flt, rejected_by_uid_wakes_nobody)
{
	struct wsp_request r;
	struct poller pl;
	long before, after;
	struct prog p;
	int efd, c, s;
	pid_t pid;
	short rev;

	prog_init(&p);
	emit_eq(&p, FD_OFF(uid), 0);
	prog_end(&p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(self->lfd, &p));
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, wsp_event_select(self->lfd, WSP_FD_ACCEPT, efd));
	ASSERT_EQ(0, poller_start(&pl, self->lfd));
	before = poller_wakeups(&pl);
	ASSERT_LE(0, before);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int i, fd;

		CHILD_CHECK(setgroups(0, NULL) == 0);
		CHILD_CHECK(setgid(65534) == 0);
		CHILD_CHECK(setuid(65534) == 0);
		for (i = 0; i < 3; i++)
			CHILD_CHECK(dial_once(self->type, self->port, NULL) ==
				    ECONNREFUSED);
		fd = wsp_socket(self->type);
		CHILD_CHECK(fd >= 0);
		CHILD_CHECK(wsp_connect(fd, self->port) == -1 &&
			    errno == ECONNREFUSED);
		_exit(0);
	}
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS * 2));
	wsp_msleep(QUIET_MS);
	after = poller_wakeups(&pl);
	EXPECT_EQ(before, after);
	EXPECT_EQ(0, wsp_poll1(self->lfd, POLLIN | POLLPRI, 0));
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, wsp_efd_take(efd));
	EXPECT_EQ(0, proc_backlog(self->lfd));
	EXPECT_EQ(-1, wsp_accept_nb(self->lfd));
	EXPECT_FILTER_STATS(0, 4, 0, 0);
	EXPECT_EQ(0, wsp_stat("requests"));

	/* Root is let in at once, and that wakes the poller. */
	EXPECT_EQ(0, dial(self->type, self->port, NULL, &c));
	rev = poller_stop(&pl);
	EXPECT_TRUE(rev > 0 && (rev & POLLIN)) TH_LOG("revents %#x", rev);
	s = accept(self->lfd, NULL, NULL);
	EXPECT_LE(0, s);
	EXPECT_FILTER_STATS(1, 4, 0, 0);
	EXPECT_EQ(1, wsp_stat("requests"));
	close(s);
	close(c);

	/* Only nobody now. */
	prog_init(&p);
	emit_eq(&p, FD_OFF(uid), 65534);
	emit_eq(&p, FD_OFF(gid), 65534);
	prog_end(&p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(self->lfd, &p));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(setgroups(0, NULL) == 0);
		CHILD_CHECK(setgid(65534) == 0);
		CHILD_CHECK(setuid(65534) == 0);
		CHILD_CHECK(dial_once(self->type, self->port, NULL) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, wsp_wait_child(pid, WSP_SLOW_MS * 2));
	EXPECT_EQ(1, drain(self->lfd));
	EXPECT_FILTER_STATS(2, 5, 0, 0);
	close(efd);
}

/*
 * A token in the caller data lets a request in at once, even on a
 * conditional listener; the rest are left to the listener's mode.
 */
TEST_F(flt, accepted_by_caller_data)
{
	static const char * const others[] = {
		"nope", "xWSP!", "WSP", "wsp!", NULL,
	};
	char buf[sizeof(struct wsp_request) + 16];
	struct wsp_request *r = (void *)buf;
	int c, s, o[5], i, n;
	char got[32];
	struct prog p;
	__u32 token;
	socklen_t len;

	memcpy(&token, TOKEN, 4);
	prog_init(&p);
	emit_eq(&p, FD_DATA, token);
	prog_end(&p, WSP_FILTER_ACCEPT, WSP_FILTER_PASS);
	ASSERT_EQ(0, attach_prog(self->lfd, &p));

	EXPECT_EQ(0, dial(self->type, self->port, TOKEN "hello", &c));
	s = wsp_accept_nb(self->lfd);
	ASSERT_LE(0, s);
	n = wsp_get_data(s, WSP_CALLER_DATA, got, sizeof(got));
	EXPECT_EQ(9, n);
	EXPECT_EQ(0, memcmp(got, TOKEN "hello", 9));
	EXPECT_EQ(request_id(c), request_id(s));
	close(s);
	close(c);
	EXPECT_EQ(0, dial(self->type, self->port, TOKEN, &c));
	close(c);

	for (i = 0; i < 5; i++) {
		EXPECT_EQ(self->queued, dial(self->type, self->port,
					     others[i], &o[i]))
			TH_LOG("data \"%s\"", others[i] ? others[i] : "");
	}
	EXPECT_FILTER_STATS(2, 0, 0, 5);
	EXPECT_EQ(7, wsp_stat("requests"));
	if (self->cond) {
		/* Waiting for a verdict, as without a program. */
		EXPECT_EQ(POLLPRI, wsp_poll1(self->lfd, POLLPRI, 0));
		ASSERT_EQ(0, wsp_peek_buf(self->lfd, 0, buf, sizeof(buf),
					  &len));
		EXPECT_EQ(0, r->flags);
		EXPECT_EQ(4, r->data_len);
		EXPECT_EQ(0, memcmp(r->data, "nope", 4));
		EXPECT_EQ(2, wsp_stat("accepted"));
		EXPECT_EQ(1, drain(self->lfd));	/* the second token's */
		EXPECT_EQ(5, proc_backlog(self->lfd));
	} else {
		EXPECT_EQ(6, drain(self->lfd));
		EXPECT_EQ(7, wsp_stat("accepted"));
	}
	for (i = 0; i < 5; i++)
		close(o[i]);
}

/*
 * Deferred by the program: queued as deferred, without EPOLLPRI or any
 * wakeup, and decided later by id, even on an automatic listener.  The
 * connected pair then both name that id.
 */
TEST_F(flt, deferred_then_decided_by_id)
{
	struct wsp_request r1, r2, r;
	struct poller pl;
	long before;
	int c1, c2, s;
	short rev;

	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_DEFER));
	ASSERT_EQ(0, poller_start(&pl, self->lfd));
	before = poller_wakeups(&pl);
	ASSERT_LE(0, before);
	ASSERT_EQ(EINPROGRESS, dial(self->type, self->port, NULL, &c1));
	ASSERT_EQ(EINPROGRESS, dial(self->type, self->port, NULL, &c2));
	EXPECT_EQ(0, wsp_poll1(self->lfd, POLLIN | POLLPRI, QUIET_MS));
	EXPECT_EQ(before, poller_wakeups(&pl));
	EXPECT_FILTER_STATS(0, 0, 2, 0);
	EXPECT_EQ(2, wsp_stat("requests"));
	EXPECT_EQ(2, proc_backlog(self->lfd));
	EXPECT_EQ(-1, wsp_wait_connect(c1, 0));

	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r1));
	EXPECT_EQ(WSP_REQ_DEFERRED, r1.flags);
	EXPECT_EQ(wsp_local_port(c1), r1.caller.swsp_port);
	ASSERT_EQ(0, wsp_peek(self->lfd, r1.id, &r2));
	EXPECT_EQ(WSP_REQ_DEFERRED, r2.flags);
	EXPECT_EQ(wsp_local_port(c2), r2.caller.swsp_port);
	errno = 0;
	EXPECT_EQ(-1, wsp_peek(self->lfd, r2.id, &r));
	EXPECT_EQ(EAGAIN, errno);

	/* The later one first: by id, not by place. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, r2.id, WSP_CF_ACCEPT))
		TH_LOG("verdict by id on a %s listener: %s",
		       self->cond ? "conditional" : "automatic",
		       strerror(errno));
	EXPECT_EQ(0, wsp_wait_connect(c2, WSP_SLOW_MS));
	rev = poller_stop(&pl);
	EXPECT_TRUE(rev > 0 && (rev & POLLIN) && !(rev & POLLPRI))
		TH_LOG("revents %#x", rev);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(r2.id, request_id(s));
	EXPECT_EQ(r2.id, request_id(c2));
	EXPECT_EQ(ENOTCONN, request_id_err(c1));

	ASSERT_EQ(0, wsp_verdict(self->lfd, r1.id, WSP_CF_REJECT));
	EXPECT_EQ(ECONNREFUSED, wsp_wait_connect(c1, WSP_SLOW_MS));
	EXPECT_EQ(0, proc_backlog(self->lfd));
	errno = 0;
	EXPECT_EQ(-1, wsp_verdict(self->lfd, r1.id, WSP_CF_ACCEPT));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(1, wsp_stat("accepted"));
	EXPECT_EQ(1, wsp_stat("rejected"));
	EXPECT_FILTER_STATS(0, 0, 2, 0);
	close(s);
	close(c1);
	close(c2);
}

/* PASS: as if there were no program. */
TEST_F(flt, pass_is_as_if_there_were_no_program)
{
	struct wsp_request r;
	int c, s, round;

	for (round = 0; round < 2; round++) {
		/* With PASS, then with no program at all. */
		ASSERT_EQ(0, round ? detach_err(self->lfd) :
			  attach_ret(self->lfd, WSP_FILTER_PASS));
		EXPECT_EQ(self->queued, dial(self->type, self->port, NULL,
					     &c));
		if (self->cond) {
			EXPECT_EQ(0, wsp_wait_request(self->lfd,
						      WSP_SLOW_MS));
			ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
			EXPECT_EQ(0, r.flags);
			EXPECT_EQ(wsp_local_port(c), r.caller.swsp_port);
			ASSERT_EQ(0, wsp_verdict(self->lfd, r.id,
						 WSP_CF_ACCEPT));
			EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
			EXPECT_EQ(r.id, request_id(c));
		}
		EXPECT_EQ(POLLIN, wsp_poll1(self->lfd, POLLIN | POLLPRI, 0));
		s = wsp_accept_nb(self->lfd);
		ASSERT_LE(0, s);
		EXPECT_EQ(request_id(c), request_id(s));
		close(s);
		close(c);
	}
	EXPECT_FILTER_STATS(0, 0, 0, 1);
	EXPECT_EQ(2, wsp_stat("requests"));
	EXPECT_EQ(2, wsp_stat("accepted"));
}

/* Let in or deferred by the program, a request still needs a slot. */
TEST_F(flt, verdicts_respect_the_backlog_cap)
{
	int c[3];

	ASSERT_EQ(0, listen(self->lfd, 2));
	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_ACCEPT));
	EXPECT_EQ(0, dial(self->type, self->port, NULL, &c[0]));
	EXPECT_EQ(0, dial(self->type, self->port, NULL, &c[1]));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_EQ(1, wsp_stat("backlog_overflows"));
	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_DEFER));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_EQ(2, wsp_stat("backlog_overflows"));
	EXPECT_EQ(2, drain(self->lfd));
	EXPECT_EQ(EINPROGRESS, dial(self->type, self->port, NULL, &c[2]));
	EXPECT_EQ(3, wsp_stat("requests"));
	EXPECT_EQ(0, wsp_stat("filter_rejected"));
	close(c[0]);
	close(c[1]);
	close(c[2]);
}

/* A socket refused by a program is free to try again. */
TEST_F(flt, refused_client_connects_again)
{
	int c;

	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_REJECT));
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	EXPECT_EQ(ECONNREFUSED, wsp_connect_nb(c, self->port));
	EXPECT_EQ(ECONNREFUSED, wsp_connect_nb(c, self->port));
	ASSERT_EQ(0, detach_err(self->lfd));
	EXPECT_EQ(self->queued, wsp_connect_nb(c, self->port));
	if (self->cond) {
		ASSERT_EQ(0, wsp_decide_oldest(self->lfd, WSP_CF_ACCEPT));
		EXPECT_EQ(0, wsp_wait_connect(c, WSP_SLOW_MS));
	}
	EXPECT_NE(0, request_id(c));
	EXPECT_EQ(1, drain(self->lfd));
	EXPECT_FILTER_STATS(0, 2, 0, 0);
	close(c);
}

/* "Reject when backlog_count >= 2": the third waits for a free slot. */
TEST_F(flt, context_backlog_count)
{
	struct prog p;
	int c[4], s;

	prog_init(&p);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, FD_OFF(backlog_count));
	emit_check(&p, BPF_JGE | BPF_K, 2, false);
	prog_end(&p, WSP_FILTER_PASS, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(self->lfd, &p));
	EXPECT_EQ(self->queued, dial(self->type, self->port, NULL, &c[0]));
	EXPECT_EQ(self->queued, dial(self->type, self->port, NULL, &c[1]));
	EXPECT_EQ(ECONNREFUSED, dial(self->type, self->port, NULL, &c[2]));
	EXPECT_EQ(2, proc_backlog(self->lfd));
	EXPECT_FILTER_STATS(0, 1, 0, 2);
	EXPECT_EQ(0, wsp_stat("backlog_overflows"));
	ASSERT_EQ(0, self->cond ? wsp_decide_oldest(self->lfd, WSP_CF_ACCEPT) :
		  0);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(1, proc_backlog(self->lfd));
	EXPECT_EQ(self->queued, dial(self->type, self->port, NULL, &c[3]));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(0, 2, 0, 3);
	close(s);
	close(c[0]);
	close(c[1]);
	close(c[3]);
}

/* ---- races ------------------------------------------------------------- */

#define NR_RACE_PROGS	6

struct flip_race {
	int type;
	__u32 port;
	int lfd;
	volatile int stop;
	struct prog progs[NR_RACE_PROGS];
	pthread_mutex_t lock;
	long ok, inprogress, refused, other;
	long attach_errors, detach_errors;
};

/* Returns ACCEPT, PASS, DEFER or a bogus value by the caller's port,
 * after some work, so that the program runs a while.
 */
static void prog_by_port(struct prog *p, unsigned int work)
{
	unsigned int i;

	prog_init(p);
	emit(p, BPF_LD | BPF_W | BPF_ABS, FD_OFF(caller_port));
	emit(p, BPF_MISC | BPF_TAX, 0);
	for (i = 0; i < work; i++)
		emit(p, BPF_ALU | BPF_ADD | BPF_K, 4);
	emit(p, BPF_MISC | BPF_TXA, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 3);
	emit_jmp(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
	emit(p, BPF_RET | BPF_K, WSP_FILTER_ACCEPT);
	emit_jmp(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1);
	emit(p, BPF_RET | BPF_K, WSP_FILTER_DEFER);
	emit_jmp(p, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1);
	emit(p, BPF_RET | BPF_K, WSP_FILTER_PASS);
	emit(p, BPF_RET | BPF_K, 9);
}

static void *flip_main(void *arg)
{
	struct flip_race *r = arg;
	unsigned int seed = gettid();
	long aerr = 0, derr = 0;
	int e;

	while (!r->stop) {
		if (rand_r(&seed) % 4 == 0) {
			e = detach_err(r->lfd);
			if (e && e != ENOENT)
				derr++;
			continue;
		}
		if (attach_prog(r->lfd,
				&r->progs[rand_r(&seed) % NR_RACE_PROGS]))
			aerr++;
	}
	pthread_mutex_lock(&r->lock);
	r->attach_errors += aerr;
	r->detach_errors += derr;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void *flip_dial_main(void *arg)
{
	struct flip_race *r = arg;
	long ok = 0, inprogress = 0, refused = 0, other = 0;

	while (!r->stop) {
		switch (dial_once(r->type, r->port, NULL)) {
		case 0:
			ok++;
			break;
		case EINPROGRESS:
			inprogress++;
			break;
		case ECONNREFUSED:
			refused++;
			break;
		default:
			other++;
		}
	}
	pthread_mutex_lock(&r->lock);
	r->ok += ok;
	r->inprogress += inprogress;
	r->refused += refused;
	r->other += other;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Decides what waits, and takes what is accepted. */
static void *flip_server_main(void *arg)
{
	struct flip_race *r = arg;
	struct wsp_request req;
	unsigned int n = 0;

	while (!r->stop) {
		if (!wsp_peek(r->lfd, 0, &req))
			wsp_verdict(r->lfd, req.id, n++ & 1 ? WSP_CF_ACCEPT :
				    WSP_CF_REJECT);
		drain(r->lfd);
	}
	return NULL;
}

/*
 * Two threads replace and detach the listener's program while two
 * connect and one decides and accepts.  Every connect is counted once:
 * refused by a program, refused for a full backlog, or a request.
 */
TEST_F(flt, race_replace_and_detach_vs_connect)
{
	long long total, requests, frej, over, fsum;
	struct flip_race *r;
	pthread_t t[5];
	int i, joined;

	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	r->type = self->type;
	r->port = self->port;
	r->lfd = self->lfd;
	pthread_mutex_init(&r->lock, NULL);
	prog_long(&r->progs[0], 1, WSP_FILTER_ACCEPT);
	prog_long(&r->progs[1], 1, WSP_FILTER_REJECT);
	prog_long(&r->progs[2], 1, WSP_FILTER_DEFER);
	prog_long(&r->progs[3], 1, WSP_FILTER_PASS);
	prog_long(&r->progs[4], 2, 0x1234);
	prog_by_port(&r->progs[5], 200);

	ASSERT_EQ(0, pthread_create(&t[0], NULL, flip_main, r));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, flip_main, r));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, flip_dial_main, r));
	ASSERT_EQ(0, pthread_create(&t[3], NULL, flip_dial_main, r));
	ASSERT_EQ(0, pthread_create(&t[4], NULL, flip_server_main, r));
	wsp_msleep(RACE_MS);
	r->stop = 1;
	for (i = 0, joined = 0; i < 5; i++)
		joined += !pthread_join(t[i], NULL);
	ASSERT_EQ(5, joined);

	total = r->ok + r->inprogress + r->refused + r->other;
	requests = wsp_stat("requests");
	frej = wsp_stat("filter_rejected");
	over = wsp_stat("backlog_overflows");
	fsum = wsp_stat("filter_accepted") + frej +
	       wsp_stat("filter_deferred") + wsp_stat("filter_passed");
	TH_LOG("%lld connects: %ld at once, %ld queued, %ld refused; %lld requests, %lld refused by a program, %lld overflows",
	       total, r->ok, r->inprogress, r->refused, requests, frej, over);
	EXPECT_EQ(0, r->attach_errors);
	EXPECT_EQ(0, r->detach_errors);
	EXPECT_EQ(0, r->other);
	EXPECT_LT(0, total);
	EXPECT_EQ(total, requests + frej + over);
	EXPECT_LE(frej + over, r->refused);
	EXPECT_LE(fsum, total);

	/* Whatever was left attached, a fresh one decides now. */
	ASSERT_EQ(0, attach_ret(self->lfd, WSP_FILTER_REJECT));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_EQ(frej + 1, wsp_stat("filter_rejected"));
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct close_race {
	int type;
	__u32 port;
	volatile int lfd;
	volatile int stop;
	const struct prog *prog;
	pthread_mutex_t lock;
	long ok, refused, hung, other, attach_other;
};

static void *close_dial_main(void *arg)
{
	struct close_race *r = arg;
	long ok = 0, refused = 0, hung = 0, other = 0;
	int fd, e;

	while (!r->stop) {
		e = dial(r->type, r->port, NULL, &fd);
		if (e == EINPROGRESS)
			e = wsp_wait_connect(fd, WSP_SLOW_MS * 2);
		if (fd >= 0)
			close(fd);
		if (e == 0)
			ok++;
		else if (e == ECONNREFUSED)
			refused++;
		else if (e == -1)
			hung++;
		else
			other++;
	}
	pthread_mutex_lock(&r->lock);
	r->ok += ok;
	r->refused += refused;
	r->hung += hung;
	r->other += other;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Attaches to whatever the listener's fd number is now. */
static void *close_attach_main(void *arg)
{
	struct close_race *r = arg;
	long bad = 0;

	while (!r->stop)
		if (attach_prog(r->lfd, r->prog) && errno != EBADF &&
		    errno != ENOTSOCK)
			bad++;
	pthread_mutex_lock(&r->lock);
	r->attach_other += bad;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/*
 * The listener is closed, again and again, while connects run its
 * program (a long one, that defers some requests) and a thread attaches
 * to it: no connect may hang or fail otherwise than refused.
 */
TEST_F(opt, race_listener_close_vs_filter)
{
	struct close_race r = { .type = self->type };
	long long end;
	struct prog *p;
	pthread_t t[3];
	int lfd, rounds = 0, i, joined, tries;

	p = calloc(1, sizeof(*p));
	ASSERT_NE(NULL, p);
	prog_by_port(p, 500);
	r.prog = p;
	pthread_mutex_init(&r.lock, NULL);
	/* Below the ephemeral range: no client takes the port meanwhile. */
	lfd = wsp_listener(self->type, 4000, 64, &r.port);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, attach_prog(lfd, p));
	r.lfd = lfd;
	ASSERT_EQ(0, pthread_create(&t[0], NULL, close_dial_main, &r));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, close_dial_main, &r));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, close_attach_main, &r));
	end = wsp_now_ms() + 2000;
	while (wsp_now_ms() < end) {
		wsp_msleep(rand() % 4);
		close(lfd);
		lfd = wsp_socket(self->type);
		ASSERT_LE(0, lfd);
		ASSERT_EQ(0, attach_prog(lfd, p));
		/* The attacher's setsockopt() may still hold the old
		 * listener's file, and so its port, for a moment.
		 */
		for (tries = 0; wsp_bind(lfd, r.port) && errno == EADDRINUSE &&
		     tries < 1000; tries++)
			wsp_msleep(1);
		ASSERT_GT(1000, tries);
		ASSERT_EQ(0, wsp_local_port(lfd) == r.port ? 0 : -1)
			TH_LOG("bind: %s", strerror(errno));
		ASSERT_EQ(0, listen(lfd, 64));
		r.lfd = lfd;
		rounds++;
	}
	/* The last listener goes too: what it deferred is refused. */
	r.stop = 1;
	close(lfd);
	for (i = 0, joined = 0; i < 3; i++)
		joined += !pthread_join(t[i], NULL);
	ASSERT_EQ(3, joined);
	TH_LOG("%d listeners; %ld connected, %ld refused", rounds, r.ok,
	       r.refused);
	EXPECT_EQ(0, r.hung);
	EXPECT_EQ(0, r.other);
	EXPECT_EQ(0, r.attach_other);
	EXPECT_LT(0, r.ok);
	EXPECT_LT(0, rounds);
	pthread_mutex_destroy(&r.lock);
	free(p);
}

/* ---- the same decisions with and without the JIT ----------------------- */

FIXTURE(jit)
{
	int type;
	int lfd;
	__u32 port;
	int jit_fd;
	bool restore;
	char saved[16];
	char skip[160];
};

FIXTURE_VARIANT(jit)
{
	int type;
	int jit;
};

FIXTURE_VARIANT_ADD(jit, stream_jit_on)
{
	.type = SOCK_STREAM,
	.jit = 1,
};

FIXTURE_VARIANT_ADD(jit, stream_jit_off)
{
	.type = SOCK_STREAM,
	.jit = 0,
};

FIXTURE_VARIANT_ADD(jit, seqpacket_jit_on)
{
	.type = SOCK_SEQPACKET,
	.jit = 1,
};

FIXTURE_VARIANT_ADD(jit, seqpacket_jit_off)
{
	.type = SOCK_SEQPACKET,
	.jit = 0,
};

/*
 * bpf_jit_enable is global, and the choice is made when a program is
 * attached: set it before, and put it back in the teardown.  A kernel
 * without a JIT has no such file; one built with BPF_JIT_ALWAYS_ON keeps
 * it at 1.  The variant that cannot be had is skipped.
 */
FIXTURE_SETUP(jit)
{
	char val[8], now[16];

	self->type = variant->type;
	self->lfd = -1;
	self->jit_fd = open(JIT_ENABLE, O_RDWR);
	if (self->jit_fd < 0) {
		ASSERT_EQ(ENOENT, errno);
		snprintf(self->skip, sizeof(self->skip),
			 "no BPF JIT in this kernel (no %s)", JIT_ENABLE);
		return;
	}
	ASSERT_EQ(0, sysctl_fd_get(self->jit_fd, self->saved,
				   sizeof(self->saved)));
	snprintf(val, sizeof(val), "%d\n", variant->jit);
	if (sysctl_fd_set(self->jit_fd, val)) {
		ASSERT_TRUE(errno == EINVAL || errno == EPERM);
		snprintf(self->skip, sizeof(self->skip),
			 "bpf_jit_enable cannot be %d here (%s): BPF_JIT_ALWAYS_ON",
			 variant->jit, strerror(errno));
		return;
	}
	self->restore = true;
	ASSERT_EQ(0, sysctl_fd_get(self->jit_fd, now, sizeof(now)));
	ASSERT_EQ(variant->jit, atoi(now));
	ASSERT_EQ(0, wsp_private_netns());
	self->lfd = wsp_cond_listener(variant->type, 0, 16, &self->port);
	ASSERT_LE(0, self->lfd);
}

FIXTURE_TEARDOWN(jit)
{
	wsp_close(&self->lfd);
	if (self->restore && sysctl_fd_set(self->jit_fd, self->saved))
		TH_LOG("bpf_jit_enable not restored to %s", self->saved);
	if (self->jit_fd >= 0)
		close(self->jit_fd);
}


/* The first data word picks the verdict: the four, and a bogus one. */
TEST_F(jit, decisions)
{
	static const char * const words[] = { "acc!", "rej!", "def!", "pas!",
					      "bad!" };
	static const __u32 verdicts[] = {
		WSP_FILTER_ACCEPT, WSP_FILTER_REJECT, WSP_FILTER_DEFER,
		WSP_FILTER_PASS, 0xbad,
	};
	const int outcome[] = { 0, ECONNREFUSED, EINPROGRESS, EINPROGRESS,
				ECONNREFUSED };
	struct wsp_request r;
	struct prog p;
	int c[5], i;
	__u32 w;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	prog_init(&p);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, FD_DATA);
	for (i = 0; i < 5; i++) {
		memcpy(&w, words[i], 4);
		emit_jmp(&p, BPF_JMP | BPF_JEQ | BPF_K, w, 0, 1);
		emit(&p, BPF_RET | BPF_K, verdicts[i]);
	}
	emit(&p, BPF_RET | BPF_K, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(self->lfd, &p));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(outcome[i], dial(self->type, self->port, words[i],
					   &c[i]))
			TH_LOG("%s", words[i]);
	}
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, "none"));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(1, 4, 1, 1);
	/* The deferred one, then the passed one, in arrival order. */
	ASSERT_EQ(0, wsp_peek(self->lfd, 0, &r));
	EXPECT_EQ(WSP_REQ_DEFERRED, r.flags);
	EXPECT_EQ(wsp_local_port(c[2]), r.caller.swsp_port);
	ASSERT_EQ(0, wsp_peek(self->lfd, r.id, &r));
	EXPECT_EQ(0, r.flags);
	EXPECT_EQ(wsp_local_port(c[3]), r.caller.swsp_port);
	EXPECT_EQ(1, drain(self->lfd));
	for (i = 0; i < 5; i++)
		if (c[i] >= 0)
			close(c[i]);
}

/* What the program below computes, in C. */
static __u32 alu_expect(__u32 w0, __u32 w1, __u32 port)
{
	__u32 a, x, m0, m1, m2;

	a = w1 + w0;
	a *= 3;
	m0 = a;
	a ^= 0x5a5a5a5a;
	a >>= 3;
	a |= 0x10;
	a &= 0xfffff0ff;
	a <<= 2;
	a -= 7;
	a /= 5;
	a %= 1000003;
	m1 = a;
	x = m0;
	a = m1;
	a -= x;
	a = 0U - a;
	m2 = x;
	x = a;
	a = port;
	a *= x;
	x = 13;
	a %= x;
	a += 0x1000;
	x = m2;
	a ^= x;
	x = 4;
	a <<= x;
	x = 1;
	a >>= x;
	x = 0x00ff00ff;
	a |= x;
	x = 0x0ff00ff0;
	a &= x;
	x = 3;
	a += x;
	a -= x;
	a -= x;
	x = 7;
	a /= x;
	return a;
}

/*
 * Arithmetic on two data words and the caller's port, through the
 * scratch memory, with every ALU operation; then the jumps, each both
 * ways, unsigned.  Accepted when the result is the one C computes.
 */
static void alu_prog(struct prog *p, __u32 expect)
{
	prog_init(p);
	emit(p, BPF_LD | BPF_W | BPF_ABS, FD_DATA);
	emit(p, BPF_MISC | BPF_TAX, 0);
	emit(p, BPF_LD | BPF_W | BPF_ABS, FD_DATA + 4);
	emit(p, BPF_ALU | BPF_ADD | BPF_X, 0);
	emit(p, BPF_ALU | BPF_MUL | BPF_K, 3);
	emit(p, BPF_ST, 0);
	emit(p, BPF_ALU | BPF_XOR | BPF_K, 0x5a5a5a5a);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, 3);
	emit(p, BPF_ALU | BPF_OR | BPF_K, 0x10);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0xfffff0ff);
	emit(p, BPF_ALU | BPF_LSH | BPF_K, 2);
	emit(p, BPF_ALU | BPF_SUB | BPF_K, 7);
	emit(p, BPF_LDX | BPF_IMM, 5);
	emit(p, BPF_ALU | BPF_DIV | BPF_X, 0);
	emit(p, BPF_ALU | BPF_MOD | BPF_K, 1000003);
	emit(p, BPF_ST, 1);
	emit(p, BPF_LDX | BPF_MEM, 0);
	emit(p, BPF_LD | BPF_MEM, 1);
	emit(p, BPF_ALU | BPF_SUB | BPF_X, 0);
	emit(p, BPF_ALU | BPF_NEG, 0);
	emit(p, BPF_STX, 2);
	emit(p, BPF_MISC | BPF_TAX, 0);
	emit(p, BPF_LD | BPF_W | BPF_ABS, FD_OFF(caller_port));
	emit(p, BPF_ALU | BPF_MUL | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 13);
	emit(p, BPF_ALU | BPF_MOD | BPF_X, 0);
	emit(p, BPF_ALU | BPF_ADD | BPF_K, 0x1000);
	emit(p, BPF_LDX | BPF_MEM, 2);
	emit(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 4);
	emit(p, BPF_ALU | BPF_LSH | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 1);
	emit(p, BPF_ALU | BPF_RSH | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 0x00ff00ff);
	emit(p, BPF_ALU | BPF_OR | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 0x0ff00ff0);
	emit(p, BPF_ALU | BPF_AND | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 3);
	emit(p, BPF_ALU | BPF_ADD | BPF_X, 0);
	emit(p, BPF_ALU | BPF_SUB | BPF_X, 0);
	emit(p, BPF_ALU | BPF_SUB | BPF_X, 0);
	emit(p, BPF_LDX | BPF_IMM, 7);
	emit(p, BPF_ALU | BPF_DIV | BPF_X, 0);
	emit_check(p, BPF_JEQ | BPF_K, expect, true);
	emit_check(p, BPF_JEQ | BPF_K, expect + 1, false);

	/* Jumps: unsigned, K and X, taken and not. */
	emit(p, BPF_LD | BPF_IMM, 0x80000000);
	emit_check(p, BPF_JGT | BPF_K, 0x7fffffff, true);
	emit_check(p, BPF_JGT | BPF_K, 0x80000000, false);
	emit_check(p, BPF_JGE | BPF_K, 0x80000000, true);
	emit_check(p, BPF_JGE | BPF_K, 0x80000001, false);
	emit_check(p, BPF_JSET | BPF_K, 0x80000001, true);
	emit_check(p, BPF_JSET | BPF_K, 0x7fffffff, false);
	emit_check(p, BPF_JEQ | BPF_K, 0x80000000, true);
	emit(p, BPF_LDX | BPF_IMM, 0x80000000);
	emit_check(p, BPF_JEQ | BPF_X, 0, true);
	emit_check(p, BPF_JGT | BPF_X, 0, false);
	emit_check(p, BPF_JGE | BPF_X, 0, true);
	emit(p, BPF_LDX | BPF_IMM, 1);
	emit_check(p, BPF_JSET | BPF_X, 0, false);
	emit_check(p, BPF_JGT | BPF_X, 0, true);
	emit_check(p, BPF_JEQ | BPF_X, 0, false);
	emit(p, BPF_LDX | BPF_IMM, 0x80000001);
	emit_check(p, BPF_JGE | BPF_X, 0, false);
	emit_check(p, BPF_JSET | BPF_X, 0, true);
	/* JA over a refusal. */
	emit(p, BPF_JMP | BPF_JA, 1);
	emit(p, BPF_RET | BPF_K, WSP_FILTER_REJECT);
	prog_end(p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
}

TEST_F(jit, alu_jumps_and_scratch_memory)
{
	__u32 words[2] = { 0x12345678, 0x9abcdef0 };
	__u32 port, expect, d;
	struct prog p;
	int c, e, s;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_bind(c, 0));
	port = wsp_local_port(c);
	ASSERT_EQ(0, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, words,
				sizeof(words)));
	alu_prog(&p, alu_expect(words[0], words[1], port));
	ASSERT_EQ(0, attach_prog(self->lfd, &p));
	e = wsp_connect_nb(c, self->port);
	EXPECT_EQ(0, e) TH_LOG("expected %#x", alu_expect(words[0], words[1],
							  port));
	s = wsp_accept_nb(self->lfd);
	EXPECT_LE(0, s);
	if (s >= 0)
		close(s);
	close(c);
	/* Other data, another result (C says which): refused. */
	c = wsp_socket(self->type);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, wsp_bind(c, 0));
	expect = alu_expect(words[0], words[1], port);
	for (d = 1; d < 100000; d++)
		if (alu_expect(words[0], words[1] + d, wsp_local_port(c)) !=
		    expect)
			break;
	ASSERT_GT(100000, d);
	words[1] += d;
	ASSERT_EQ(0, setsockopt(c, SOL_WSP, WSP_CALLER_DATA, words,
				sizeof(words)));
	EXPECT_EQ(ECONNREFUSED, wsp_connect_nb(c, self->port));
	close(c);
	EXPECT_FILTER_STATS(1, 1, 0, 0);
}

/* A division by an X of 0 ends the program with 0: a refusal. */
TEST_F(jit, runtime_division_by_zero_rejects)
{
	static const __u16 ops[] = { BPF_DIV, BPF_MOD };
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, FD_DATA),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_IMM, 100),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),	/* or MOD */
		BPF_STMT(BPF_LD | BPF_IMM, WSP_FILTER_ACCEPT),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	__u32 four = 4, zero = 0;
	unsigned int i;
	int c;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	for (i = 0; i < 2; i++) {
		prog[3].code = BPF_ALU | ops[i] | BPF_X;
		ASSERT_EQ(0, attach(self->lfd, prog, 6));
		EXPECT_EQ(0, dial_data(self->type, self->port, &four,
				       sizeof(four), &c));
		if (c >= 0)
			close(c);
		EXPECT_EQ(ECONNREFUSED, dial_data(self->type, self->port,
						  &zero, sizeof(zero), &c));
		EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port,
						  NULL));
	}
	EXPECT_FILTER_STATS(2, 4, 0, 0);
	EXPECT_EQ(2, drain(self->lfd));
}

/* A long straight program, counted to its end. */
TEST_F(jit, long_program)
{
	struct prog *p;
	unsigned int i;
	int c;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	p = calloc(1, sizeof(*p));
	ASSERT_NE(NULL, p);
	prog_init(p);
	emit(p, BPF_LD | BPF_IMM, 0);
	for (i = 0; i < 1500; i++)
		emit(p, BPF_ALU | BPF_ADD | BPF_K, i);
	emit_check(p, BPF_JEQ | BPF_K, 1500 * 1499 / 2, true);
	prog_end(p, WSP_FILTER_ACCEPT, WSP_FILTER_REJECT);
	ASSERT_EQ(0, attach_prog(self->lfd, p));
	EXPECT_EQ(0, dial(self->type, self->port, NULL, &c));
	close(c);
	/* One off, at the very start.  Detached first: two such programs
	 * at once are more than 6.1's default optmem_max.
	 */
	ASSERT_EQ(0, detach_err(self->lfd));
	p->insn[0].k = 1;
	ASSERT_EQ(0, attach_prog(self->lfd, p));
	EXPECT_EQ(ECONNREFUSED, dial_once(self->type, self->port, NULL));
	EXPECT_FILTER_STATS(1, 1, 0, 0);
	EXPECT_EQ(1, drain(self->lfd));
	free(p);
}

TEST_HARNESS_MAIN
