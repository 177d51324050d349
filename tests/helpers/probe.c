/* SPDX-License-Identifier: MIT */
/* probe: the child side of parity-init's integration tests; one subcommand per behaviour. */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Exit code for the probe's own failures (bad usage, failed syscalls). */
#define PROBE_FAIL 111
/* Exit code when a bounded wait runs out. */
#define PROBE_TIMEOUT 124
/* No probe process lives longer than this, so a broken init cannot leak them for long. */
#define LIFETIME_S 300

extern char **environ;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* write_all: writes len bytes to fd, retrying short writes and EINTR. */
static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* say: one line on stdout, written with a single write(2) so that lines from several
 * processes sharing a pipe never interleave. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    (void)write_all(STDOUT_FILENO, buf, (size_t)n);
}

static void die(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "probe: %s\n", buf);
    _exit(PROBE_FAIL);
}

static long parse_long(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        die("bad %s: '%s' (want %ld..%ld)", what, s, lo, hi);
    return v;
}

static int parse_signal(const char *s)
{
    return (int)parse_long(s, 1, _NSIG - 1, "signal number");
}

static long long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Sleeps out the probe's lifetime, then exits: the "stay alive until killed" of every mode. */
static void linger(void) __attribute__((noreturn));

static void linger(void)
{
    sleep_ms(LIFETIME_S * 1000L);
    _exit(PROBE_TIMEOUT);
}

/* fork, retrying for a while when the process table is momentarily full. */
static pid_t xfork(void)
{
    for (int tries = 0; tries < 3000; tries++) {
        pid_t pid = fork();
        if (pid >= 0)
            return pid;
        if (errno != EAGAIN && errno != ENOMEM)
            break;
        sleep_ms(10);
    }
    die("fork: %s", strerror(errno));
}

/* Reads one byte per expected peer from a readiness pipe. */
static void await_ready(int fd, int peers)
{
    char c;

    for (int got = 0; got < peers;) {
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("a helper process died before it was ready");
        got++;
    }
}

/* Every signal a process can wait for: all but SIGKILL/SIGSTOP (and libc-reserved ones,
 * which sigaddset refuses). */
static void catchable_signals(sigset_t *set)
{
    sigemptyset(set);
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaddset(set, sig);
    }
}

/* Waits for a signal of set until the lifetime ends; returns the signal number. */
static int wait_signal(const sigset_t *set, siginfo_t *info, long long deadline)
{
    for (;;) {
        long long left = deadline - monotonic_ms();
        if (left <= 0) {
            say("timeout");
            _exit(PROBE_TIMEOUT);
        }
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        int sig = sigtimedwait(set, info, &ts);
        if (sig > 0)
            return sig;
        if (errno != EINTR && errno != EAGAIN)
            die("sigtimedwait: %s", strerror(errno));
    }
}

/* exit N */
static int cmd_exit(int argc, char **argv)
{
    if (argc != 1)
        die("usage: exit N");
    return (int)parse_long(argv[0], 0, 255, "exit code");
}

/* kill-self SIG: dies by SIG with the default action (and without a core dump). */
static int cmd_kill_self(int argc, char **argv)
{
    struct rlimit no_core = {0, 0};
    sigset_t set;
    int sig;

    if (argc != 1)
        die("usage: kill-self SIG");
    sig = parse_signal(argv[0]);
    (void)setrlimit(RLIMIT_CORE, &no_core);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (sig != SIGKILL && sig != SIGSTOP)
        signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    die("still alive after raising signal %d", sig);
}

/* signals [--count N] [--code C] [--fork]: prints "signal N from=PID" for each signal received
 * and exits with C after N of them (N=0: never). --fork adds a child in the same process group
 * that prints "child signal N from=PID" until the main process stops it. */
