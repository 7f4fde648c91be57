/*
 * endpoint.c - name lookup of a ZeroMQ tcp:// endpoint's host, and the form of an endpoint
 * to bind (see endpoint.h).
 */
#include "endpoint.h"

#include <ctype.h>
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

/* Is port (up to its end) "*" or a number 0..65535? */
static int port_ok(const char *port)
{
    if (strcmp(port, "*") == 0)
        return 1;
    size_t n = strlen(port);
    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)port[i]))
            return 0;
    return atoi(port) <= 65535;
}

int endpoint_check_form(const char *url, char *err, size_t errlen)
{
    if (strncmp(url, "tcp://", 6) == 0) {
        const char *h = url + 6;
        const char *colon = strrchr(h, ':');
        if (colon != NULL && colon > h && port_ok(colon + 1))
            return 0;
    } else if ((strncmp(url, "ipc://", 6) == 0 && url[6] != '\0') ||
               (strncmp(url, "inproc://", 9) == 0 && url[9] != '\0')) {
        return 0;
    }
    char *shown = sanitize_dup(url, 0);
    pyscope_set_err(err, errlen,
                    "\"%s\" is not an endpoint to bind (expected tcp://ADDRESS:PORT, e.g. "
                    "tcp://0.0.0.0:5555, or ipc://PATH)",
                    shown);
    free(shown);
    return -1;
}
