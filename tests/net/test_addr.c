/* test_addr.c - socket address <-> coaps_peer (src/net/addr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "net/addr.h"

static struct sockaddr_in6 v6(const char *text, uint16_t port)
{
    struct sockaddr_in6 s;
    memset(&s, 0xa5, sizeof s); /* garbage in padding must not leak into peers */
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    s.sin6_flowinfo = htonl(0x12345);
    s.sin6_scope_id = 0;
    assert_int_equal(inet_pton(AF_INET6, text, &s.sin6_addr), 1);
    return s;
}

static struct sockaddr_in v4(const char *text, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0xa5, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, text, &s.sin_addr), 1);
    return s;
}

/* A client reaching a dual-stack socket (::ffff:127.0.0.1, RFC 4291
 * 2.5.5.2) and an IPv4 socket is the same peer, byte for byte. */
static void normalises_v4_mapped_addresses(void **state)
{
    (void)state;
    struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1", 40000);
    struct sockaddr_in plain = v4("127.0.0.1", 40000);
    coaps_peer a, b;
    assert_int_equal(net_peer_from_sockaddr((struct sockaddr *)&mapped, sizeof mapped,
                                            COAPS_TRANSPORT_UDP, &a), COAPS_OK);
    assert_int_equal(net_peer_from_sockaddr((struct sockaddr *)&plain, sizeof plain,
                                            COAPS_TRANSPORT_UDP, &b), COAPS_OK);
    assert_int_equal(a.addr_len, sizeof(struct sockaddr_in));
    assert_true(coaps_peer_equal(&a, &b));
    assert_memory_equal(&a, &b, sizeof a); /* padding zeroed too */
    assert_int_equal(coaps_peer_hash(&a), coaps_peer_hash(&b));
    /* another port is another peer; another transport too */
    struct sockaddr_in other = v4("127.0.0.1", 40001);
    coaps_peer c;
    net_peer_from_sockaddr((struct sockaddr *)&other, sizeof other, COAPS_TRANSPORT_UDP, &c);
    assert_false(coaps_peer_equal(&a, &c));
    net_peer_from_sockaddr((struct sockaddr *)&plain, sizeof plain, COAPS_TRANSPORT_DTLS, &c);
    assert_false(coaps_peer_equal(&a, &c));
}

static void ignores_flow_label(void **state)
{
    (void)state;
    struct sockaddr_in6 x = v6("2001:db8::1", 5683), y = v6("2001:db8::1", 5683);
    y.sin6_flowinfo = htonl(0x777);
    coaps_peer a, b;
    net_peer_from_sockaddr((struct sockaddr *)&x, sizeof x, COAPS_TRANSPORT_UDP, &a);
    net_peer_from_sockaddr((struct sockaddr *)&y, sizeof y, COAPS_TRANSPORT_UDP, &b);
    assert_int_equal(a.addr_len, sizeof(struct sockaddr_in6));
    assert_true(coaps_peer_equal(&a, &b));
}

static void maps_back_for_the_socket_family(void **state)
{
    (void)state;
    struct sockaddr_in plain = v4("192.0.2.7", 1234);
    coaps_peer p;
    net_peer_from_sockaddr((struct sockaddr *)&plain, sizeof plain, COAPS_TRANSPORT_UDP, &p);
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(net_peer_to_sockaddr(&p, AF_INET, &ss, &len), COAPS_OK);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    assert_int_equal(net_peer_to_sockaddr(&p, AF_INET6, &ss, &len), COAPS_OK);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    char text[NET_ADDR_STR_MAX];
    assert_string_equal(net_addr_format((struct sockaddr *)&ss, text, sizeof text),
                        "[::ffff:192.0.2.7]:1234");
    /* round trip through the mapped form is the same peer */
    coaps_peer q;
    net_peer_from_sockaddr((struct sockaddr *)&ss, len, COAPS_TRANSPORT_UDP, &q);
    assert_true(coaps_peer_equal(&p, &q));
    /* IPv6 cannot leave through an IPv4 socket */
    struct sockaddr_in6 six = v6("::1", 5683);
    net_peer_from_sockaddr((struct sockaddr *)&six, sizeof six, COAPS_TRANSPORT_UDP, &p);
    assert_int_equal(net_peer_to_sockaddr(&p, AF_INET, &ss, &len), COAPS_E_UNSUPPORTED);
    assert_int_equal(net_peer_to_sockaddr(&p, AF_INET6, &ss, &len), COAPS_OK);
}

static void rejects_other_families_and_short_lengths(void **state)
{
    (void)state;
    struct sockaddr_in plain = v4("127.0.0.1", 1);
    coaps_peer p;
    assert_int_equal(net_peer_from_sockaddr((struct sockaddr *)&plain, 4, COAPS_TRANSPORT_UDP, &p),
                     COAPS_E_INVALID);
    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    assert_int_equal(net_peer_from_sockaddr(&sa, sizeof sa, COAPS_TRANSPORT_UDP, &p),
                     COAPS_E_UNSUPPORTED);
    coaps_peer empty;
    memset(&empty, 0, sizeof empty);
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(net_peer_to_sockaddr(&empty, AF_INET6, &ss, &len), COAPS_E_INVALID);
}

static void formats_and_parses_literals(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    char text[NET_ADDR_STR_MAX];
    assert_int_equal(net_addr_parse_numeric("::", 5683, &ss, &len), COAPS_OK);
    assert_string_equal(net_addr_format((struct sockaddr *)&ss, text, sizeof text), "[::]:5683");
    assert_int_equal(net_addr_parse_numeric("[::1]", 1, &ss, &len), COAPS_OK);
    assert_string_equal(net_addr_format((struct sockaddr *)&ss, text, sizeof text), "[::1]:1");
    assert_int_equal(net_addr_parse_numeric("127.0.0.1", 65535, &ss, &len), COAPS_OK);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    assert_string_equal(net_addr_format((struct sockaddr *)&ss, text, sizeof text),
                        "127.0.0.1:65535");
    assert_int_equal(net_addr_parse_numeric("localhost", 1, &ss, &len), COAPS_E_INVALID);
    assert_int_equal(net_addr_parse_numeric("1.2.3.4.5", 1, &ss, &len), COAPS_E_INVALID);
    assert_int_equal(net_addr_parse_numeric("", 1, &ss, &len), COAPS_E_INVALID);
    assert_int_equal(net_addr_parse_numeric("[]", 1, &ss, &len), COAPS_E_INVALID);
    coaps_peer p;
    net_peer_from_sockaddr((struct sockaddr *)&ss, len, COAPS_TRANSPORT_UDP, &p);
    net_addr_parse_numeric("::1", 9, &ss, &len);
    net_peer_from_sockaddr((struct sockaddr *)&ss, len, COAPS_TRANSPORT_UDP, &p);
    assert_string_equal(net_peer_format(&p, text, sizeof text), "[::1]:9");
    /* truncation is safe */
    char small[4];
    net_peer_format(&p, small, sizeof small);
    assert_int_equal(strlen(small), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalises_v4_mapped_addresses),
        cmocka_unit_test(ignores_flow_label),
        cmocka_unit_test(maps_back_for_the_socket_family),
        cmocka_unit_test(rejects_other_families_and_short_lengths),
        cmocka_unit_test(formats_and_parses_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
