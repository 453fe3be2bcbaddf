// SPDX-License-Identifier: Apache-2.0
/*
 * uring_probe: does file and network work through io_uring (or, with --syscalls, through plain
 * syscalls), so tests, benchmarks and attack scenarios can produce the kernel activity the
 * sensor must see. The io_uring path is the one syscall-based tools miss: besides
 * io_uring_setup and io_uring_enter, the open/read/connect/send never appear as syscalls.
 *
 *   uring_probe [options]
 *     --open PATH          OPENAT PATH (read-only), READ up to 4 KiB from it, CLOSE it
 *     --connect HOST:PORT  CONNECT a TCP socket (HOST numeric, IPv6 as [addr]:port)
 *     --udp                use a UDP socket for --connect / --send (CONNECT then SEND)
 *     --send TEXT          after --connect: SEND one frame, a 4-byte big-endian length + TEXT
 *     --sendto             UDP: SENDMSG to the address instead of CONNECT + SEND
 *     --accept             listen on an ephemeral 127.0.0.1 TCP port and accept one connection
 *                          from itself: the ACCEPT is submitted first (no connection yet: the
 *                          ring waits for one), then a client socket connects with connect(2);
 *                          with --syscalls, connect(2) then accept4(2)
 *     --direct             with --accept: a direct ACCEPT into the ring's file table
 *                          (IORING_FILE_INDEX_ALLOC) instead of a descriptor
 *     --port N             with --accept: listen on port N (SO_REUSEADDR) instead of an
 *                          ephemeral one
 *     --ipv6               with --accept: on [::1] instead of 127.0.0.1
 *     --sqpoll             create the ring with IORING_SETUP_SQPOLL (a kernel thread,
 *                          iou-sqp-PID, submits for the process)
 *     --async              set IOSQE_ASYNC on every request (run by io-wq workers, iou-wrk-PID)
 *     --syscalls           do the same with openat/read/close/socket/connect/send(to) syscalls,
 *                          no ring at all
 *     --repeat N           do everything N times (default 1; one ring for all)
 *     --wait               read one line from stdin before starting (tests learn the pid first)
 *     --hold-ms N          sleep N ms before exiting
 *
 * Prints one JSON line on stdout: {"pid":..,"ring_fd":..,"ring_flags":..,"open_fd":..,
 * "read_bytes":..,"connect":..,"sent":..,"accept_port":..,"accepted":..,"errors":[..]}. Exit status 0 when every operation
 * succeeded, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sockaddr.h"

static struct {
	const char *open_path;
	const char *connect_to;
	const char *send_text;
	bool udp, sendto, sqpoll, async, syscalls, wait, accept, direct, ipv6;
	int repeat, port;
	long hold_ms;
} opt = { .repeat = 1 };

static char errors[2048];
static size_t errors_len;

static void note_error(const char *what, int err)
{
	errors_len += snprintf(errors + errors_len, sizeof(errors) - errors_len, "%s\"%s: %s\"",
			       errors_len ? "," : "", what, strerror(err));
	if (errors_len >= sizeof(errors))
		errors_len = sizeof(errors) - 1;
}

/* The destination: static, because io_uring reads it when it issues the request. */
static struct sockaddr_storage dest;
static socklen_t dest_len;
static struct msghdr dest_msg;
static struct iovec dest_iov;

static int parse_dest(const char *s)
{
	return parse_host_port(s, &dest, &dest_len);
}

/* One frame: 4-byte big-endian length, then the text (a typical binary beacon format). */
static char frame[4 + 4096];
static size_t frame_len;

static void build_frame(const char *text)
{
	size_t n = strlen(text);
	uint32_t be;

	if (n > sizeof(frame) - 4)
		n = sizeof(frame) - 4;
	be = htonl((uint32_t)n);
	memcpy(frame, &be, 4);
	memcpy(frame + 4, text, n);
	frame_len = 4 + n;
}

static struct io_uring ring;
static unsigned sqe_flags;

/* Submits the prepared SQE and waits for its completion; returns cqe->res. */
static int run(struct io_uring_sqe *sqe)
{
	struct io_uring_cqe *cqe;
	int ret, res;

	io_uring_sqe_set_flags(sqe, sqe_flags);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0)
		return ret;
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return res;
}

static char buf[4096];

