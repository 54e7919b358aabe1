/* reuseport.c - the steering program of a SO_REUSEPORT group (see
 * reuseport.h). Classic BPF, not eBPF: at most 38 instructions need
 * neither libbpf nor a BPF compiler. The kernel runs a reuseport program
 * on the UDP payload (it pulls the UDP header first); the addresses and
 * the source port are read relative to the network header (SKF_NET_OFF),
 * which stays in place. */
#include "net/reuseport.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/try.h"

/* The address hash: h = ((A + P) * golden) >> 16, worker = h % workers,
 * where A is the IPv4 source address, or the XOR of the IPv6 source
 * address's four 32-bit words, and P the source port (both as numbers
 * in network order, as classic BPF loads them). The multiplication mixes
 * the low bits of A + P, which differ between the clients of one NAT,
 * into the bits the modulo keeps. */
#define HASH_MUL 0x9E3779B1u
#define HASH_SHIFT 16

/* IPv4 and IPv6 header fields (RFC 791, RFC 8200). */
#define IP4_SRC 12
#define IP6_NEXT 6
#define IP6_SRC 8
#define IP6_HEADER 40

/* Offsets relative to the network header, as classic BPF spells them. */
#define NET(k) ((uint32_t)(SKF_NET_OFF + (k)))

/* Room for the longest program: the misroute head and the address tail. */
#define PROG_MAX 40

struct prog {
    struct sock_filter code[PROG_MAX];
    unsigned short n;
};

static void emit(struct prog *p, struct sock_filter insn)
{
    p->code[p->n++] = insn;
}

/* A tls12_cid record goes to its tag's worker (a tag beyond the group:
 * on, to the address hash). The head is 5 instructions; a jump forward
 * past its end lands on the tail. */
static void head_tag(struct prog *p, unsigned workers)
{
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NET_REUSEPORT_CT_TLS12_CID, 0, 3));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET_REUSEPORT_CID_OFFSET));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, workers, 1, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0));
}

/* A tls12_cid record goes to the worker after its tag's (7 instructions). */
static void head_misroute(struct prog *p, unsigned workers)
{
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NET_REUSEPORT_CT_TLS12_CID, 0, 5));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET_REUSEPORT_CID_OFFSET));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, workers, 0, 1));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0));
}

/* The address hash (net_reuseport_worker_of's), 31 instructions. A load
 * beyond the packet ends the program with 0 (worker 0, whose edge drops
 * the runt as any other would). An IPv6 datagram whose next header is not
 * UDP (extension headers) hashes with port 0. */
static void tail_address(struct prog *p, unsigned workers)
{
    /* IPv4: X = source port, A = source address */
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(0)));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 5));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, NET(0)));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_IND, NET(0)));
    emit(p, (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(IP4_SRC)));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 18, 0, 0));
    /* IPv6: M[0] = the source address's words XORed, X = source port */
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(IP6_SRC)));
    for (uint32_t w = 1; w < 4; w++) {
        emit(p, (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0));
        emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(IP6_SRC + 4 * w)));
        emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0));
    }
    emit(p, (struct sock_filter)BPF_STMT(BPF_ST, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(IP6_NEXT)));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 3));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, NET(IP6_HEADER)));
    emit(p, (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LDX | BPF_IMM, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_MEM, 0));
    /* both: the hash */
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, HASH_MUL));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, HASH_SHIFT));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, workers));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0));
}

coaps_status net_reuseport_steer(int fd, unsigned workers, enum net_reuseport_cid cid)
{
    ENSURE(workers >= 2 && workers <= 255, COAPS_E_INVALID);
    struct prog p = {.n = 0};
    if (cid == NET_REUSEPORT_CID_TAG)
        head_tag(&p, workers);
    else if (cid == NET_REUSEPORT_CID_MISROUTE)
        head_misroute(&p, workers);
    tail_address(&p, workers);
    struct sock_fprog prog = {p.n, p.code};
    ENSURE(setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0,
           COAPS_E_IO);
    return COAPS_OK;
}

unsigned net_reuseport_worker_of(const coaps_peer *peer, unsigned workers)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, peer->addr, peer->addr_len < sizeof ss ? peer->addr_len : sizeof ss);
    uint32_t a = 0, port = 0;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&ss;
        a = ntohl(in->sin_addr.s_addr);
        port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&ss;
        for (size_t w = 0; w < 4; w++) {
            uint32_t word;
            memcpy(&word, in6->sin6_addr.s6_addr + 4 * w, 4);
            a ^= ntohl(word);
        }
        port = ntohs(in6->sin6_port);
    }
    uint32_t h = ((a + port) * HASH_MUL) >> HASH_SHIFT;
    return workers ? h % workers : 0;
}