static int cmd_signals(int argc, char **argv)
{
    long count = 1, code = 0, received = 0;
    int with_child = 0, ready[2];
    long long deadline = monotonic_ms() + LIFETIME_S * 1000LL;
    pid_t child = 0, self = getpid();
    siginfo_t info;
    sigset_t set;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = parse_long(argv[++i], 0, 1000000, "count");
        else if (strcmp(argv[i], "--code") == 0 && i + 1 < argc)
            code = parse_long(argv[++i], 0, 255, "exit code");
        else if (strcmp(argv[i], "--fork") == 0)
            with_child = 1;
        else
            die("usage: signals [--count N] [--code C] [--fork]");
    }

    catchable_signals(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        die("sigprocmask: %s", strerror(errno));
    if (with_child) {
        /* The main process's own child would report SIGCHLD; keep it blocked, not reported. */
        sigdelset(&set, SIGCHLD);
        if (pipe(ready) < 0)
            die("pipe: %s", strerror(errno));
        child = xfork();
        if (child == 0) {
            close(ready[0]);
            say("child ready pid=%d pgid=%d", (int)getpid(), (int)getpgrp());
            (void)write_all(ready[1], "x", 1);
            close(ready[1]);
            for (;;) {
                int sig = wait_signal(&set, &info, deadline);
                if (sig == SIGRTMAX && info.si_pid == self)
                    _exit(0);
                say("child signal %d from=%d", sig, (int)info.si_pid);
            }
        }
        close(ready[1]);
        await_ready(ready[0], 1);
        close(ready[0]);
    }

    say("ready pid=%d ppid=%d pgid=%d", (int)self, (int)getppid(), (int)getpgrp());
    while (count == 0 || received < count) {
        int sig = wait_signal(&set, &info, deadline);
        say("signal %d from=%d", sig, (int)info.si_pid);
        received++;
    }
    if (child > 0) {
        /* Signals sent to the group before now are already pending in the child, and
         * standard signals and lower real-time ones are dequeued before SIGRTMAX. */
        kill(child, SIGRTMAX);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    return (int)code;
}

/* ignore SIG [SIG...]: ignores the signals, prints "ready ...", then lingers. */
static int cmd_ignore(int argc, char **argv)
{
    if (argc < 1)
        die("usage: ignore SIG [SIG...]");
    for (int i = 0; i < argc; i++) {
        if (signal(parse_signal(argv[i]), SIG_IGN) == SIG_ERR)
            die("cannot ignore signal %s", argv[i]);
    }
    say("ready pid=%d ppid=%d pgid=%d", (int)getpid(), (int)getppid(), (int)getpgrp());
    linger();
}

/* Reads "Key:\tvalue" from /proc/self/status into out (empty when absent). */
static void proc_status_field(const char *key, char *out, size_t size)
{
    char line[256];
    size_t klen = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");

    out[0] = '\0';
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            snprintf(out, size, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

/* Prints s as a JSON string; bytes >= 0x80 pass through, so UTF-8 stays UTF-8. */
static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* status: one JSON object with pid, ppid, pgid, sid, SigBlk, SigIgn and /proc/1/comm. */
static int cmd_status(int argc, char **argv)
{
    char blocked[64], ignored[64], comm[64] = "";
    FILE *f;

    (void)argv;
    if (argc != 0)
        die("usage: status");
    proc_status_field("SigBlk", blocked, sizeof(blocked));
    proc_status_field("SigIgn", ignored, sizeof(ignored));
    f = fopen("/proc/1/comm", "r");
    if (f != NULL) {
        if (fgets(comm, sizeof(comm), f) == NULL)
            comm[0] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    printf("{\"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, \"sigblk\": ", (int)getpid(),
           (int)getppid(), (int)getpgrp(), (int)getsid(0));
    json_string(blocked);
    printf(", \"sigign\": ");
    json_string(ignored);
    printf(", \"pid1_comm\": ");
    json_string(comm);
    printf("}\n");
    return fflush(stdout) == 0 ? 0 : PROBE_FAIL;
}

/* caps: one JSON object with the credential and hardening fields of /proc/self/status (Uid, Gid,
 * Groups, the five capability sets, NoNewPrivs, Seccomp, Umask) and $HOME (null when unset). */
static int cmd_caps(int argc, char **argv)
{
    static const char *const keys[] = {"Uid",    "Gid",        "Groups", "CapInh",
                                       "CapPrm", "CapEff",     "CapBnd", "CapAmb",
                                       "Umask",  "NoNewPrivs", "Seccomp"};
    const char *home = getenv("HOME");
    char value[512];

    (void)argv;
    if (argc != 0)
        die("usage: caps");
    putchar('{');
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        proc_status_field(keys[i], value, sizeof(value));
        printf("%s\"%s\": ", i ? ", " : "", keys[i]);
        json_string(value);
    }
    printf(", \"HOME\": ");
    if (home != NULL)
        json_string(home);
    else
        printf("null");
    printf("}\n");
    return fflush(stdout) == 0 ? 0 : PROBE_FAIL;
}

/* Prints a NULL-terminated string vector as a JSON array. */
static int print_json_array(char **v)
{
    putchar('[');
    for (int i = 0; v[i] != NULL; i++) {
        if (i > 0)
            printf(", ");
        json_string(v[i]);
    }
    printf("]\n");
    return fflush(stdout) == 0 ? 0 : PROBE_FAIL;
}

/* argv [ARG...]: the probe's whole argv as a JSON array (argv[0] included). */
static int cmd_argv(int argc, char **argv)
{
    (void)argc;
    /* argv is main's argv + 2, so argv - 2 is the whole vector. */
    return print_json_array(argv - 2);
}

/* env: the environment as a JSON array of "KEY=VALUE" strings, in order. */
static int cmd_env(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        die("usage: env");
    return print_json_array(environ);
}

/* Counts the processes other than this one whose parent is parent, and which are zombies. */
static void count_children(pid_t parent, int *alive, int *zombies)
{
    DIR *dir = opendir("/proc");
    struct dirent *d;

    *alive = *zombies = 0;
    if (dir == NULL)
        die("opendir /proc: %s", strerror(errno));
    while ((d = readdir(dir)) != NULL) {
        char path[64], buf[512], state;
        int pid = (int)strtol(d->d_name, NULL, 10), ppid;
        FILE *f;

        if (pid <= 0 || pid == getpid())
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(buf, sizeof(buf), f) != NULL) {
            /* The command name may hold spaces and parentheses: parse after the last ')'. */
            char *rp = strrchr(buf, ')');
            if (rp != NULL && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == parent) {
                if (state == 'Z')
                    (*zombies)++;
                else
                    (*alive)++;
            }
        }
        fclose(f);
    }
    closedir(dir);
}

/* Runs in a fresh child: forks a grandchild that waits until its parent (this child) is gone,
 * so that it has been re-parented to the init, then exits; this child exits at once. */
static void make_orphan(int verbose)
{
    pid_t parent = getpid(), orphan;
    int gone[2];
    char c;

    if (pipe(gone) < 0)
        _exit(1);
    orphan = fork();
    if (orphan < 0)
        _exit(1);
    if (orphan == 0) {
        close(gone[1]);
        while (read(gone[0], &c, 1) < 0 && errno == EINTR)
            ;
        /* EOF comes when the parent's files close, a moment before it is re-parented. */
        while (getppid() == parent)
            sleep_ms(1);
        if (verbose)
            say("orphan pid=%d ppid=%d", (int)getpid(), (int)getppid());
        _exit(0);
    }
    _exit(0);
}

/* orphans N [--batch B] [--verbose] [--timeout S]: makes N orphans, B at a time, then waits
 * until the init (our parent) has no child but us; prints "zombies Z alive A". */
static int cmd_orphans(int argc, char **argv)
{
    long total, batch = 100, timeout_s = 60, failed = 0;
    int verbose = 0, alive, zombies;
    pid_t init = getppid();
    long long deadline;

    if (argc < 1)
        die("usage: orphans N [--batch B] [--verbose] [--timeout S]");
    total = parse_long(argv[0], 0, 1000000, "orphan count");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = parse_long(argv[++i], 1, 10000, "batch size");
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout_s = parse_long(argv[++i], 1, LIFETIME_S, "timeout");
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = 1;
        else
            die("usage: orphans N [--batch B] [--verbose] [--timeout S]");
    }

    for (long done = 0; done < total;) {
        long n = total - done < batch ? total - done : batch;
        for (long i = 0; i < n; i++) {
            if (xfork() == 0)
                make_orphan(verbose);
        }
        for (long i = 0; i < n; i++) {
            int status;
            if (wait(&status) < 0) {
                if (errno == EINTR) {
                    i--;
                    continue;
                }
                die("wait: %s", strerror(errno));
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failed++;
        }
        done += n;
    }
    if (failed > 0)
        die("%ld of %ld orphans could not be created", failed, total);

    deadline = monotonic_ms() + timeout_s * 1000LL;
    for (;;) {
        count_children(init, &alive, &zombies);
        if ((alive == 0 && zombies == 0) || monotonic_ms() > deadline)
            break;
        sleep_ms(20);
    }
    say("zombies %d alive %d", zombies, alive);
    return alive == 0 && zombies == 0 ? 0 : 1;
}

/* group N [--ignore-term] [--code C] [--stay]: forks N members into this process group; each
 * prints "member PID signal 15" and exits on SIGTERM (or ignores it with --ignore-term). Prints
 * "ready pid=P pgid=G members=A,B,..." then exits with C, or lingers with --stay. */
static int cmd_group(int argc, char **argv)
{
    long members, code = 0;
    int ignore_term = 0, stay = 0, ready[2];
    char list[4096] = "";
    size_t used = 0;

    if (argc < 1)
        die("usage: group N [--ignore-term] [--code C] [--stay]");
    members = parse_long(argv[0], 1, 100, "member count");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ignore-term") == 0)
            ignore_term = 1;
        else if (strcmp(argv[i], "--stay") == 0)
            stay = 1;
        else if (strcmp(argv[i], "--code") == 0 && i + 1 < argc)
            code = parse_long(argv[++i], 0, 255, "exit code");
        else
            die("usage: group N [--ignore-term] [--code C] [--stay]");
    }
    if (ignore_term)
        signal(SIGTERM, SIG_IGN);
    if (pipe(ready) < 0)
        die("pipe: %s", strerror(errno));

    for (long i = 0; i < members; i++) {
        pid_t pid = xfork();
        if (pid == 0) {
            sigset_t term;
            siginfo_t info;

            close(ready[0]);
            if (ignore_term) {
                (void)write_all(ready[1], "x", 1);
                linger();
            }
            sigemptyset(&term);
            sigaddset(&term, SIGTERM);
            sigprocmask(SIG_BLOCK, &term, NULL);
            (void)write_all(ready[1], "x", 1);
            close(ready[1]);
            say("member %d signal %d", (int)getpid(),
                wait_signal(&term, &info, monotonic_ms() + LIFETIME_S * 1000LL));
            _exit(0);
        }
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", i ? "," : "", (int)pid);
    }
    close(ready[1]);
    await_ready(ready[0], (int)members);
    close(ready[0]);
    say("ready pid=%d pgid=%d members=%s", (int)getpid(), (int)getpgrp(), list);
    if (stay)
        linger();
    return (int)code;
}

/* alloc MB: touches MB mebibytes, one page at a time, then reports; an OOM kill ends it first. */
static int cmd_alloc(int argc, char **argv)
{
    long mb;

    if (argc != 1)
        die("usage: alloc MB");
    mb = parse_long(argv[0], 0, 1L << 20, "size in MiB");
    say("ready pid=%d", (int)getpid());
    for (long i = 0; i < mb; i++) {
        char *p = malloc(1 << 20);
        if (p == NULL)
            die("malloc failed after %ld MiB", i);
        for (size_t k = 0; k < (1 << 20); k += 4096)
            p[k] = 1;
    }
    say("allocated %ld MiB", mb);
    return 0;
}

/* cat: copies stdin to stdout until EOF. */
static int cmd_cat(int argc, char **argv)
{
    char buf[65536];

    (void)argv;
    if (argc != 0)
        die("usage: cat");
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read: %s", strerror(errno));
        if (n == 0)
            return 0;
        if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
            die("write: %s", strerror(errno));
    }
}

