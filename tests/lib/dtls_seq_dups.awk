# dtls_seq_dups.awk - the DTLS records a capture holds, and any (epoch,
# sequence number) sent twice on one session (RFC 6347 4.1: never, under
# one key; issue 19: not even when the session moves between nodes).
#
# Input: `tcpdump -r FILE -nn -x` of the datagrams of one direction (the
# servers' answers), IPv4/UDP. Each datagram's records are walked (RFC 6347
# 4.1; a tls12_cid record, content type 25, carries cidlen bytes of CID
# after its sequence number, RFC 9146 4). A record's session is its CID
# when it has one (the device's: it stays the same when the device moves),
# else the datagram's destination address and port, begun afresh at each
# ServerHello to that address (a new handshake: new keys, sequence numbers
# from 0 again). Epoch 0 records are cleartext handshake, outside the rule.
#
#   awk -v cidlen=8 -f dtls_seq_dups.awk
# prints "dup SESSION EPOCH SEQ" for each repeat, then one summary line:
#   "records R encrypted E cid C dups D bad B"
# (E: records of epoch >= 1; C: of those, tls12_cid; B: datagrams whose
# records did not parse to their end).

BEGIN {
    for (i = 0; i < 16; i++) hexval[substr("0123456789abcdef", i + 1, 1)] = i
}

function byte(pos) {    # the byte at offset pos of the datagram's hex
    return hexval[substr(hex, 2 * pos + 1, 1)] * 16 + hexval[substr(hex, 2 * pos + 2, 1)]
}
function bytes(pos, n) { return substr(hex, 2 * pos + 1, 2 * n) }

function datagram(   n, off, type, epoch, seq, hdr, len, key) {
    n = length(hex) / 2
    off = (byte(0) % 16) * 4 + 8       # past the IPv4 and UDP headers
    while (off < n) {
        if (off + 13 > n) { bad++; return }
        type = byte(off)
        epoch = bytes(off + 3, 2)
        seq = bytes(off + 5, 6)
        hdr = 11
        if (type == 25) hdr += cidlen
        if (off + hdr + 2 > n) { bad++; return }
        len = byte(off + hdr) * 256 + byte(off + hdr + 1)
        if (off + hdr + 2 + len > n) { bad++; return }
        records++
        key = type == 25 ? "cid:" bytes(off + 11, cidlen) : "addr:" dst "#" gen[dst]
        if (epoch == "0000") {
            # handshake message type 2: ServerHello, a new session's first
            if (type == 22 && len > 0 && byte(off + hdr + 2) == 2) gen[dst]++
        } else {
            encrypted++
            if (type == 25) cid++
            if ((key, epoch, seq) in seen) {
                dups++
                print "dup", key, epoch, seq
            }
            seen[key, epoch, seq] = 1
        }
        off += hdr + 2 + len
    }
}

# "12:00:00.000000 IP 10.90.0.1.5684 > 10.90.2.2.21001: UDP, length 45"
/^[0-9]/ {
    if (hex != "") datagram()
    hex = ""
    dst = $5
    sub(/:$/, "", dst)
    next
}
# "\t0x0000:  4500 0049 ..."
/^[ \t]+0x/ {
    for (i = 2; i <= NF; i++) hex = hex $i
}
END {
    if (hex != "") datagram()
    printf "records %d encrypted %d cid %d dups %d bad %d\n", records, encrypted, cid, dups, bad
}
