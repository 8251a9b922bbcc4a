// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: WSAAccept over WSP_PEEK_REQUEST and WSP_VERDICT, and those two
 * options themselves.
 *
 * wsp_accept() with a condition peeks the oldest undecided request, gives
 * it to the condition and hands its answer to the kernel as the verdict.
 * An accepted request's socket then joins the listener's accept queue,
 * behind whatever other connections wait there, and the call takes
 * sockets from that queue until it has its own.
 *
 * Several threads may do this on one listener, so the library keeps a
 * registry, under one mutex:
 *
 * - busy: the requests some call is deciding (its condition runs) or has
 *   accepted and waits for (claimed).  A call presents only requests no
 *   other call is busy with; the entries live on the calls' stacks.
 * - parked: sockets accept() returned to one call that belong to another:
 *   those of claimed requests, kept for their claimant, and any other
 *   connection a claimant met before its own, kept for the next call.
 *
 * Every accept() the library makes runs under the mutex and only after
 * poll() says the listener has a connection, so it never blocks (unless
 * something outside libwsp takes that connection in between).  Waiting is
 * done outside the mutex, on an edge-triggered epoll watch of the
 * listener armed before the look that found nothing: any connection or
 * request that comes after that look wakes it.  So does the library's own
 * event, written when a call lets go of a request it left undecided (its
 * condition failed), which other calls had passed over as busy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "libwsp.h"

/* Caller data room of the first peek; it grows to what a request needs. */
#define PEEK_DATA_INIT	256

/* A listener, as long as it is open: its socket inode. */
struct lsn_id {
	dev_t		dev;
	ino_t		ino;
};

/* A connection accept() returned. */
struct conn {
	int			fd;
	uint64_t		id;	/* its WSP_REQUEST_ID, 0 if unknown */
	struct sockaddr_wsp	addr;
	socklen_t		addrlen;
};

struct parked {
	struct parked		*next;
	struct lsn_id		lsn;
	int			lfd;	/* the listener's fd when parked */
	struct conn		conn;
};