/* Decodes hex into bytes; returns the length. */
static size_t unhex(const char *hex, char *out, size_t size)
{
    size_t len = strlen(hex), n = 0;

    if (len % 2 != 0 || len / 2 > size)
        die("bad hex string");
    for (size_t i = 0; i < len; i += 2) {
        unsigned int byte;
        if (sscanf(hex + i, "%2x", &byte) != 1)
            die("bad hex string");
        out[n++] = (char)byte;
    }
    return n;
}

/* stdio OUTHEX ERRHEX: writes the decoded bytes to stdout, then to stderr, as they are. */
static int cmd_stdio(int argc, char **argv)
{
    static char buf[65536];
    size_t n;

    if (argc != 2)
        die("usage: stdio OUTHEX ERRHEX");
    n = unhex(argv[0], buf, sizeof(buf));
    if (write_all(STDOUT_FILENO, buf, n) < 0)
        die("write stdout: %s", strerror(errno));
    n = unhex(argv[1], buf, sizeof(buf));
    if (write_all(STDERR_FILENO, buf, n) < 0)
        die("write stderr: %s", strerror(errno));
    return 0;
}

/* Blocks (block=1) or ignores (block=0) each signal of a comma-separated list. */
static void apply_signals(const char *list, int block)
{
    char copy[256], *save = NULL;

    snprintf(copy, sizeof(copy), "%s", list);
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int sig = parse_signal(tok);
        sigset_t set;

        sigemptyset(&set);
        if (block ? sigaddset(&set, sig) < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0
                  : signal(sig, SIG_IGN) == SIG_ERR)
            die("cannot %s signal %d", block ? "block" : "ignore", sig);
    }
}

