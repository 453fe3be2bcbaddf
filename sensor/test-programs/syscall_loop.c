// SPDX-License-Identifier: Apache-2.0
/*
 * syscall_loop: calls one cheap syscall in a tight loop and reports the time per call. The
 * syscall-bound microbenchmark of the always-on sensor (the per-syscall hook's cost), and a
 * controlled way for tests to make a process call a given syscall a given number of times.
 *
 *   syscall_loop [--syscall NAME|NR | --open PATH] [--iterations N] [--pollute KIB] [--wait]
 *                [--then-exec PROGRAM ARGS...]
 *     --syscall     getppid (default), getpid, getuid, getpriority, sched_yield, getcpu, or a
 *                   number (called with zero arguments via syscall(2))
 *     --open        instead: openat(AT_FDCWD, PATH, O_RDONLY) + close per iteration (the cost
 *                   of the open(2) family's path checks); ns_per_call is per open+close pair
 *     --iterations  calls to make (default 1000000)
 *     --pollute     after each call, write KIB kibibytes of a buffer (one byte per cache line):
 *                   the caches are cold again for the next call, as in a real service that does
 *                   work between its syscalls (a tight loop keeps the hook's code and data in
 *                   L1). ns_per_call includes the pollution; compare modes at the same KIB.
 *     --wait        read one line from stdin before starting (tests learn the pid first)
 *     --then-exec   after the loop, execv(PROGRAM, [PROGRAM, ARGS...]): the same process goes
 *                   on as a new image (e.g. syscall_loop again, for "facts reset at exec")
 *
 * Prints one JSON line: {"pid":..,"syscall":..,"nr":..,"iterations":..,"ns_per_call":..}.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	long nr;
} known[] = {
	{ "getppid", SYS_getppid }, { "getpid", SYS_getpid },	     { "getuid", SYS_getuid },
	{ "getpriority", SYS_getpriority }, { "sched_yield", SYS_sched_yield }, { "getcpu", SYS_getcpu },
};

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *name = "getppid";
	long nr = SYS_getppid, iterations = 1000000;
	char **then = NULL;
	const char *open_path = NULL;
	long pollute = 0;
	int wait = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--syscall") && i + 1 < argc) {
			name = argv[++i];
			nr = -1;
			for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
				if (!strcmp(name, known[k].name))
					nr = known[k].nr;
			if (nr < 0) {
				char *end;

				nr = strtol(name, &end, 10);
				if (*end || nr < 0) {
					fprintf(stderr, "syscall_loop: unknown syscall %s\n", name);
					return 2;
				}
			}
		} else if (!strcmp(argv[i], "--open") && i + 1 < argc) {
			open_path = argv[++i];
			name = "openat+close";
			nr = SYS_openat;
		} else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			iterations = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--pollute") && i + 1 < argc) {
			pollute = atol(argv[++i]) * 1024;
		} else if (!strcmp(argv[i], "--wait")) {
			wait = 1;
		} else if (!strcmp(argv[i], "--then-exec") && i + 1 < argc) {
			then = &argv[i + 1];
			break;
		} else {
			fprintf(stderr, "usage: syscall_loop [--syscall NAME|NR | --open PATH] [--iterations N] "
					"[--pollute KIB] [--wait] [--then-exec PROGRAM ARGS...]\n");
			return 2;
		}
	}
	if (wait) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			return 2;
	}
	volatile char *dirt = pollute > 0 ? calloc(1, pollute) : NULL;

	if (pollute > 0 && !dirt) {
		perror("syscall_loop: calloc");
		return 1;
	}
#define POLLUTE()                                            \
	do {                                                 \
		for (long off = 0; off < pollute; off += 64) \
			dirt[off]++;                         \
	} while (0)
	long t0 = now_ns();
	if (open_path) {
		for (long i = 0; i < iterations; i++) {
			int fd = openat(AT_FDCWD, open_path, O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				perror("syscall_loop: openat");
				return 1;
			}
			close(fd);
			POLLUTE();
		}
	} else {
		for (long i = 0; i < iterations; i++) {
			syscall(nr, 0, 0, 0); /* getpriority(0, 0): this process; getcpu(NULL, ...): fine */
			POLLUTE();
		}
	}
	long t1 = now_ns();
	printf("{\"pid\":%d,\"syscall\":\"%s\",\"nr\":%ld,\"iterations\":%ld,\"ns_per_call\":%.2f}\n",
	       getpid(), name, nr, iterations, iterations ? (double)(t1 - t0) / iterations : 0.0);
	fflush(stdout);
	if (then) {
		execv(then[0], then);
		perror("syscall_loop: execv");
		return 1;
	}
	return 0;
}
