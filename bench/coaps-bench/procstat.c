/*
 * procstat.c - what the server process costs, read from /proc (proc(5)).
 *
 * CPU: utime + stime (fields 14 and 15 of /proc/PID/stat, in clock ticks of
 * sysconf(_SC_CLK_TCK), usually 10 ms) summed over all its threads, and
 * stime alone: the part spent in the kernel (system calls, and on
 * loopback the softirq that delivers what it sends to the receiver).
 * Memory: VmRSS of /proc/PID/status, the resident set in kB.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* "/proc/" + a pid (at most 10 digits) + "/status" + NUL, rounded up. */
#define PROC_PATH_MAX 48
/* /proc/PID/stat is one line; comm is at most 16 bytes, the other 50-odd
 * fields are numbers: 1 KiB holds it with room. */
#define PROC_STAT_MAX 1024
/* Fields between ")" and utime: state (3) .. cmajflt (13). */
#define PROC_FIELDS_BEFORE_UTIME 11

static bool read_cpu_us(int pid, uint64_t *cpu_us, uint64_t *sys_us)
{
    char path[PROC_PATH_MAX];
    char line[PROC_STAT_MAX];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got)
        return false;
    /* comm may hold spaces and parentheses: the fields start after the
     * last ')'. */
    const char *p = strrchr(line, ')');
    if (p == NULL)
        return false;
    p++;
    for (int i = 0; i < PROC_FIELDS_BEFORE_UTIME; i++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return false;
    }
    unsigned long long ut = 0, st = 0;
    if (sscanf(p, " %llu %llu", &ut, &st) != 2)
        return false;
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0)
        return false;
    *cpu_us = (uint64_t)(ut + st) * 1000000u / (uint64_t)tck;
    *sys_us = (uint64_t)st * 1000000u / (uint64_t)tck;
    return true;
}

static bool read_rss_kb(int pid, uint64_t *rss_kb)
{
    char path[PROC_PATH_MAX];
    char line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool found = false;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long kb;
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
            *rss_kb = kb;
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

void bench_proc_sample(int pid, struct bench_proc_sample *s)
{
    memset(s, 0, sizeof *s);
    if (pid <= 0)
        return;
    s->ok = read_cpu_us(pid, &s->cpu_us, &s->sys_us) && read_rss_kb(pid, &s->rss_kb);
}