struct busy {
	struct busy		*next;
	struct lsn_id		lsn;
	uint64_t		id;
	bool			claimed;
	pthread_t		thread;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static struct parked *parked_head;	/* oldest first */
static struct busy *busy_head;
/* Wakes the waiting calls when a busy request is free again; or -1. */
static int reg_wake = -1;

/* ---- the registry, across fork() ---------------------------------------- */

static void reg_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void reg_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

/* In the child only the forking thread lives on: forget the others' calls. */
static void reg_child(void)
{
	struct busy **bp = &busy_head, *b;

	while ((b = *bp)) {
		if (pthread_equal(b->thread, pthread_self()))
			bp = &b->next;
		else
			*bp = b->next;
	}
	pthread_mutex_unlock(&reg_lock);
}

static void reg_init(void)
{
	int err = errno;

	pthread_atfork(reg_prepare, reg_parent, reg_child);
	reg_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	errno = err;
}

/* ---- the registry ------------------------------------------------------- */

static int lsn_of(int lfd, struct lsn_id *lsn)
{
	struct stat st;

	if (fstat(lfd, &st))
		return -1;
	lsn->dev = st.st_dev;
	lsn->ino = st.st_ino;
	return 0;
}

static bool lsn_eq(const struct lsn_id *a, const struct lsn_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static struct busy *busy_find(const struct lsn_id *lsn, uint64_t id)
{
	struct busy *b;

	for (b = busy_head; b; b = b->next)
		if (b->id == id && lsn_eq(&b->lsn, lsn))
			return b;
	return NULL;
}

static void busy_add(struct busy *b)
{
	b->next = busy_head;
	busy_head = b;
}

static void busy_del(struct busy *b)
{
	struct busy **bp;

	for (bp = &busy_head; *bp; bp = &(*bp)->next) {
		if (*bp == b) {
			*bp = b->next;
			return;
		}
	}
}

/*
 * A call lets go of its request, undecided: the others that passed over
 * it are to look again.  Each write is an edge for their watches; the
 * count itself means nothing, and is reset here.
 */
static void busy_release_undecided(struct busy *b)
{
	int err = errno;
	uint64_t val;
	ssize_t n;

	busy_del(b);
	if (reg_wake >= 0) {
		n = read(reg_wake, &val, sizeof(val));
		val = 1;
		n = write(reg_wake, &val, sizeof(val));
		(void)n;
	}
	errno = err;
}

static void close_keep_errno(int fd)
{
	int err = errno;

	close(fd);
	errno = err;
}

/*
 * Close the parked sockets of listeners that are gone: the fd they were
 * parked under is closed, or now holds another file.
 */
static void parked_purge(void)
{
	struct parked **pp = &parked_head, *p;
	struct lsn_id now;
	int err = errno;

	while ((p = *pp)) {
		if (!lsn_of(p->lfd, &now) && lsn_eq(&now, &p->lsn)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		close(p->conn.fd);
		free(p);
	}
	errno = err;
}

/*
 * Take the oldest parked socket of @lsn for request @id, or with @id 0
 * the oldest one that no call has claimed.  Returns true if found.
 */
/* Is @c kept for the call that claimed its request? */
static bool parked_claimed(const struct lsn_id *lsn, const struct conn *c)
{
	const struct busy *b;

	if (!c->id)
		return false;
	b = busy_find(lsn, c->id);
	return b && b->claimed;
}

static bool parked_take(const struct lsn_id *lsn, uint64_t id,
			struct conn *c)
{
	struct parked **pp, *p;

	for (pp = &parked_head; (p = *pp); pp = &p->next) {
		if (!lsn_eq(&p->lsn, lsn))
			continue;
		if (id ? p->conn.id != id : parked_claimed(lsn, &p->conn))
			continue;
		*pp = p->next;
		*c = p->conn;
		free(p);
		return true;
	}
	return false;
}

static int park(const struct lsn_id *lsn, int lfd, const struct conn *c)
{
	struct parked **pp, *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->lsn = *lsn;
	p->lfd = lfd;
	p->conn = *c;
	for (pp = &parked_head; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	return 0;
}

/* ---- the listener ------------------------------------------------------- */

/*
 * accept() a connection if the listener has one (or has an error to
 * give).  Returns 1 with it in @c, 0 if none waits, -1 on error.
 */
static int accept_ready(int lfd, struct conn *c)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int r;

	r = poll(&pfd, 1, 0);
	if (r < 0)
		return -1;
	if (!r || !pfd.revents)
		return 0;
	memset(&c->addr, 0, sizeof(c->addr));
	c->addrlen = sizeof(c->addr);
	c->fd = accept(lfd, (struct sockaddr *)&c->addr, &c->addrlen);
	if (c->fd < 0)
		/* Taken meanwhile by another process, on a non-blocking fd. */
		return errno == EAGAIN ? 0 : -1;
	if (wsp_request_id(c->fd, &c->id))
		c->id = 0;
	return 1;
}

/* The accepted socket, and its caller's address as accept() gives it. */
static int deliver(const struct conn *c, struct sockaddr_wsp *addr,
		   socklen_t *addrlen)
{
	if (addr) {
		memcpy(addr, &c->addr,
		       c->addrlen < *addrlen ? c->addrlen : *addrlen);
		*addrlen = c->addrlen;
	}
	return c->fd;
}

/*
 * WSP_PEEK_REQUEST after @after into *@reqp, a buffer from malloc() (or
 * NULL) with room for *@roomp bytes of caller data, grown until the
 * request's data fits.  The kernel gives data_len in full and copies as
 * much as fits; a request decided meanwhile makes the next peek find
 * another one, which is why the buffer is checked each time.
 */
static int peek_grow(int lfd, uint64_t after, struct wsp_request **reqp,
		     size_t *roomp)
{
	struct wsp_request *req = *reqp;
	size_t room = *roomp;
	socklen_t len;

	for (;;) {
		if (!req) {
			req = malloc(sizeof(*req) + room);
			if (!req)
				return -1;
			*reqp = req;
			*roomp = room;
		}
		memset(req, 0, sizeof(*req));
		req->id = after;
		len = sizeof(*req) + room;
		if (getsockopt(lfd, SOL_WSP, WSP_PEEK_REQUEST, req, &len))
			return -1;
		if (req->data_len <= room)
			return 0;
		room = req->data_len;
		if (room > INT_MAX - sizeof(*req)) {
			errno = EOVERFLOW;
			return -1;
		}
		free(req);
		req = NULL;
		*reqp = NULL;
	}
}

int wsp_peek_request(int lfd, uint64_t after, struct wsp_request **req)
{
	struct wsp_request *buf = NULL;
	size_t room = PEEK_DATA_INIT;
	int err;

	if (peek_grow(lfd, after, &buf, &room)) {
		err = errno;
		free(buf);
		*req = NULL;
		errno = err;
		return -1;
	}
	*req = buf;
	return 0;
}

void wsp_request_free(struct wsp_request *req)
{
	free(req);
}

int wsp_verdict(int lfd, uint64_t id, int verdict, const void *data,
		size_t len, const struct wsp_qos *qos)
{
	struct wsp_verdict *v;
	int ret, err;

	if (len > INT_MAX - sizeof(*v)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (len && !data) {
		errno = EFAULT;
		return -1;
	}
	v = calloc(1, sizeof(*v) + len);
	if (!v)
		return -1;
	v->id = id;
	v->verdict = verdict;
	if (qos) {
		v->flags = WSP_VERDICT_QOS;
		v->qos = *qos;
	}
	v->data_len = len;
	if (len)
		memcpy(v->data, data, len);
	ret = setsockopt(lfd, SOL_WSP, WSP_VERDICT, v, sizeof(*v) + len);
	err = errno;
	free(v);
	errno = err;
	return ret;
}

/* ---- WSAAccept --------------------------------------------------------- */

enum work {
	WORK_ERROR = -1,
	WORK_NONE,		/* nothing for this call: wait */
	WORK_CONN,		/* a connection to return */
	WORK_REQUEST,		/* a request for the condition, now busy */
};

/*
 * What this call does next, in the order WSAAccept gives: connections
 * already accepted (parked or queued), then the oldest request no other
 * call is busy with.  Under reg_lock.
 */
static enum work next_work(int lfd, const struct lsn_id *lsn, struct conn *c,
			   struct wsp_request **reqp, size_t *roomp,
			   struct busy *self)
{
	uint64_t after = 0;
	struct busy *b;
	int r;

	parked_purge();
	if (parked_take(lsn, 0, c))
		return WORK_CONN;
	while ((r = accept_ready(lfd, c)) > 0) {
		b = c->id ? busy_find(lsn, c->id) : NULL;
		if (!b || !b->claimed)
			return WORK_CONN;
		/* Another call accepted it and waits for it. */
		if (park(lsn, lfd, c)) {
			close_keep_errno(c->fd);
			return WORK_ERROR;
		}
	}
	if (r < 0)
		return WORK_ERROR;

	for (;;) {
		if (peek_grow(lfd, after, reqp, roomp))
			return errno == EAGAIN ? WORK_NONE : WORK_ERROR;
		if (!busy_find(lsn, (*reqp)->id))
			break;
		after = (*reqp)->id;
	}
	self->lsn = *lsn;
	self->id = (*reqp)->id;
	self->claimed = false;
	self->thread = pthread_self();
	busy_add(self);
	return WORK_REQUEST;
}

/*
 * The socket of request @id, accepted by this call's verdict: parked by
 * another call, or in the accept queue, where the kernel keeps it until
 * accept() or the listener's close.  Sockets queued before it are parked.
 * Under reg_lock.
 */
static int take_claimed(int lfd, const struct lsn_id *lsn, uint64_t id,
			struct conn *c)
{
	int r;

	if (parked_take(lsn, id, c))
		return 0;
	while ((r = accept_ready(lfd, c)) > 0) {
		if (c->id == id)
			return 0;
		if (park(lsn, lfd, c)) {
			close_keep_errno(c->fd);
			return -1;
		}
	}
	/* Gone: an accept() outside libwsp took it. */
	if (!r)
		errno = ECONNABORTED;
	return -1;
}

/*
 * An epoll watch that wakes on each new connection or request at @lfd,
 * and on each request another call left undecided.
 */
static int watch_listener(int lfd)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLPRI | EPOLLET,
	};
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) ||
	    (reg_wake >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, reg_wake, &ev))) {
		close_keep_errno(ep);
		return -1;
	}
	return ep;
}

