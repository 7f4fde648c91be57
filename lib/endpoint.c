/*
 * endpoint.c - name lookup of a ZeroMQ tcp:// endpoint's host (see endpoint.h).
 */
#include "endpoint.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errors.h"
#include "sanitize.h"

int endpoint_tcp_host(const char *url, char *host, size_t hostlen)
{
    if (hostlen == 0 || strncmp(url, "tcp://", 6) != 0)
        return 0;
    const char *h = url + 6;
    const char *semi = strchr(h, ';'); /* "IFACE;HOST:PORT": the source comes first */
    if (semi)
        h = semi + 1;
    const char *end;
    if (*h == '[') {
        h++;
        end = strchr(h, ']');
    } else {
        end = strrchr(h, ':');
    }
    if (end == NULL || end == h || (size_t)(end - h) >= hostlen)
        return 0;
    memcpy(host, h, (size_t)(end - h));
    host[end - h] = '\0';
    return 1;
}

int endpoint_check_resolves(const char *url, char *err, size_t errlen)
{
    char host[256];
    if (!endpoint_tcp_host(url, host, sizeof(host)) || strcmp(host, "*") == 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc == 0) {
        freeaddrinfo(res);
        return 0;
    }
    char *shown = sanitize_dup(host, 0);
    pyscope_set_err(err, errlen, "the host name \"%s\" does not resolve (%s)", shown,
                    gai_strerror(rc));
    free(shown);
    return -1;
}
