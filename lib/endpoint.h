/*
 * endpoint.h - why a ZeroMQ endpoint cannot be reached, as far as a name
 * lookup can tell.
 *
 * ZeroMQ resolves a tcp:// host name in its I/O thread and, when the name
 * does not resolve, just retries: the socket monitor reports no event that
 * names the failure, so a client would say "nothing accepts connections".
 * The agent and the CLI ask the resolver themselves before saying that.
 */
#ifndef PYSCOPE_ENDPOINT_H
#define PYSCOPE_ENDPOINT_H

#include <stddef.h>

/*
 * The host part of a tcp:// endpoint (url borrowed: "tcp://HOST:PORT",
 * "tcp://[V6]:PORT", "tcp://IFACE;HOST:PORT") into host (hostlen bytes).
 * Returns 1 when there is one, 0 for other transports (ipc://, inproc://)
 * or a form without a host.
 */
int endpoint_tcp_host(const char *url, char *host, size_t hostlen);

/*
 * 0 when url is not tcp:// or its host name resolves (getaddrinfo; this
 * may block as long as the system's resolver takes); -1 when it does not,
 * with err (errlen bytes) saying so: `the host name "NAME" does not
 * resolve (Name or service not known)`.
 */
int endpoint_check_resolves(const char *url, char *err, size_t errlen);

/*
 * 0 when url has the form of an endpoint to bind: tcp://HOST:PORT (HOST an address, an
 * interface or "*", "[V6]" too; PORT 0..65535 or "*"), ipc://PATH or inproc://NAME; -1
 * with err (errlen bytes) saying what is expected. What only binding tells (an address
 * of another machine, a port in use, a folder that is missing) is not checked.
 */
int endpoint_check_form(const char *url, char *err, size_t errlen);

#endif
