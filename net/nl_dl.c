/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnl-3 and libnl-route-3 are dlopen()ed when the first netlink socket
 * is opened, not linked: only bridged and tap networking needs them, but
 * a linked libnl-route-3 costs every qemuctl process ~0.2 ms at exec
 * (loading, relocations, and constructors that even stat
 * /etc/libnl/classid).
 *
 * They are bound lazily, as linked libraries are (RTLD_NOW would resolve
 * every PLT entry of both at load), and RTLD_LOCAL: their symbols stay out
 * of the process's global scope, so nothing loaded later binds to them by
 * accident; libnl-route-3 finds libnl-3 through its own DT_NEEDED.
 *
 * This file defines the libnl functions net/ calls, under their own names
 * and with the prototypes of <netlink/...> (the compiler checks each
 * definition against its declaration), as hidden symbols: each loads the
 * libraries once (pthread_once) and calls the real function.  Hidden, they
 * never interpose libnl's own symbols, whether it is loaded here or linked
 * by a program that also calls it.  None of these is a macro or an inline
 * function in libnl's headers, and net/ uses none of libnl's variables.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#pragma GCC visibility push(hidden)
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#pragma GCC visibility pop

#include "net/net.h"

/* The sonames of Debian's libnl 3.x, which -dev packages we build against. */
#define NL_SONAME "libnl-3.so.200"
#define NL_PACKAGE "libnl-3-200"
#define ROUTE_SONAME "libnl-route-3.so.200"
#define ROUTE_PACKAGE "libnl-route-3-200"

enum { NL, ROUTE, N_LIBS };

static const struct {
	const char *name, *soname, *package;
} libs[N_LIBS] = {
	[NL] = {"libnl-3", NL_SONAME, NL_PACKAGE},
	[ROUTE] = {"libnl-route-3", ROUTE_SONAME, ROUTE_PACKAGE},
};

/* X(library, return type, name, (parameters), (arguments), value when libnl is missing) */
#define NL_FUNCTIONS(X, XV)                                                                      \
	X(NL, struct nl_addr *, nl_addr_build, (int family, const void *buf, size_t size),       \
		(family, buf, size), NULL)                                                       \
	X(NL, void *, nl_addr_get_binary_addr, (const struct nl_addr *addr), (addr), NULL)       \
	X(NL, unsigned int, nl_addr_get_len, (const struct nl_addr *addr), (addr), 0)            \
	XV(NL, nl_addr_put, (struct nl_addr *addr), (addr))                                      \
	XV(NL, nl_addr_set_prefixlen, (struct nl_addr *addr, int prefixlen), (addr, prefixlen))  \
	XV(NL, nl_cache_free, (struct nl_cache *cache), (cache))                                 \
	X(NL, struct nl_object *, nl_cache_get_first, (struct nl_cache *cache), (cache), NULL)   \
	X(NL, struct nl_object *, nl_cache_get_next, (struct nl_object *obj), (obj), NULL)       \
	X(NL, int, nl_connect, (struct nl_sock *sk, int protocol), (sk, protocol), -NLE_FAILURE) \
	X(NL, const char *, nl_geterror, (int error), (error), "libnl is not loaded")            \
	X(NL, int, nl_send_auto, (struct nl_sock *sk, struct nl_msg *msg), (sk, msg),            \
		-NLE_FAILURE)                                                                    \
	X(NL, struct nl_sock *, nl_socket_alloc, (void), (), NULL)                               \
	XV(NL, nl_socket_free, (struct nl_sock *sk), (sk))                                       \
	X(NL, int, nl_socket_get_fd, (const struct nl_sock *sk), (sk), -1)                       \
	X(NL, int, nl_wait_for_ack, (struct nl_sock *sk), (sk), -NLE_FAILURE)                    \
	X(NL, int, nla_put_u32, (struct nl_msg *msg, int attrtype, uint32_t value),              \
		(msg, attrtype, value), -NLE_FAILURE)                                            \
	X(NL, struct nl_msg *, nlmsg_alloc_simple, (int nlmsgtype, int flags),                   \
		(nlmsgtype, flags), NULL)                                                        \
	X(NL, int, nlmsg_append, (struct nl_msg *msg, void *data, size_t len, int pad),          \
		(msg, data, len, pad), -NLE_FAILURE)                                             \
	XV(NL, nlmsg_free, (struct nl_msg *msg), (msg))                                          \
	X(ROUTE, int, rtnl_addr_add, (struct nl_sock *sk, struct rtnl_addr *addr, int flags),    \
		(sk, addr, flags), -NLE_FAILURE)                                                 \
	X(ROUTE, struct rtnl_addr *, rtnl_addr_alloc, (void), (), NULL)                          \
	X(ROUTE, int, rtnl_addr_alloc_cache, (struct nl_sock *sk, struct nl_cache **result),     \
		(sk, result), -NLE_FAILURE)                                                      \
	X(ROUTE, int, rtnl_addr_delete, (struct nl_sock *sk, struct rtnl_addr *addr, int flags), \
		(sk, addr, flags), -NLE_FAILURE)                                                 \
	X(ROUTE, int, rtnl_addr_get_family, (struct rtnl_addr *addr), (addr), -1)                \
	X(ROUTE, int, rtnl_addr_get_ifindex, (struct rtnl_addr *addr), (addr), 0)                \
	X(ROUTE, struct nl_addr *, rtnl_addr_get_local, (struct rtnl_addr *addr), (addr), NULL)  \
	X(ROUTE, int, rtnl_addr_get_prefixlen, (struct rtnl_addr *addr), (addr), 0)              \
	XV(ROUTE, rtnl_addr_put, (struct rtnl_addr *addr), (addr))                               \
	XV(ROUTE, rtnl_addr_set_family, (struct rtnl_addr *addr, int family), (addr, family))    \
	XV(ROUTE, rtnl_addr_set_ifindex, (struct rtnl_addr *addr, int ifindex), (addr, ifindex)) \
	X(ROUTE, int, rtnl_addr_set_local, (struct rtnl_addr *addr, struct nl_addr *local),      \
		(addr, local), -NLE_FAILURE)                                                     \
	X(ROUTE, int, rtnl_link_add, (struct nl_sock *sk, struct rtnl_link *link, int flags),    \
		(sk, link, flags), -NLE_FAILURE)                                                 \
	X(ROUTE, struct rtnl_link *, rtnl_link_alloc, (void), (), NULL)                          \
	X(ROUTE, struct rtnl_link *, rtnl_link_bridge_alloc, (void), (), NULL)                   \
	X(ROUTE, int, rtnl_link_change,                                                          \
		(struct nl_sock *sk, struct rtnl_link *orig, struct rtnl_link *changes,          \
			int flags),                                                              \
		(sk, orig, changes, flags), -NLE_FAILURE)                                        \
	X(ROUTE, int, rtnl_link_delete, (struct nl_sock *sk, const struct rtnl_link *link),      \
		(sk, link), -NLE_FAILURE)                                                        \
	X(ROUTE, unsigned int, rtnl_link_get_flags, (struct rtnl_link *link), (link), 0)         \
	X(ROUTE, int, rtnl_link_get_ifindex, (struct rtnl_link *link), (link), 0)                \
	X(ROUTE, int, rtnl_link_get_kernel,                                                      \
		(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **result),  \
		(sk, ifindex, name, result), -NLE_FAILURE)                                       \
	X(ROUTE, int, rtnl_link_get_master, (struct rtnl_link *link), (link), 0)                 \
	X(ROUTE, unsigned int, rtnl_link_get_mtu, (struct rtnl_link *link), (link), 0)           \
	X(ROUTE, char *, rtnl_link_get_name, (struct rtnl_link *link), (link), NULL)             \
	X(ROUTE, char *, rtnl_link_get_type, (struct rtnl_link *link), (link), NULL)             \
	XV(ROUTE, rtnl_link_put, (struct rtnl_link *link), (link))                               \
	XV(ROUTE, rtnl_link_set_flags, (struct rtnl_link *link, unsigned int flags),             \
		(link, flags))                                                                   \
	XV(ROUTE, rtnl_link_set_group, (struct rtnl_link *link, uint32_t group), (link, group))  \
	XV(ROUTE, rtnl_link_set_master, (struct rtnl_link *link, int ifindex), (link, ifindex))  \
	XV(ROUTE, rtnl_link_set_mtu, (struct rtnl_link *link, unsigned int mtu), (link, mtu))    \
	XV(ROUTE, rtnl_link_set_name, (struct rtnl_link *link, const char *name), (link, name))

