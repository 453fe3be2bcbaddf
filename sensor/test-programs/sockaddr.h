// SPDX-License-Identifier: Apache-2.0
// Shared by the test programs: "HOST:PORT" or "[IPV6]:PORT" → a sockaddr for connect/sendto.
#ifndef SOC_TEST_SOCKADDR_H
#define SOC_TEST_SOCKADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

// Returns 0 and fills *dest/*dest_len, or -1 when the text is not an address with a port.
static int parse_host_port(const char *s, struct sockaddr_storage *dest, socklen_t *dest_len)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	size_t n;
	int port;

	if (!colon || colon == s)
		return -1;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']' || n - 2 >= sizeof(host))
			return -1;
		memcpy(host, s + 1, n - 2);
		host[n - 2] = 0;
	} else {
		if (n >= sizeof(host))
			return -1;
		memcpy(host, s, n);
		host[n] = 0;
	}
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535)
		return -1;
	memset(dest, 0, sizeof(*dest));
	struct sockaddr_in *in4 = (struct sockaddr_in *)dest;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)dest;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*dest_len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*dest_len = sizeof(*in6);
	} else {
		return -1;
	}
	return 0;
}

#endif
