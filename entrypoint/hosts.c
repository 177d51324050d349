/* SPDX-License-Identifier: MIT */
/* algo-N aliases for EKS pods: resolve the stable pod names, then teach /etc/hosts the aliases. */
#include "entrypoint/hosts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/num.h"

static int env_index(const struct envlist *env, long count, long *out, struct perr *err)
{
    const char *names[] = {"JOB_COMPLETION_INDEX", "PARITY_HOST_INDEX"};

    *out = 0;
    for (size_t i = 0; i < 2; i++) {
        const char *v = envlist_get(env, names[i]);
        uint64_t n;
        if (!v || !*v)
            continue;
        if (num_parse_u64(v, 0, (uint64_t)count - 1, &n, err) < 0)
            return perr_wrap(err, "invalid %s for a job of %ld host%s", names[i], count,
                             count == 1 ? "" : "s");
        *out = (long)n;
        return 0;
    }
    return 0;
}

int hosts_plan(struct hostplan *h,
               long count,
               bool eks,
               const char *job_name,
               const char *service,
               const struct envlist *env,
               struct perr *err)
{
    const char *given = envlist_get(env, "PARITY_HOSTS");
    struct buf b;

    *h = (struct hostplan){.count = count};
    if (count < 1 || count > HOSTS_MAX)
        return perr_set(err, PERR_PARSE, "host count %ld is outside 1..%d", count, HOSTS_MAX);
    if (env_index(env, count, &h->index, err) < 0)
        return -1;
    if (!eks) {
        /* Locally every host is this machine: in a container (PID 1) the aliases say so. */
        h->write_aliases = getpid() == 1;
        return 0;
    }
    if (count == 1)
        return 0; /* one host is this pod, and SageMaker gives it no alias either */
    h->write_aliases = true;
    buf_init(&b, 64u * 1024);
    if (given && *given) {
        if (buf_append_str(&b, given, err) < 0)
            goto error;
    } else {
        for (long i = 0; i < count; i++) {
            if (buf_printf(&b, err, "%s%s-%ld.%s", i ? "," : "", job_name, i,
                           service ? service : job_name) < 0)
                goto error;
        }
    }
    h->peers = buf_steal(&b);
    return 0;
error:
    buf_cleanup(&b);
    return -1;
}

void hosts_cleanup(struct hostplan *h)
{
    free(h->peers);
    h->peers = NULL;
}

static long now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec;
}

/* The first IPv4 (else IPv6) address of name, as text. */
static int resolve(const char *name, char *ip, size_t ip_len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *a;
    int rc = getaddrinfo(name, NULL, &hints, &res);

    if (rc != 0)
        return -1;
    for (int want = AF_INET; want; want = want == AF_INET ? AF_INET6 : 0) {
        for (a = res; a; a = a->ai_next) {
            const void *addr;
            if (a->ai_family != want)
                continue;
            addr = want == AF_INET ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                   : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            if (inet_ntop(want, addr, ip, (socklen_t)ip_len)) {
                freeaddrinfo(res);
                return 0;
            }
        }
    }
    freeaddrinfo(res);
    return -1;
}

int hosts_write_aliases(const struct hostplan *h,
                        const char *hosts_file,
                        unsigned wait_s,
                        struct perr *err)
{
    long deadline = now_s() + (long)wait_s;
    const char *p = h->peers;
    struct buf lines;
    int fd;

    buf_init(&lines, 256u * 1024);
    for (long i = 0; i < h->count; i++) {
        char name[512], ip[INET6_ADDRSTRLEN];
        size_t n = p ? strcspn(p, ",") : 0;
        if (!p) {
            snprintf(ip, sizeof(ip), "127.0.0.1");
            if (buf_printf(&lines, err, "%s\talgo-%ld\n", ip, i + 1) < 0) {
                buf_cleanup(&lines);
                return -1;
            }
            continue;
        }
        if (n == 0 || n >= sizeof(name)) {
            buf_cleanup(&lines);
            return perr_set(err, PERR_PARSE, "PARITY_HOSTS must name %ld hosts separated by commas",
                            h->count);
        }
        snprintf(name, sizeof(name), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        /* Pods register in DNS as they start; waiting here is what the toolkit does too. */
        while (resolve(name, ip, sizeof(ip)) < 0) {
            if (now_s() >= deadline) {
                buf_cleanup(&lines);
                return perr_set(err, PERR_TIMEOUT,
                                "peer algo-%ld (%s) did not resolve within %u s; "
                                "check the headless Service and that the pod is running",
                                i + 1, name, wait_s);
            }
            sleep(1);
        }
        log_info("hosts", "resolved host=algo-%ld name=%s ip=%s", i + 1, name, ip);
        if (buf_printf(&lines, err, "%s\talgo-%ld\n", ip, i + 1) < 0) {
            buf_cleanup(&lines);
            return -1;
        }
    }
    fd = open(hosts_file, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || write(fd, lines.data, lines.len) != (ssize_t)lines.len) {
        perr_sys(err, "appending algo-N aliases to %s", hosts_file);
        if (fd >= 0)
            close(fd);
        buf_cleanup(&lines);
        return -1;
    }
    close(fd);
    buf_cleanup(&lines);
    return 0;
}