#define MEMBER(lib, type, name, params, args, fail) __typeof__(name) *name;
#define MEMBER_V(lib, name, params, args) __typeof__(name) *name;
static struct {
	NL_FUNCTIONS(MEMBER, MEMBER_V)
} fns;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[600];

static void load(void)
{
	__typeof__(fns) t;
	void *dl[N_LIBS] = {NULL};

	/* libnl-3 first: libnl-route-3 needs it, and its package is the one to name. */
	for (int i = 0; i < N_LIBS; i++) {
		if (!(dl[i] = dlopen(libs[i].soname, RTLD_LAZY | RTLD_LOCAL))) {
			snprintf(load_error, sizeof(load_error),
				"cannot load %s: %s; install the Debian package %s (apt-get "
				"install %s)",
				libs[i].name, dlerror(), libs[i].package, libs[i].package);
			goto unload;
		}
	}
#define RESOLVE(lib, fn)                                                                     \
	if (!(t.fn = (__typeof__(t.fn)) dlsym(dl[lib], #fn))) {                              \
		snprintf(load_error, sizeof(load_error),                                     \
			"cannot load %s: %s has no %s; install the Debian package %s (>= 3.4)", \
			libs[lib].name, libs[lib].soname, #fn, libs[lib].package);           \
		goto unload;                                                                 \
	}
#define RESOLVE_X(lib, type, name, params, args, fail) RESOLVE(lib, name)
#define RESOLVE_XV(lib, name, params, args) RESOLVE(lib, name)
	NL_FUNCTIONS(RESOLVE_X, RESOLVE_XV)
	fns = t;
	loaded = true;
	return;
unload:
	for (int i = N_LIBS - 1; i >= 0; i--)
		if (dl[i])
			dlclose(dl[i]);
}

static bool ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

int qc_net_nl_load(struct qc_error *err)
{
	if (!ready())
		return qc_error_set(err, QC_ERR_UNSUPPORTED, "%s", load_error);
	return 0;
}

#define DEFINE(lib, type, name, params, args, fail) \
	QC_DL_FORWARD(ready(), fns, type, name, params, args, fail)
#define DEFINE_V(lib, name, params, args) QC_DL_FORWARD_VOID(ready(), fns, name, params, args)
NL_FUNCTIONS(DEFINE, DEFINE_V)
