// SPDX-License-Identifier: Apache-2.0
/*
 * uring_beacon: what the reference implant does, for zoom-in tests and benchmarks. Through
 * io_uring only (besides io_uring_setup / io_uring_enter and the socket itself): open and read a
 * file, connect to HOST:PORT, then send a binary frame every interval. Optionally loads a shared
 * object with dlopen() after some frames (a native module gained after a zoom started).
 *
 *   uring_beacon [options]
 *     --open PATH          OPENAT PATH, READ up to 4 KiB, CLOSE (once, before connecting)
 *     --connect HOST:PORT  CONNECT a TCP socket (numeric IPv4 or [IPv6])
 *     --frames N           frames to send (default 5)
 *     --interval-ms M      between frames, on an absolute schedule (default 1000)
 *     --payload TEXT       frame body text (default "beacon")
 *     --sqpoll             IORING_SETUP_SQPOLL (a kernel thread submits: iou-sqp-PID)
 *     --dlopen PATH        dlopen(PATH, RTLD_LAZY) after --dlopen-after frames (default 1)
 *     --dlopen-after N
 *     --wait               read one line from stdin before starting (the test learns the pid)
 *
 * Frame i (i = 0, 1, ...): a 4-byte big-endian length of the rest, "BCN1", i as a 4-byte
 * big-endian number, then TEXT — a length-prefixed binary format, as beacons use.
 *
 * Prints one JSON line: {"pid":..,"read_bytes":..,"frames":..,"sent_bytes":..,"dlopen":0|1,
 * "errors":[..]}. Exit 0 when everything worked, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
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

static struct io_uring ring;
static char errors[2048];
static size_t errors_len;

static void note_error(const char *what, int err)
{
	errors_len += snprintf(errors + errors_len, sizeof(errors) - errors_len, "%s\"%s: %s\"",
			       errors_len ? "," : "", what, err ? strerror(err) : "failed");
	if (errors_len >= sizeof(errors))
		errors_len = sizeof(errors) - 1;
}

/* Submits the prepared SQE and waits for its completion; returns cqe->res. */
static int run(struct io_uring_sqe *sqe, uint64_t user_data)
{
	struct io_uring_cqe *cqe;
	int ret, res;

	io_uring_sqe_set_data64(sqe, user_data);
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

static struct sockaddr_storage dest;
static socklen_t dest_len;

static int parse_dest(const char *s)
{
	return parse_host_port(s, &dest, &dest_len);
}

static char frame[4 + 4 + 4 + 1024];

static size_t build_frame(uint32_t seq, const char *text)
{
	size_t n = strlen(text);
	uint32_t be;

	if (n > 1024)
		n = 1024;
	be = htonl((uint32_t)(4 + 4 + n));
	memcpy(frame, &be, 4);
	memcpy(frame + 4, "BCN1", 4);
	be = htonl(seq);
	memcpy(frame + 8, &be, 4);
	memcpy(frame + 12, text, n);
	return 12 + n;
}

static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

static void usage(void)
{
	fprintf(stderr, "usage: uring_beacon [--open PATH] [--connect HOST:PORT] [--frames N] [--interval-ms M] "
			"[--payload TEXT] [--sqpoll] [--dlopen PATH [--dlopen-after N]] [--wait]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *open_path = NULL, *connect_to = NULL, *payload = "beacon", *dl_path = NULL;
	long frames = 5, interval_ms = 1000, dl_after = 1, read_bytes = -1, sent_bytes = 0, sent = 0;
	bool sqpoll = false, wait = false, loaded = false;
	static char buf[4096];
	struct io_uring_params p = { 0 };
	struct io_uring_sqe *sqe;
	struct timespec next;
	int ret, s = -1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--open") && v)
			open_path = argv[++i];
		else if (!strcmp(a, "--connect") && v)
			connect_to = argv[++i];
		else if (!strcmp(a, "--frames") && v)
			frames = atol(argv[++i]);
		else if (!strcmp(a, "--interval-ms") && v)
			interval_ms = atol(argv[++i]);
		else if (!strcmp(a, "--payload") && v)
			payload = argv[++i];
		else if (!strcmp(a, "--dlopen") && v)
			dl_path = argv[++i];
		else if (!strcmp(a, "--dlopen-after") && v)
			dl_after = atol(argv[++i]);
		else if (!strcmp(a, "--sqpoll"))
			sqpoll = true;
		else if (!strcmp(a, "--wait"))
			wait = true;
		else
			usage();
	}
	if (connect_to && parse_dest(connect_to)) {
		fprintf(stderr, "uring_beacon: bad HOST:PORT %s (numeric address)\n", connect_to);
		return 2;
	}
	if (wait) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			return 2;
	}
	if (sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 2000;
	}
	ret = io_uring_queue_init_params(8, &ring, &p);
	if (ret < 0) {
		note_error("io_uring_setup", -ret);
		printf("{\"pid\":%d,\"errors\":[%s]}\n", getpid(), errors);
		return 1;
	}

	if (open_path) {
		int fd;

		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_openat(sqe, AT_FDCWD, open_path, O_RDONLY, 0);
		fd = run(sqe, 1);
		if (fd < 0) {
			note_error("IORING_OP_OPENAT", -fd);
		} else {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
			read_bytes = run(sqe, 2);
			if (read_bytes < 0)
				note_error("IORING_OP_READ", -read_bytes);
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_close(sqe, fd);
			ret = run(sqe, 3);
			if (ret < 0)
				note_error("IORING_OP_CLOSE", -ret);
		}
	}

	if (connect_to) {
		s = socket(dest.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			note_error("socket", errno);
		} else {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_connect(sqe, s, (struct sockaddr *)&dest, dest_len);
			ret = run(sqe, 4);
			if (ret < 0) {
				note_error("IORING_OP_CONNECT", -ret);
				close(s);
				s = -1;
			}
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; s >= 0 && i < frames; i++) {
		size_t len = build_frame((uint32_t)i, payload);

		if (i > 0) {
			next.tv_nsec += (interval_ms % 1000) * 1000000L;
			next.tv_sec += interval_ms / 1000 + next.tv_nsec / 1000000000L;
			next.tv_nsec %= 1000000000L;
			sleep_until(&next);
		}
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_send(sqe, s, frame, len, 0);
		ret = run(sqe, 100 + i);
		if (ret < 0) {
			note_error("IORING_OP_SEND", -ret);
			break;
		}
		sent++;
		sent_bytes += ret;
		if (dl_path && !loaded && sent >= dl_after) {
			if (dlopen(dl_path, RTLD_LAZY | RTLD_LOCAL))
				loaded = true;
			else
				note_error("dlopen", 0);
		}
	}
	if (s >= 0)
		close(s);
	io_uring_queue_exit(&ring);
	printf("{\"pid\":%d,\"read_bytes\":%ld,\"frames\":%ld,\"sent_bytes\":%ld,\"dlopen\":%d,\"errors\":[%s]}\n",
	       getpid(), read_bytes, sent, sent_bytes, loaded ? 1 : 0, errors);
	return errors_len ? 1 : 0;
}
