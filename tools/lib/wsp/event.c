// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: Winsock network events.  The event object is an eventfd, which
 * WSP_EVENT_SELECT has the kernel signal; waiting on several of them is
 * epoll.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "libwsp.h"

int wsp_event_create(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int wsp_event_set(int efd)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(efd, &one, sizeof(one));
	if (n == sizeof(one))
		return 0;
	/* EAGAIN: the counter is at its maximum, the event is set. */
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

int wsp_event_reset(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t val;

	/* Only read a signalled event: an eventfd may be blocking. */
	if (poll(&pfd, 1, 0) < 0)
		return -1;
	if (pfd.revents & POLLNVAL) {
		errno = EBADF;
		return -1;
	}
	if (!(pfd.revents & POLLIN))
		return 0;
	if (read(efd, &val, sizeof(val)) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

int wsp_event_select(int fd, int efd, uint32_t mask)
{
	struct wsp_event_select sel = { .mask = mask, .eventfd = efd };

	return setsockopt(fd, SOL_WSP, WSP_EVENT_SELECT, &sel, sizeof(sel));
}

int wsp_enum_network_events(int fd, int efd, struct wsp_network_events *ev)
{
	socklen_t len = sizeof(*ev);

	/*
	 * Reset the event object first: an event recorded after the reset
	 * signals it again, so that none is lost between the two calls.
	 */
	if (efd != -1 && wsp_event_reset(efd))
		return -1;
	return getsockopt(fd, SOL_WSP, WSP_NETWORK_EVENTS, ev, &len);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @deadline (-1: none), for epoll_wait(). */
static int remaining_ms(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : left;
}

static int watch(int ep, int efd, unsigned int idx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx };

	return epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
}

int wsp_wait_for_events(const int *efds, unsigned int n, int wait_all,
			int timeout_ms)
{
	struct epoll_event evs[WSP_MAXIMUM_WAIT_EVENTS];
	bool seen[WSP_MAXIMUM_WAIT_EVENTS];
	unsigned int i, nseen = 0, lowest;
	int ep, r, j, err, ret = -1;
	long long deadline;

	if (!efds || !n || n > WSP_MAXIMUM_WAIT_EVENTS) {
		errno = EINVAL;
		return -1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (watch(ep, efds[i], i)) {
			/* The same descriptor twice, as Winsock refuses. */
			if (errno == EEXIST)
				errno = EINVAL;
			goto out;
		}
	}
	memset(seen, 0, sizeof(seen));
	deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		r = epoll_wait(ep, evs, n, remaining_ms(deadline));
		if (r < 0)
			goto out;
		if (!r) {
			errno = ETIMEDOUT;
			goto out;
		}
		if (!wait_all) {
			lowest = n;
			for (j = 0; j < r; j++)
				if (evs[j].data.u32 < lowest)
					lowest = evs[j].data.u32;
			ret = lowest;
			goto out;
		}
		/*
		 * Wait for all: stop watching each one seen signalled, until
		 * every one has been; then check that they all still are.
		 */
		for (j = 0; j < r; j++) {
			i = evs[j].data.u32;
			if (seen[i])
				continue;
			seen[i] = true;
			nseen++;
			if (epoll_ctl(ep, EPOLL_CTL_DEL, efds[i], NULL))
				goto out;
		}
		if (nseen < n)
			continue;
		for (i = 0; i < n; i++)
			if (watch(ep, efds[i], i))
				goto out;
		memset(seen, 0, sizeof(seen));
		nseen = 0;
		r = epoll_wait(ep, evs, n, 0);
		if (r < 0)
			goto out;
		if ((unsigned int)r == n) {
			ret = 0;
			goto out;
		}
		for (j = 0; j < r; j++) {
			i = evs[j].data.u32;
			seen[i] = true;
			nseen++;
			if (epoll_ctl(ep, EPOLL_CTL_DEL, efds[i], NULL))
				goto out;
		}
	}
out:
	err = errno;
	close(ep);
	errno = err;
	return ret;
}
