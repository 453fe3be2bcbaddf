// SPDX-License-Identifier: Apache-2.0
// A process-lifecycle load for benchmarks: WORKERS processes each posix_spawn /bin/true (or the
// given program) COUNT times and wait for it, so the sensor sees fork+exec+exit per child as fast
// as this machine can create processes.
//   usage: spawn_storm COUNT WORKERS [PROGRAM [ARGS...]]
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s COUNT WORKERS [PROGRAM [ARGS...]]\n", argv[0]);
		return 2;
	}
	long count = atol(argv[1]);
	int workers = atoi(argv[2]);
	char *default_argv[] = {"/bin/true", NULL};
	char **child_argv = argc > 3 ? &argv[3] : default_argv;
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			for (long i = 0; i < count / workers; i++) {
				pid_t pid;
				if (posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ) != 0) return 1;
				waitpid(pid, NULL, 0);
			}
			return 0;
		}
	}
	int status, failed = 0;
	while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return failed;
}
