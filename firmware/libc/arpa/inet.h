/*
 * arpa/inet.h - picolibc's, which has byte order only, and the inet_pton
 * that the PSA backend's x509.c names: it reads an IP literal as the name
 * a client checks a server's certificate against (RFC 6125, RFC 5280
 * 4.2.1.6). The light is a server and checks no peer's name, so the
 * firmware's inet_pton (firmware/libc/inet_pton.c) recognizes no literal.
 * On the ECDHE-ECDSA firmware's include path only.
 */
#ifndef COAPS_FW_ARPA_INET_H
#define COAPS_FW_ARPA_INET_H

#pragma GCC system_header /* for #include_next, a GCC extension */
#include_next <arpa/inet.h>

#define AF_INET 2
#define AF_INET6 10

/* 0: src is not an address of family af (see above). */
int inet_pton(int af, const char *src, void *dst);

#endif /* COAPS_FW_ARPA_INET_H */