int wsp_accept(int lfd, struct sockaddr_wsp *addr, socklen_t *addrlen,
	       wsp_condition_fn cond, void *ctx)
{
	struct wsp_request *req = NULL;
	size_t room = PEEK_DATA_INIT;
	struct epoll_event ev;
	struct wsp_answer ans;
	struct busy self;
	struct lsn_id lsn;
	int ep = -1, ret = -1, verdict, err, r;
	bool undecided = false;
	enum work work;
	struct conn c;

	if (!cond)
		return accept(lfd, (struct sockaddr *)addr, addrlen);
	if (addr && !addrlen) {
		errno = EFAULT;
		return -1;
	}
	if (lsn_of(lfd, &lsn))
		return -1;
	pthread_once(&reg_once, reg_init);

	for (;;) {
		pthread_mutex_lock(&reg_lock);
		work = next_work(lfd, &lsn, &c, &req, &room, &self);
		err = errno;
		pthread_mutex_unlock(&reg_lock);
		errno = err;
		if (work == WORK_CONN) {
			ret = deliver(&c, addr, addrlen);
			goto out;
		}
		if (work == WORK_REQUEST)
			break;
		if (work == WORK_ERROR)
			goto out;

		r = fcntl(lfd, F_GETFL);
		if (r < 0)
			goto out;
		if (r & O_NONBLOCK) {
			errno = EAGAIN;
			goto out;
		}
		if (ep < 0) {
			/* Armed now, so look once more before waiting. */
			ep = watch_listener(lfd);
			if (ep < 0)
				goto out;
			continue;
		}
		if (epoll_wait(ep, &ev, 1, -1) < 0)
			goto out;
	}

	memset(&ans, 0, sizeof(ans));
	errno = 0;
	verdict = cond(req, &ans, ctx);
	err = errno;
	switch (verdict) {
	case WSP_CF_ACCEPT:
		/* Claimed before the verdict: no other call may keep it. */
		pthread_mutex_lock(&reg_lock);
		self.claimed = true;
		pthread_mutex_unlock(&reg_lock);
		break;
	case WSP_CF_REJECT:
	case WSP_CF_DEFER:
		break;
	default:
		errno = err ? err : EINVAL;
		undecided = true;
		goto out_busy;
	}
	if (wsp_verdict(lfd, self.id, verdict, ans.data, ans.data_len,
			ans.has_qos ? &ans.qos : NULL)) {
		/* The caller withdrew it (closed, or timed out). */
		if (errno == ENOENT)
			errno = ECONNABORTED;
		else
			undecided = true;
		goto out_busy;
	}
	if (verdict != WSP_CF_ACCEPT) {
		errno = verdict == WSP_CF_REJECT ? ECONNREFUSED : EINPROGRESS;
		goto out_busy;
	}

	pthread_mutex_lock(&reg_lock);
	r = take_claimed(lfd, &lsn, self.id, &c);
	err = errno;
	busy_del(&self);
	pthread_mutex_unlock(&reg_lock);
	errno = err;
	if (!r)
		ret = deliver(&c, addr, addrlen);
	goto out;

out_busy:
	err = errno;
	pthread_mutex_lock(&reg_lock);
	if (undecided)
		busy_release_undecided(&self);
	else
		busy_del(&self);
	pthread_mutex_unlock(&reg_lock);
	errno = err;
out:
	err = errno;
	free(req);
	if (ep >= 0)
		close(ep);
	errno = err;
	return ret;
}