static int do_open_read(int *open_fd, long *read_bytes)
{
	int fd, n;

	if (opt.syscalls) {
		fd = openat(AT_FDCWD, opt.open_path, O_RDONLY);
		if (fd < 0)
			return note_error("openat", errno), -1;
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			note_error("read", errno);
		close(fd);
	} else {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_openat(sqe, AT_FDCWD, opt.open_path, O_RDONLY, 0);
		fd = run(sqe);
		if (fd < 0)
			return note_error("IORING_OP_OPENAT", -fd), -1;
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
		n = run(sqe);
		if (n < 0)
			note_error("IORING_OP_READ", -n);
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_close(sqe, fd);
		int c = run(sqe);
		if (c < 0)
			note_error("IORING_OP_CLOSE", -c);
	}
	*open_fd = fd;
	*read_bytes = n;
	return n < 0 ? -1 : 0;
}

static int do_net(int *connected, long *sent)
{
	int type = opt.udp ? SOCK_DGRAM : SOCK_STREAM;
	int s = socket(dest.ss_family, type | SOCK_CLOEXEC, 0);
	int ret = 0;

	*connected = 0;
	*sent = 0;
	if (s < 0)
		return note_error("socket", errno), -1;
	if (!(opt.udp && opt.sendto)) {
		if (opt.syscalls) {
			ret = connect(s, (struct sockaddr *)&dest, dest_len) ? -errno : 0;
		} else {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_connect(sqe, s, (struct sockaddr *)&dest, dest_len);
			ret = run(sqe);
		}
		if (ret < 0) {
			note_error(opt.syscalls ? "connect" : "IORING_OP_CONNECT", -ret);
			close(s);
			return -1;
		}
		*connected = 1;
	}
	if (opt.send_text) {
		if (opt.udp && opt.sendto) {
			dest_iov.iov_base = frame;
			dest_iov.iov_len = frame_len;
			dest_msg.msg_name = &dest;
			dest_msg.msg_namelen = dest_len;
			dest_msg.msg_iov = &dest_iov;
			dest_msg.msg_iovlen = 1;
			if (opt.syscalls) {
				ret = sendmsg(s, &dest_msg, 0);
				ret = ret < 0 ? -errno : ret;
			} else {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				io_uring_prep_sendmsg(sqe, s, &dest_msg, 0);
				ret = run(sqe);
			}
		} else if (opt.syscalls) {
			ret = send(s, frame, frame_len, 0);
			ret = ret < 0 ? -errno : ret;
		} else {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_send(sqe, s, frame, frame_len, 0);
			ret = run(sqe);
		}
		if (ret < 0)
			note_error(opt.syscalls ? "send" : "IORING_OP_SEND", -ret);
		else
			*sent = ret;
	}
	close(s);
	return ret < 0 ? -1 : 0;
}

