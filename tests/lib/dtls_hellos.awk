# dtls_hellos.awk - the randoms of the ClientHellos and ServerHellos in a
# capture (RFC 6347 4.2.2, 4.3.2; RFC 5246 7.4.1.2), in order, one a line:
#   "CH SOURCE RANDOM"       a ClientHello from SOURCE (address.port)
#   "SH DESTINATION RANDOM"  a ServerHello to DESTINATION
#   "E1 SOURCE DESTINATION NONCE DATA"  an epoch-1 record of an AEAD suite
#                            with an explicit nonce (RFC 6655 3): its 8-byte
#                            nonce and first 16 bytes of ciphertext
# (tls12_cid records carry cidlen bytes of CID: awk -v cidlen=N).
# With the client random and master secret of an NSS key log this gives a
# session's key block (RFC 5246 6.3). Input: `tcpdump -r FILE -nn -x`,
# IPv4/UDP; only unfragmented hello records of epoch 0.

BEGIN {
    for (i = 0; i < 16; i++) hexval[substr("0123456789abcdef", i + 1, 1)] = i
}

function byte(pos) {
    return hexval[substr(hex, 2 * pos + 1, 1)] * 16 + hexval[substr(hex, 2 * pos + 2, 1)]
}

function datagram(   n, off, type, hdr, len, body, msg) {
    n = length(hex) / 2
    off = (byte(0) % 16) * 4 + 8
    while (off + 13 <= n) {
        type = byte(off)
        hdr = type == 25 ? 11 + cidlen : 11
        len = byte(off + hdr) * 256 + byte(off + hdr + 1)
        body = off + hdr + 2
        if (substr(hex, 2 * off + 7, 4) == "0001" && len >= 24)
            print "E1", src, dst, substr(hex, 2 * body + 1, 16), substr(hex, 2 * (body + 8) + 1, 32)
        # epoch 0, handshake, fragment_offset 0, room for version and random
        if (type == 22 && substr(hex, 2 * off + 7, 4) == "0000" && len >= 46 &&
            substr(hex, 2 * (body + 6) + 1, 6) == "000000") {
            msg = byte(body)
            if (msg == 1) print "CH", src, substr(hex, 2 * (body + 14) + 1, 64)
            if (msg == 2) print "SH", dst, substr(hex, 2 * (body + 14) + 1, 64)
        }
        off = body + len
    }
}

# "12:00:00.000000 IP 10.90.2.2.21001 > 10.90.0.1.5684: UDP, length 45"
/^[0-9]/ {
    if (hex != "") datagram()
    hex = ""
    src = $3
    dst = $5
    sub(/:$/, "", dst)
    next
}
/^[ \t]+0x/ {
    for (i = 2; i <= NF; i++) hex = hex $i
}
END {
    if (hex != "") datagram()
}
