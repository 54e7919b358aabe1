/* reuseport.c - the CID steering program of a SO_REUSEPORT group (see
 * reuseport.h). Classic BPF, not eBPF: five instructions need neither
 * libbpf nor a BPF compiler, and the kernel runs them on the UDP payload
 * (it pulls the UDP header before it runs a reuseport filter). */
#include "net/reuseport.h"

#include <linux/filter.h>
#include <sys/socket.h>

#include "common/try.h"

/* Out of range for any group: the kernel then picks by its hash. */
#define STEER_BY_HASH 0xffffffffu

coaps_status net_reuseport_steer_by_cid(int fd)
{
    /* A load beyond the datagram ends the program with 0 (worker 0, whose
     * edge drops the runt as any other would). */
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NET_REUSEPORT_CT_TLS12_CID, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, STEER_BY_HASH),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET_REUSEPORT_CID_OFFSET),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof code / sizeof code[0]), code};
    ENSURE(setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0,
           COAPS_E_IO);
    return COAPS_OK;
}

coaps_status net_reuseport_misroute_cid(int fd, unsigned workers)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NET_REUSEPORT_CT_TLS12_CID, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, STEER_BY_HASH),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET_REUSEPORT_CID_OFFSET),
        BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, workers, 0, 1),
        BPF_STMT(BPF_LD | BPF_IMM, 0),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof code / sizeof code[0]), code};
    ENSURE(setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0,
           COAPS_E_IO);
    return COAPS_OK;
}