/* Listens on 127.0.0.1:0 and accepts one connection made by a client socket of its own. */
static int do_accept(int *port, int *accepted)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr *a = (struct sockaddr *)&ss;
	int family = opt.ipv6 ? AF_INET6 : AF_INET;
	socklen_t alen, len;
	int l, c, fd, ret = 0, one = 1;

	if (opt.ipv6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		a6->sin6_port = htons(opt.port);
		alen = sizeof(*a6);
	} else {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a4->sin_port = htons(opt.port);
		alen = sizeof(*a4);
	}
	len = alen;
	*accepted = 0;
	l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return note_error("socket", errno), -1;
	if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, a, alen) || listen(l, 4) || getsockname(l, a, &len)) {
		note_error("listen", errno);
		close(l);
		return -1;
	}
	*port = ntohs(opt.ipv6 ? a6->sin6_port : a4->sin_port);
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0) {
		note_error("socket", errno);
		close(l);
		return -1;
	}
	if (opt.syscalls) {
		if (connect(c, a, alen)) {
			note_error("connect", errno);
			ret = -1;
		} else if ((fd = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			note_error("accept4", errno);
			ret = -1;
		} else {
			*accepted = 1;
			close(fd);
		}
	} else {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;

		if (opt.direct)
			io_uring_prep_accept_direct(sqe, l, NULL, NULL, SOCK_CLOEXEC, IORING_FILE_INDEX_ALLOC);
		else
			io_uring_prep_accept(sqe, l, NULL, NULL, SOCK_CLOEXEC);
		io_uring_sqe_set_flags(sqe, sqe_flags);
		ret = io_uring_submit(&ring);
		if (ret < 0) {
			note_error("io_uring_submit", -ret);
		} else if (connect(c, a, alen)) {
			note_error("connect", errno);
			ret = -1;
		} else if ((ret = io_uring_wait_cqe(&ring, &cqe)) < 0) {
			note_error("io_uring_wait_cqe", -ret);
		} else {
			ret = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			if (ret < 0) {
				note_error("IORING_OP_ACCEPT", -ret);
			} else {
				*accepted = 1;
				if (!opt.direct)
					close(ret);
				ret = 0;
			}
		}
	}
	close(c);
	close(l);
	return ret < 0 ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: uring_probe [--open PATH] [--connect HOST:PORT [--udp] [--send TEXT] "
			"[--sendto]] [--accept [--direct] [--port N] [--ipv6]] [--sqpoll] [--async] [--syscalls] [--repeat N] [--wait] [--hold-ms N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int open_fd = -1, connected = 0, failed = 0, ring_fd = -1, accept_port = 0, accepted = 0;
	long read_bytes = -1, sent = 0;
	unsigned ring_flags = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--open") && next)
			opt.open_path = argv[++i];
		else if (!strcmp(a, "--connect") && next)
			opt.connect_to = argv[++i];
		else if (!strcmp(a, "--send") && next)
			opt.send_text = argv[++i];
		else if (!strcmp(a, "--udp"))
			opt.udp = true;
		else if (!strcmp(a, "--sendto"))
			opt.sendto = true;
		else if (!strcmp(a, "--accept"))
			opt.accept = true;
		else if (!strcmp(a, "--direct"))
			opt.direct = true;
		else if (!strcmp(a, "--ipv6"))
			opt.ipv6 = true;
		else if (!strcmp(a, "--port") && next)
			opt.port = atoi(argv[++i]);
		else if (!strcmp(a, "--sqpoll"))
			opt.sqpoll = true;
		else if (!strcmp(a, "--async"))
			opt.async = true;
		else if (!strcmp(a, "--syscalls"))
			opt.syscalls = true;
		else if (!strcmp(a, "--wait"))
			opt.wait = true;
		else if (!strcmp(a, "--repeat") && next)
			opt.repeat = atoi(argv[++i]);
		else if (!strcmp(a, "--hold-ms") && next)
			opt.hold_ms = atol(argv[++i]);
		else
			usage();
	}
	if (opt.connect_to && parse_dest(opt.connect_to)) {
		fprintf(stderr, "uring_probe: bad HOST:PORT %s (numeric address)\n", opt.connect_to);
		return 2;
	}
	if (opt.send_text)
		build_frame(opt.send_text);
	if (opt.wait) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			return 2;
	}
	if (!opt.syscalls) {
		struct io_uring_params p = { 0 };
		int ret;

		if (opt.sqpoll) {
			p.flags |= IORING_SETUP_SQPOLL;
			p.sq_thread_idle = 2000;
		}
		ret = io_uring_queue_init_params(8, &ring, &p);
		if (ret < 0) {
			note_error("io_uring_setup", -ret);
			printf("{\"pid\":%d,\"errors\":[%s]}\n", getpid(), errors);
			return 1;
		}
		if (opt.direct) {
			ret = io_uring_register_files_sparse(&ring, 4);
			if (ret < 0)
				note_error("io_uring_register_files_sparse", -ret);
		}
		ring_fd = ring.ring_fd;
		ring_flags = p.flags;
		sqe_flags = opt.async ? IOSQE_ASYNC : 0;
	}
	for (int r = 0; r < opt.repeat; r++) {
		if (opt.open_path && do_open_read(&open_fd, &read_bytes))
			failed = 1;
		if (opt.connect_to && do_net(&connected, &sent))
			failed = 1;
		if (opt.accept && do_accept(&accept_port, &accepted))
			failed = 1;
	}
	if (opt.hold_ms > 0) {
		struct timespec ts = { opt.hold_ms / 1000, (opt.hold_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (!opt.syscalls)
		io_uring_queue_exit(&ring);
	printf("{\"pid\":%d,\"ring_fd\":%d,\"ring_flags\":%u,\"open_fd\":%d,\"read_bytes\":%ld,"
	       "\"connect\":%d,\"sent\":%ld,\"accept_port\":%d,\"accepted\":%d,\"errors\":[%s]}\n",
	       getpid(), ring_fd, ring_flags, open_fd, read_bytes, connected, sent, accept_port, accepted,
	       errors);
	return failed || errors_len ? 1 : 0;
}
