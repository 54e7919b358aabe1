/*
 * coaps/export.h - what the library exports.
 *
 * The library is compiled with -fvisibility=hidden: a function is visible
 * to programs linking libcoaps.so or libcoaps.a only when its declaration
 * in a public header carries COAPS_API. Everything else (the DTLS engine's
 * internals, the crypto backend, the Linux edge) stays inside the library,
 * so its names cannot collide with libcoap's, tinydtls's or the program's.
 * tests/install/test_exports.sh fails on any exported symbol that is not
 * declared COAPS_API in include/coaps/.
 */
#ifndef COAPS_EXPORT_H
#define COAPS_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define COAPS_API __attribute__((visibility("default")))
#else
#define COAPS_API
#endif

#endif /* COAPS_EXPORT_H */