/* Every signal to SIG_DFL and unblocked, through the raw system calls: libc refuses to touch the
 * signals it reserves (32-34), and a parent such as GNU make leaves some of those ignored. */
static void reset_signals(void)
{
    /* The kernel's struct sigaction on x86_64: handler, flags, restorer, mask. */
    struct kernel_sigaction {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    };
    struct kernel_sigaction dfl = {SIG_DFL, 0, NULL, 0};
    unsigned long none = 0;

    for (int sig = 1; sig <= 64; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(unsigned long));
    }
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(unsigned long));
}

/* exec [--reset] [--block S,S] [--ignore S,S] -- CMD [ARG...]: starts CMD with every signal
 * reset first (--reset), then those signals blocked and ignored, the way a container runtime
 * or shell might start an init. */
static int cmd_exec(int argc, char **argv)
{
    int i;

    for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--reset") == 0)
            reset_signals();
        else if (strcmp(argv[i], "--block") == 0 && i + 1 < argc)
            apply_signals(argv[++i], 1);
        else if (strcmp(argv[i], "--ignore") == 0 && i + 1 < argc)
            apply_signals(argv[++i], 0);
        else
            die("usage: exec [--reset] [--block S,S] [--ignore S,S] -- CMD [ARG...]");
    }
    if (i + 1 >= argc)
        die("usage: exec [--reset] [--block S,S] [--ignore S,S] -- CMD [ARG...]");
    execvp(argv[i + 1], argv + i + 1);
    die("exec %s: %s", argv[i + 1], strerror(errno));
}

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"exit", cmd_exit},     {"kill-self", cmd_kill_self}, {"signals", cmd_signals},
    {"ignore", cmd_ignore}, {"status", cmd_status},       {"argv", cmd_argv},
    {"env", cmd_env},       {"orphans", cmd_orphans},     {"group", cmd_group},
    {"cat", cmd_cat},       {"alloc", cmd_alloc},         {"stdio", cmd_stdio},
    {"exec", cmd_exec},     {"caps", cmd_caps},
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "usage: probe COMMAND [ARG...]; commands:");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, "\n");
    return PROBE_FAIL;
}
