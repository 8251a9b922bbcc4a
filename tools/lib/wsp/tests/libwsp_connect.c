// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libwsp: wsp_connect_ex() (WSAConnect) and the connect data of either
 * end, wsp_callee_data() and wsp_caller_data().
 */
#include "libwsp_test.h"

FIXTURE(conn) {
	int lfd;
	uint32_t port;
};

FIXTURE_VARIANT(conn) {
	int type;
};

FIXTURE_VARIANT_ADD(conn, stream) {
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(conn, seqpacket) {
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(conn)
{
	self->lfd = listener(variant->type, true, &self->port);
	ASSERT_LE(0, self->lfd) TH_LOG("listener: %s", strerror(errno));
}

FIXTURE_TEARDOWN(conn)
{
	close_fd(&self->lfd);
}

/* The oldest request's id, once it is there; 0 on failure. */
static uint64_t oldest(int lfd)
{
	struct wsp_request *req;
	uint64_t id;

	if (wait_request(lfd) || wsp_peek_request(lfd, 0, &req))
		return 0;
	id = req->id;
	wsp_request_free(req);
	return id;
}

TEST_F(conn, nulls)
{
	int lfd, cfd, sfd;
	uint32_t port;
	size_t len;

	/* An automatic listener: connected at once, no data either way. */
	lfd = listener(variant->type, false, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_socket(variant->type);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	len = 99;
	ASSERT_EQ(0, wsp_callee_data(cfd, NULL, &len));
	EXPECT_EQ(0, len);
	len = 99;
	ASSERT_EQ(0, wsp_caller_data(sfd, NULL, &len));
	EXPECT_EQ(0, len);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_F(conn, data_both_ways)
{
	static const char caller[] = "hello from the caller";
	static const char callee[] = "and hello from the callee";
	struct wsp_request *req;
	struct client c = { 0 };
	char buf[64];
	size_t len;
	int sfd;

	ASSERT_EQ(0, client_start(&c, variant->type, self->port, caller,
				  sizeof(caller)));
	ASSERT_EQ(0, wait_request(self->lfd));
	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &req));
	EXPECT_EQ(sizeof(caller), req->data_len);
	EXPECT_EQ(0, memcmp(req->data, caller, sizeof(caller)));
	ASSERT_EQ(0, wsp_verdict(self->lfd, req->id, WSP_CF_ACCEPT, callee,
				 sizeof(callee), NULL));
	wsp_request_free(req);
	client_join(&c);
	ASSERT_EQ(0, c.ret) TH_LOG("connect: %s", strerror(c.err));
	EXPECT_EQ(sizeof(callee), c.callee_len);
	EXPECT_EQ(0, memcmp(c.callee, callee, sizeof(callee)));

	sfd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	len = sizeof(buf);
	ASSERT_EQ(0, wsp_caller_data(sfd, buf, &len));
	EXPECT_EQ(sizeof(caller), len);
	EXPECT_EQ(0, memcmp(buf, caller, len));
	len = sizeof(buf);
	ASSERT_EQ(0, wsp_callee_data(sfd, buf, &len));
	EXPECT_EQ(sizeof(callee), len);
	EXPECT_EQ(0, memcmp(buf, callee, len));
	len = sizeof(buf);
	ASSERT_EQ(0, wsp_caller_data(c.fd, buf, &len));
	EXPECT_EQ(sizeof(caller), len);
	EXPECT_EQ(0, memcmp(buf, caller, len));
	close(sfd);
	close(c.fd);
}

TEST_F(conn, callee_buffer_too_small)
{
	struct client c = { 0 };
	char data[100], buf[200];
	size_t len;
	uint64_t id;

	memset(data, 'd', sizeof(data));
	memset(c.callee, 'z', sizeof(c.callee));
	c.callee_size = 10;
	ASSERT_EQ(0, client_start(&c, variant->type, self->port, NULL, 0));
	id = oldest(self->lfd);
	ASSERT_NE(0, id);
	ASSERT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_ACCEPT, data,
				 sizeof(data), NULL));
	client_join(&c);
	/* Connected; the data did not fit: its length, nothing copied. */
	ASSERT_EQ(0, c.ret) TH_LOG("connect: %s", strerror(c.err));
	EXPECT_EQ(sizeof(data), c.callee_len);
	EXPECT_EQ('z', c.callee[0]);
	EXPECT_EQ('z', c.callee[9]);

	/* wsp_callee_data(): ERANGE with the length, then all of it. */
	len = 10;
	memset(buf, 'z', sizeof(buf));
	errno = 0;
	EXPECT_EQ(-1, wsp_callee_data(c.fd, buf, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(sizeof(data), len);
	EXPECT_EQ('z', buf[0]);
	len = 0;
	errno = 0;
	EXPECT_EQ(-1, wsp_callee_data(c.fd, NULL, &len));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(sizeof(data), len);
	len = sizeof(data);
	ASSERT_EQ(0, wsp_callee_data(c.fd, buf, &len));
	EXPECT_EQ(sizeof(data), len);
	EXPECT_EQ(0, memcmp(buf, data, sizeof(data)));
	errno = 0;
	EXPECT_EQ(-1, wsp_callee_data(c.fd, buf, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(c.fd);
}

TEST_F(conn, rejected_with_data)
{
	static const char why[] = "not today";
	struct client c = { 0 };
	char buf[32];
	uint64_t id;
	size_t len;

	ASSERT_EQ(0, client_start(&c, variant->type, self->port, "x", 1));
	id = oldest(self->lfd);
	ASSERT_NE(0, id);
	ASSERT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_REJECT, why,
				 sizeof(why), NULL));
	client_join(&c);
	EXPECT_EQ(-1, c.ret);
	EXPECT_EQ(ECONNREFUSED, c.err);
	EXPECT_EQ(sizeof(why), c.callee_len);
	EXPECT_EQ(0, memcmp(c.callee, why, sizeof(why)));
	/* Still readable afterwards. */
	len = sizeof(buf);
	ASSERT_EQ(0, wsp_callee_data(c.fd, buf, &len));
	EXPECT_EQ(sizeof(why), len);
	close(c.fd);
}

TEST_F(conn, nonblocking)
{
	static const char callee[] = "later";
	char buf[16];
	size_t len;
	uint64_t id;
	int fd;

	fd = wsp_socket(variant->type | SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	len = sizeof(buf);
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(fd, self->port, "abc", 3, buf, &len,
				     NULL));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(0, len);
	id = oldest(self->lfd);
	ASSERT_NE(0, id);
	ASSERT_EQ(0, wsp_verdict(self->lfd, id, WSP_CF_ACCEPT, callee,
				 sizeof(callee), NULL));
	EXPECT_EQ(0, connect_outcome(fd));
	len = sizeof(buf);
	ASSERT_EQ(0, wsp_callee_data(fd, buf, &len));
	EXPECT_EQ(sizeof(callee), len);
	EXPECT_EQ(0, memcmp(buf, callee, len));
	close(fd);
}

TEST_F(conn, qos_request)
{
	struct wsp_request *req;
	struct wsp_qos q, got;
	int fd;

	wsp_flowspec_unspecified(&q.sending);
	wsp_flowspec_unspecified(&q.receiving);
	q.sending.token_rate = 50000;
	q.sending.token_bucket_size = 4096;
	q.receiving.latency = 10;
	fd = wsp_socket(variant->type | SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(fd, self->port, NULL, 0, NULL, NULL, &q));
	EXPECT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, wait_request(self->lfd));
	ASSERT_EQ(0, wsp_peek_request(self->lfd, 0, &req));
	EXPECT_EQ(0, memcmp(&q, &req->qos, sizeof(q)));
	/* Accepted with no QoS of the verdict's: the request is granted. */
	ASSERT_EQ(0, wsp_verdict(self->lfd, req->id, WSP_CF_ACCEPT, NULL, 0,
				 NULL));
	wsp_request_free(req);
	EXPECT_EQ(0, connect_outcome(fd));
	ASSERT_EQ(0, wsp_get_qos(fd, &got));
	EXPECT_EQ(q.sending.token_rate, got.sending.token_rate);
	EXPECT_EQ(q.receiving.latency, got.receiving.latency);
	close(fd);
}

TEST_F(conn, errors)
{
	char big[5000], buf[8];
	uint32_t none;
	size_t len;
	int fd, lfd;

	/* No listener there. */
	lfd = listener(variant->type, false, &none);
	ASSERT_LE(0, lfd);
	close(lfd);
	fd = wsp_socket(variant->type);
	ASSERT_LE(0, fd);
	len = sizeof(buf);
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(fd, none, NULL, 0, buf, &len, NULL));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(0, len);

	/* More caller data than net.wsp.max_connect_data (4096). */
	memset(big, 'b', sizeof(big));
	len = sizeof(buf);
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(fd, self->port, big, sizeof(big), buf,
				     &len, NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, len);
	close(fd);

	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(-1, self->port, NULL, 0, NULL, NULL,
				     NULL));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	len = sizeof(buf);
	EXPECT_EQ(-1, wsp_caller_data(-1, buf, &len));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(conn, connected_already)
{
	int lfd, cfd, sfd;
	uint32_t port;

	lfd = listener(variant->type, false, &port);
	ASSERT_LE(0, lfd);
	cfd = wsp_socket(variant->type);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wsp_connect_ex(cfd, port, "a", 1, NULL, NULL, NULL));
	sfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sfd);
	/* Caller data after connect: the kernel's EISCONN. */
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(cfd, port, "a", 1, NULL, NULL, NULL));
	EXPECT_EQ(EISCONN, errno);
	errno = 0;
	EXPECT_EQ(-1, wsp_connect_ex(cfd, port, NULL, 0, NULL, NULL, NULL));
	EXPECT_EQ(EISCONN, errno);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_HARNESS_MAIN
