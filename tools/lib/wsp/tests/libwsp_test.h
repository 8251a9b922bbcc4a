/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Helpers for the libwsp tests (kselftest harness programs).
 *
 * Helpers return -1 with errno set on failure and never use the harness
 * ASSERT_* macros: they may run in threads.  Listeners bind port 0, so
 * that tests never meet each other's ports.
 */
#ifndef _LIBWSP_TEST_H
#define _LIBWSP_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libwsp.h"
#include "kselftest_harness.h"

/* "Should happen now" on a slow TCG guest. */
#define SLOW_MS		5000

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline int close_fd(int *fd)
{
	int r = 0;

	if (*fd >= 0)
		r = close(*fd);
	*fd = -1;
	return r;
}

/* A listener on a free port, conditional or not; *port gets the port. */
static inline int listener(int type, bool conditional, uint32_t *port)
{
	int fd, e;

	fd = wsp_socket(type);
	if (fd < 0)
		return -1;
	if ((conditional && wsp_set_conditional(fd, 1)) || wsp_bind(fd, 0) ||
	    listen(fd, 64) || wsp_local_port(fd, port))
		goto err;
	return fd;
err:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Wait until @lfd has an undecided request (POLLPRI); 0 or -1. */
static inline int wait_request(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLPRI };
	int r = poll(&pfd, 1, SLOW_MS);

	if (r < 0)
		return -1;
	if (!r) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/*
 * A non-blocking client with @len bytes of caller data and a request
 * queued at @port: its fd, or -1.
 */
static inline int pending_client(int type, uint32_t port, const void *data,
				 size_t len)
{
	int fd, e;

	fd = wsp_socket(type | SOCK_NONBLOCK);
	if (fd < 0)
		return -1;
	if (!wsp_connect_ex(fd, port, data, len, NULL, NULL, NULL)) {
		errno = EISCONN;	/* connected at once: not conditional */
		goto err;
	}
	if (errno != EINPROGRESS)
		goto err;
	return fd;
err:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Outcome of a non-blocking connect: SO_ERROR, or -1 on a hang. */
static inline int connect_outcome(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = -1;

	if (poll(&pfd, 1, SLOW_MS) != 1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -1;
	return err;
}

/* ---- a blocking client in a thread: wsp_connect_ex() -------------------- */

struct client {
	pthread_t		thread;
	int			type;
	uint32_t		port;
	const void		*data;
	size_t			len;
	const struct wsp_qos	*qos;
	size_t			callee_size;	/* 0: sizeof(callee) */
	/* results */
	int			fd;
	int			ret;
	int			err;
	char			callee[8192];
	size_t			callee_len;
	uint64_t		id;
};

static inline void *client_main(void *arg)
{
	struct client *c = arg;

	c->fd = wsp_socket(c->type);
	if (c->fd < 0) {
		c->ret = -1;
		c->err = errno;
		return NULL;
	}
	c->callee_len = c->callee_size ? c->callee_size : sizeof(c->callee);
	c->ret = wsp_connect_ex(c->fd, c->port, c->data, c->len, c->callee,
				&c->callee_len, c->qos);
	c->err = c->ret ? errno : 0;
	if (!c->ret && wsp_request_id(c->fd, &c->id))
		c->id = 0;
	return NULL;
}

static inline int client_start(struct client *c, int type, uint32_t port,
			       const void *data, size_t len)
{
	c->type = type;
	c->port = port;
	c->data = data;
	c->len = len;
	c->fd = -1;
	errno = pthread_create(&c->thread, NULL, client_main, c);
	return errno ? -1 : 0;
}

static inline void client_join(struct client *c)
{
	pthread_join(c->thread, NULL);
}

#endif /* _LIBWSP_TEST_H */
