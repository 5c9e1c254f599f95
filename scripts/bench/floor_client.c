/* floor_client: the least a streaming HTTP/1.1 client can do, for scripts/bench.sh part 2.
 *
 * It opens STREAMS connections at RATE per second (one request each, as the part 2 scenario's
 * constant-arrival-rate does), sends the same POST, and reads every response with one epoll loop and
 * recv() until the chunked terminator, counting "data:" lines. No HTTP parsing, no SSE decoding, no
 * clocks, no histograms: what is left is the kernel's cost (connect, send, epoll, one recv per packet)
 * and a loop. llmd-bench's CPU per event beside this one's, in the same run against the same server,
 * says how much of it is the client's own work and how much is the floor no client gets under.
 *
 * Usage: floor_client HOST PORT PATH BODY_FILE STREAMS RATE [PAUSE_US]
 * PAUSE_US (default 0): sleep this long after each batch of ready sockets before waiting again, so that
 * events arriving meanwhile are read in one wake, but never past the next arrival (llmd-bench's engine
 * pauses up to 5 ms the same way).
 * Prints one JSON object: streams, completed, failed, events, recv_calls, waits, user_s, sys_s.
 * Loopback benchmarks only; written by hand because it must be nothing more than this.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
  int fd;
  size_t sent;
  char tail[5]; /* the last bytes received, to find "0\r\n\r\n" across reads */
  size_t tail_len;
  int dataline; /* bytes of "data:" matched at the start of a line, across reads */
  int at_line_start;
};

static char *request;
static size_t request_len;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_conn(struct sockaddr_in *addr, int ep, struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)addr, sizeof *addr) < 0 && errno != EINPROGRESS) return -1;
  c->sent = 0;
  c->tail_len = 0;
  c->dataline = 0;
  c->at_line_start = 1;
  /* edge-triggered, as llmd-bench's built-in client: each wake-up reads until the socket is drained */
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Counts "data:" at line starts in buf, carrying a partial match across reads. */
static long count_events(struct conn *c, const char *buf, size_t n) {
  static const char key[] = "data:";
  long events = 0;
  for (size_t i = 0; i < n; ++i) {
    char ch = buf[i];
    if (c->at_line_start || c->dataline > 0) {
      if (ch == key[c->dataline]) {
        if (++c->dataline == 5) {
          ++events;
          c->dataline = 0;
        }
        c->at_line_start = 0;
        continue;
      }
      c->dataline = 0;
    }
    c->at_line_start = ch == '\n';
  }
  return events;
}

static int ends_response(struct conn *c, const char *buf, size_t n) {
  /* keep the last 5 bytes seen */
  char joined[5 + 5];
  size_t keep = n >= 5 ? 0 : (c->tail_len < 5 - n ? c->tail_len : 5 - n);
  memcpy(joined, c->tail + c->tail_len - keep, keep);
  size_t take = n >= 5 ? 5 : n;
  memcpy(joined + keep, buf + n - take, take);
  c->tail_len = keep + take;
  memcpy(c->tail, joined, c->tail_len);
  return c->tail_len == 5 && memcmp(c->tail, "0\r\n\r\n", 5) == 0;
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: %s HOST PORT PATH BODY_FILE STREAMS RATE [PAUSE_US]\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  const char *path = argv[3];
  long streams = atol(argv[5]);
  double rate = atof(argv[6]);
  long pause_us = argc == 8 ? atol(argv[7]) : 0;
  if (port <= 0 || streams <= 0 || rate <= 0 || pause_us < 0) {
    fprintf(stderr, "floor_client: PORT, STREAMS and RATE must be positive, PAUSE_US not negative\n");
    return 2;
  }
  FILE *f = fopen(argv[4], "rb");
  if (!f) {
    perror(argv[4]);
    return 2;
  }
  char body[65536];
  size_t body_len = fread(body, 1, sizeof body, f);
  fclose(f);
  request = malloc(body_len + 512);
  request_len = (size_t)sprintf(request,
                                "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                                "Accept: text/event-stream\r\nContent-Length: %zu\r\n\r\n",
                                path, host, port, body_len);
  memcpy(request + request_len, body, body_len);
  request_len += body_len;

  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "floor_client: HOST must be an IPv4 address: %s\n", host);
    return 2;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc((size_t)streams, sizeof *conns);
  struct epoll_event events[256];
  static char buf[16384];
  long opened = 0, open_now = 0, completed = 0, failed = 0, event_count = 0, recv_calls = 0, waits = 0;
  double start = now_s();
  while (opened < streams || open_now > 0) {
    double due = start + (double)opened / rate;
    double t = now_s();
    while (opened < streams && due <= t) {
      if (open_conn(&addr, ep, &conns[opened]) < 0) {
        ++failed;
        if (conns[opened].fd >= 0) close(conns[opened].fd);
      } else {
        ++open_now;
      }
      ++opened;
      due = start + (double)opened / rate;
    }
    int timeout = -1;
    if (opened < streams) timeout = (int)((due - t) * 1000.0) + 1;
    int n = epoll_wait(ep, events, 256, timeout);
    ++waits;
    for (int i = 0; i < n; ++i) {
      struct conn *c = events[i].data.ptr;
      int done = 0, bad = 0;
      if (c->sent < request_len) {
        while (c->sent < request_len) {
          ssize_t w = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
          if (w <= 0) {
            bad = w < 0 && errno != EAGAIN;
            break;
          }
          c->sent += (size_t)w;
        }
        if (c->sent == request_len) {
          struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
      } else {
        /* a short read drained the socket and later bytes wake the loop again; a full buffer reads
           again, and so does a close reported with this wake-up (no later edge would report it) */
        const int closed = (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        for (;;) {
          ssize_t r = recv(c->fd, buf, sizeof buf, 0);
          ++recv_calls;
          if (r > 0) {
            event_count += count_events(c, buf, (size_t)r);
            done = ends_response(c, buf, (size_t)r);
            if (done || ((size_t)r < sizeof buf && !closed)) break;
          } else {
            bad = r == 0 || errno != EAGAIN;
            break;
          }
        }
      }
      if (done || bad) {
        close(c->fd);
        c->fd = -1;
        --open_now;
        if (done) ++completed; else ++failed;
      }
    }
    if (pause_us > 0 && n > 0 && open_now > 0) {
      /* never past the next arrival: the schedule stays on time, as llmd-bench's does */
      double until = now_s() + (double)pause_us / 1e6;
      if (opened < streams && start + (double)opened / rate < until) until = start + (double)opened / rate;
      double left = until - now_s();
      if (left > 0) {
        struct timespec pause = {.tv_sec = (time_t)left, .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&pause, NULL);
      }
    }
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"streams\":%ld,\"completed\":%ld,\"failed\":%ld,\"events\":%ld,\"recv_calls\":%ld,"
         "\"waits\":%ld,\"user_s\":%.6f,\"sys_s\":%.6f}\n",
         streams, completed, failed, event_count, recv_calls, waits,
         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  return failed > 0 ? 1 : 0;
}
