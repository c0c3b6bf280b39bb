/* SPDX-License-Identifier: MIT */
/*
 * _ustack.c - the CPython extension under the `ustack` package: the socket
 * module of ../shared/spec/socket-module.zh.md (MicroPython's `socket`,
 * English reading in socket-api.md) as a thin layer over the C API of
 * include/ustack/ustack.h, plus a way to start a stack from Python.
 *
 * No RFC here: every behaviour (TCP, UDP, the stream and datagram semantics
 * of read/readline/write, the errors) is the C API's. This file converts
 * arguments, addresses and errors, and waits. Read docs/python.md first,
 * then ustack/ustack.h; the Python half is python/ustack/socket.py
 * (makefile, the `socket` subclass) and select.py (poll).
 *
 * Waiting. A C call blocked in pthread_cond_wait() cannot be interrupted
 * by a signal, and the C API has no call that wakes one waiter. So every C
 * socket of this module is non-blocking (us_settimeout(s, 0), set once),
 * the Python timeout lives in the object, and a call that would block
 * waits in us_poll() in slices of SLICE_MS with the GIL released; between
 * slices the Python signal handlers run (Ctrl-C raises KeyboardInterrupt)
 * and the deadline is checked. This is CPython's own design (its sockets
 * are non-blocking under a timeout, sock_call_ex() polls). The C calls'
 * non-blocking forms keep their semantics: a short read returns its part,
 * and the next call says whether that was the end of stream (0) or a wait
 * (EAGAIN); us_sendall reports how much it queued. A close from another
 * thread wakes the us_poll() at once (POLLNVAL) and the retry fails with
 * EBADF; a stopped runtime wakes it too (ENETDOWN).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/memlink.h>
#include <ustack/tap.h>
#include <ustack/ustack.h>

/* How long one us_poll() waits before the signal handlers and the deadline
 * are looked at: the latency of Ctrl-C. */
#define SLICE_MS 50

/* listen() without a backlog, as CPython's default (SOMAXCONN capped). */
#define DEFAULT_BACKLOG 128

/* The first buffer of readline() on a stream; it doubles as the line grows. */
#define LINE_FIRST 256

/* A datagram's largest size: read(), readline() on datagram sockets. */
#define DGRAM_MAX 65535

static PyObject *gaierror;

/* ---- Errors --------------------------------------------------------------- */

/* Raises OSError(err): CPython picks the subclass (TimeoutError for
 * ETIMEDOUT, BlockingIOError for EAGAIN, ConnectionResetError, ...). */
static PyObject *raise_errno(int err)
{
	errno = err;
	return PyErr_SetFromErrno(PyExc_OSError);
}

static PyObject *raise_errno_msg(int err, const char *msg)
{
	PyObject *e = PyObject_CallFunction(PyExc_OSError, "is", err, msg);
	if (e) {
		PyErr_SetObject((PyObject *)Py_TYPE(e), e);
		Py_DECREF(e);
	}
	return NULL;
}

/* The documented timeout: an OSError with ETIMEDOUT (TimeoutError, which
 * is socket.timeout since Python 3.10). */
static PyObject *raise_timeout(void)
{
	return raise_errno_msg(ETIMEDOUT, "timed out");
}

/* gaierror(code, message), as CPython's socket.gaierror. */
static void raise_gai(int code, const char *msg)
{
	PyObject *v = Py_BuildValue("(is)", code, msg);
	if (v) {
		PyErr_SetObject(gaierror, v);
		Py_DECREF(v);
	}
}

/* An int argument: -1 with OverflowError when it does not fit. */
static int as_int(PyObject *o, int *out)
{
	long v = PyLong_AsLong(o);
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (v < INT_MIN || v > INT_MAX) {
		PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C int");
		return -1;
	}
	*out = (int)v;
	return 0;
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Link ends: ustack.link_pair() ----------------------------------------- */

typedef struct {
	PyObject_HEAD
	struct us_driver drv;
	bool taken; /* a Stack owns drv now */
} LinkObject;

static void link_dealloc(LinkObject *self)
{
	if (!self->taken && self->drv.ops && self->drv.ops->close)
		self->drv.ops->close(self->drv.ctx);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *link_repr(LinkObject *self)
{
	return PyUnicode_FromFormat("<ustack link end %s%s>", self->drv.name,
				    self->taken ? " (in use)" : "");
}

static PyTypeObject LinkType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ustack._ustack.Link",
	.tp_doc = "One end of an in-memory Ethernet link (link_pair()); give it to Stack(link=...).",
	.tp_basicsize = sizeof(LinkObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_dealloc = (destructor)link_dealloc,
	.tp_repr = (reprfunc)link_repr,
};

/* ---- The gate: a driver wrapper that can lose frames ----------------------- */

/* Every Stack's driver goes through a gate, so that a test (or a student)
 * can cut the wire in one direction and watch a handshake or a close stop
 * half-way: drop_tx loses what the stack sends, drop_rx what it receives.
 * The runtime owns the gate's driver; the Stack object owns the gate's
 * memory (freed after us_runtime_stop, so the flags stay valid). */
struct gate {
	struct us_driver inner;
	atomic_bool drop_tx, drop_rx;
	atomic_ullong dropped_tx, dropped_rx;
};

static int gate_fd(void *ctx)
{
	struct gate *g = ctx;
	return g->inner.ops->fd(g->inner.ctx);
}

static int gate_recv(void *ctx, uint8_t *buf, size_t cap, struct us_rx_meta *meta)
{
	struct gate *g = ctx;
	for (;;) {
		int n = g->inner.ops->recv(g->inner.ctx, buf, cap, meta);
		if (n <= 0 || !atomic_load(&g->drop_rx))
			return n;
		atomic_fetch_add(&g->dropped_rx, 1);
	}
}

static int gate_transmit(void *ctx, const struct us_frame *frame)
{
	struct gate *g = ctx;
	if (atomic_load(&g->drop_tx)) {
		atomic_fetch_add(&g->dropped_tx, 1);
		return 0; /* lost on the wire: the sender cannot tell */
	}
	return g->inner.ops->transmit(g->inner.ctx, frame);
}

static void gate_close(void *ctx)
{
	struct gate *g = ctx;
	if (g->inner.ops && g->inner.ops->close)
		g->inner.ops->close(g->inner.ctx);
	g->inner.ops = NULL;
}

static const struct us_driver_ops gate_ops = {
	.fd = gate_fd,
	.recv = gate_recv,
	.transmit = gate_transmit,
	.close = gate_close,
};

/* ---- Stack: a runtime ------------------------------------------------------ */

enum log_level { LOG_NONE = -1, LOG_INFO = 0, LOG_STATE = 1, LOG_DROP = 2, LOG_DEBUG = 3 };

typedef struct StackObject {
	PyObject_HEAD
	struct us_runtime *rt; /* NULL once stopped */
	struct gate *gate;
	int log;
	char name[16];
	bool has_ipv6;
	struct us_ip6 ipv6;
	struct StackObject *next, *prev; /* live stacks, under the GIL */
} StackObject;

static StackObject *live_stacks;

static void stack_link(StackObject *s)
{
	s->prev = NULL;
	s->next = live_stacks;
	if (live_stacks)
		live_stacks->prev = s;
	live_stacks = s;
}

static void stack_unlink(StackObject *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (live_stacks == s)
		live_stacks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* The Stack object of the process's default runtime, or NULL (no exception). */
static StackObject *default_stack(void)
{
	struct us_runtime *rt = us_runtime_default();
	for (StackObject *s = live_stacks; s && rt; s = s->next)
		if (s->rt == rt)
			return s;
	return NULL;
}

static int trace_rank(enum us_trace_kind k)
{
	switch (k) {
	case US_TRACE_INFO:
		return LOG_INFO;
	case US_TRACE_STATE:
		return LOG_STATE;
	case US_TRACE_DROP:
		return LOG_DROP;
	case US_TRACE_DEBUG:
		return LOG_DEBUG;
	}
	return LOG_DEBUG;
}

/* On the stack thread, core lock held: no Python here. */
static void trace_to_stderr(void *ctx, const struct us_trace_event *ev)
{
	const StackObject *s = ctx;
	if (trace_rank(ev->kind) <= s->log)
		fprintf(stderr, "[%s %10.6f] %s\n", s->name, (double)ev->now / 1e6, ev->msg);
}

static void stack_stop_now(StackObject *self)
{
	struct us_runtime *rt = self->rt;
	if (!rt)
		return;
	self->rt = NULL;
	stack_unlink(self);
	Py_BEGIN_ALLOW_THREADS
	us_runtime_stop(rt);
	Py_END_ALLOW_THREADS
}

static void stack_dealloc(StackObject *self)
{
	stack_stop_now(self);
	free(self->gate);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* "ADDR[/LEN]" into a; LEN defaults to the full length. -1 with ValueError. */
static int parse_prefix(const char *text, int family, struct us_addr *a, int *len)
{
	char buf[US_ADDR_TEXT_MAX];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	int max = family == US_AF_INET ? 32 : 128;
	*len = max;
	if (n >= sizeof buf)
		goto bad;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (us_addr_parse(buf, 0, a) < 0 || a->family != family)
		goto bad;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || v < 0 || v > max)
			goto bad;
		*len = (int)v;
	}
	return 0;
bad:
	PyErr_Format(PyExc_ValueError, "not an IPv%d address with an optional /prefix: %s",
		     family == US_AF_INET ? 4 : 6, text);
	return -1;
}

static int parse_mac(const char *text, uint8_t mac[US_ETH_ALEN])
{
	unsigned m[US_ETH_ALEN];
	char extra;
	if (sscanf(text, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		   &extra) != 6)
		goto bad;
	for (int i = 0; i < US_ETH_ALEN; i++) {
		if (m[i] > 0xff)
			goto bad;
		mac[i] = (uint8_t)m[i];
	}
	if (mac[0] & 1)
		goto bad; /* a multicast address is no station's */
	return 0;
bad:
	PyErr_Format(PyExc_ValueError, "not a unicast MAC address: %s", text);
	return -1;
}

static int parse_log(PyObject *o, int *level)
{
	static const char *const names[] = { "info", "state", "drop", "debug" };
	*level = LOG_NONE;
	if (o == Py_None)
		return 0;
	if (o == Py_True) {
		*level = LOG_STATE;
		return 0;
	}
	if (o == Py_False)
		return 0;
	const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, names[i])) {
			*level = i;
			return 0;
		}
	PyErr_SetString(PyExc_ValueError, "log: None, 'info', 'state', 'drop' or 'debug'");
	return -1;
}

/* hosts {name: address or [addresses]} into a C table; names point into
 * the dict's strings (alive during the start: the runtime copies them). */
static int parse_hosts(PyObject *hosts, struct us_host_entry **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (hosts == Py_None)
		return 0;
	if (!PyDict_Check(hosts)) {
		PyErr_SetString(PyExc_TypeError, "hosts: a dict {name: address or list of addresses}");
		return -1;
	}
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	size_t n = 0, cap = 0;
	struct us_host_entry *tab = NULL;
	while (PyDict_Next(hosts, &pos, &k, &v)) {
		const char *name = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
		if (!name)
			goto type;
		PyObject *list = PyUnicode_Check(v) ? PyTuple_Pack(1, v) : PySequence_Tuple(v);
		if (!list)
			goto fail;
		for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(list); i++) {
			PyObject *a = PyTuple_GET_ITEM(list, i);
			const char *text = PyUnicode_Check(a) ? PyUnicode_AsUTF8(a) : NULL;
			struct us_addr addr;
			if (!text || us_addr_parse(text, 0, &addr) < 0) {
				Py_DECREF(list);
				PyErr_Format(PyExc_ValueError, "hosts[%s]: not a numeric address", name);
				goto fail;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				struct us_host_entry *t = realloc(tab, cap * sizeof *t);
				if (!t) {
					Py_DECREF(list);
					PyErr_NoMemory();
					goto fail;
				}
				tab = t;
			}
			tab[n].name = name;
			tab[n].addr = addr;
			n++;
		}
		Py_DECREF(list);
	}
	*out = tab;
	*n_out = n;
	return 0;
type:
	PyErr_SetString(PyExc_TypeError, "hosts: names must be str");
fail:
	free(tab);
	return -1;
}

static int parse_dns(PyObject *o, struct us_addr *out)
{
	memset(out, 0, sizeof *out);
	if (o == Py_None)
		return 0;
	const char *text;
	int port = 53;
	if (PyUnicode_Check(o)) {
		text = PyUnicode_AsUTF8(o);
	} else if (!PyArg_ParseTuple(o, "si;dns: an address or (address, port)", &text, &port)) {
		return -1;
	}
	if (!text || port < 1 || port > 65535 || us_addr_parse(text, (uint16_t)port, out) < 0) {
		PyErr_SetString(PyExc_ValueError, "dns: a numeric address (or (address, port))");
		return -1;
	}
	return 0;
}

static int stack_init(StackObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "tap", "ipv4", "ipv6", "gateway", "mac", "mtu", "pcap",
				  "link", "dns", "hosts", "msl", "dad", "log", "seed",
				  "default", "busy_poll", NULL };
	const char *tap = "tap0", *ipv4 = "198.51.100.2/24", *ipv6 = "2001:db8:1::2/64";
	const char *gateway = NULL, *mac = NULL, *pcap = NULL;
	unsigned int mtu = 0, busy_poll = 0;
	PyObject *link = Py_None, *dns = Py_None, *hosts = Py_None, *log = Py_None;
	PyObject *msl = Py_None, *seed = Py_None, *dflt = Py_None;
	int dad = 1;
	if (self->rt) {
		PyErr_SetString(PyExc_RuntimeError, "this Stack is running");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzzzzIzOOOOpOOOI:Stack", kwlist, &tap, &ipv4,
					 &ipv6, &gateway, &mac, &mtu, &pcap, &link, &dns, &hosts,
					 &msl, &dad, &log, &seed, &dflt, &busy_poll))
		return -1;
	if (busy_poll > 1000000) {
		PyErr_SetString(PyExc_ValueError, "busy_poll: microseconds, at most 1000000");
		return -1;
	}

	struct us_runtime_config cfg;
	memset(&cfg, 0, sizeof cfg);
	struct us_addr a;
	int len;
	if (ipv4) {
		if (parse_prefix(ipv4, US_AF_INET, &a, &len) < 0)
			return -1;
		cfg.ipv4 = a.ip4;
		cfg.ipv4_prefix = len;
	}
	if (ipv6) {
		if (parse_prefix(ipv6, US_AF_INET6, &a, &len) < 0)
			return -1;
		cfg.has_ipv6 = true;
		cfg.ipv6 = a.ip6;
		cfg.ipv6_prefix = len;
	}
	if (gateway) {
		if (us_addr_parse(gateway, 0, &a) < 0 || a.family != US_AF_INET) {
			PyErr_Format(PyExc_ValueError, "gateway: not an IPv4 address: %s", gateway);
			return -1;
		}
		cfg.ipv4_gateway = a.ip4;
	}
	if (mac && parse_mac(mac, cfg.mac) < 0)
		return -1;
	cfg.mtu = mtu;
	cfg.busy_poll_us = busy_poll;
	cfg.pcap_path = pcap;
	if (parse_dns(dns, &cfg.dns_server) < 0 || parse_log(log, &self->log) < 0)
		return -1;
	if (msl != Py_None) {
		double v = PyFloat_AsDouble(msl);
		if (v == -1.0 && PyErr_Occurred())
			return -1;
		if (!(v > 0) || v > 3600) {
			PyErr_SetString(PyExc_ValueError, "msl: seconds, more than 0 and at most 3600");
			return -1;
		}
		cfg.stack.tcp_msl = (us_time_t)(v * 1e6);
	}
	if (seed != Py_None) {
		unsigned long long v = PyLong_AsUnsignedLongLong(seed);
		if (PyErr_Occurred())
			return -1;
		cfg.stack.seed = v;
		for (int i = 0; i < 16; i++)
			cfg.stack.secret[i] = (uint8_t)(v >> (8 * (i % 8))) ^ (uint8_t)i;
		cfg.fixed_seed = true;
	}
	cfg.stack.no_dad = !dad;
	if (self->log != LOG_NONE) {
		cfg.stack.trace = trace_to_stderr;
		cfg.stack.trace_ctx = self;
	}
	if (link != Py_None && !PyObject_TypeCheck(link, &LinkType)) {
		PyErr_SetString(PyExc_TypeError, "link: an end from ustack.link_pair()");
		return -1;
	}
	if (link != Py_None && ((LinkObject *)link)->taken) {
		PyErr_SetString(PyExc_ValueError, "link: this end is used by another Stack");
		return -1;
	}

	struct gate *g = calloc(1, sizeof *g);
	if (!g) {
		PyErr_NoMemory();
		return -1;
	}
	int err = 0;
	if (link != Py_None) {
		g->inner = ((LinkObject *)link)->drv;
		((LinkObject *)link)->taken = true;
	} else {
		struct us_tap_options opt = { .bring_up = true };
		Py_BEGIN_ALLOW_THREADS
		err = us_tap_open(&g->inner, tap ? tap : "tap0", &opt);
		Py_END_ALLOW_THREADS
		if (err < 0) {
			free(g);
			char msg[96];
			snprintf(msg, sizeof msg, "cannot open the TAP device %s", tap ? tap : "tap0");
			raise_errno_msg(-err, msg);
			return -1;
		}
	}
	cfg.driver.ops = &gate_ops;
	cfg.driver.ctx = g;
	memcpy(cfg.driver.name, g->inner.name, sizeof cfg.driver.name);
	cfg.driver.mtu = g->inner.mtu;
	memcpy(cfg.driver.peer_mac, g->inner.peer_mac, US_ETH_ALEN);
	memcpy(self->name, g->inner.name, sizeof self->name);
	self->name[sizeof self->name - 1] = '\0';
	self->has_ipv6 = cfg.has_ipv6;
	self->ipv6 = cfg.ipv6;

	struct us_host_entry *tab;
	if (parse_hosts(hosts, &tab, &cfg.n_hosts) < 0) {
		gate_close(g);
		free(g);
		return -1;
	}
	cfg.hosts = tab;
	struct us_runtime *rt;
	Py_BEGIN_ALLOW_THREADS
	rt = us_runtime_start(&cfg, &err);
	Py_END_ALLOW_THREADS
	free(tab);
	if (!rt) {
		free(g); /* the runtime closed the driver */
		return raise_errno_msg(-err, "cannot start the stack") ? 0 : -1;
	}
	self->rt = rt;
	self->gate = g;
	stack_link(self);
	if (PyObject_IsTrue(dflt) == 1)
		us_runtime_set_default(rt);
	return 0;
}

static PyObject *stack_stop(StackObject *self, PyObject *Py_UNUSED(ignored))
{
	stack_stop_now(self);
	Py_RETURN_NONE;
}

static PyObject *stack_enter(StackObject *self, PyObject *Py_UNUSED(ignored))
{
	return Py_NewRef(self);
}

static PyObject *stack_exit(StackObject *self, PyObject *Py_UNUSED(args))
{
	stack_stop_now(self);
	Py_RETURN_FALSE;
}

static int check_running(StackObject *self)
{
	if (!self->rt) {
		raise_errno_msg(ENETDOWN, "this stack is stopped");
		return -1;
	}
	return 0;
}

static PyObject *stack_set_default(StackObject *self, PyObject *Py_UNUSED(ignored))
{
	if (check_running(self) < 0)
		return NULL;
	us_runtime_set_default(self->rt);
	Py_RETURN_NONE;
}

static PyObject *stack_now(StackObject *self, PyObject *Py_UNUSED(ignored))
{
	if (check_running(self) < 0)
		return NULL;
	return PyFloat_FromDouble((double)us_runtime_now(self->rt) / 1e6);
}

struct dad_query {
	int ifindex;
	struct us_ip6 want;
	int state; /* -1: not found, else enum us_addr6_state */
};

#define DAD_MAX_ADDRS 16

/* With the core lock held (us_runtime_with_core): the address's state. */
static void read_dad_state(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct dad_query *q = arg;
	struct us_addr6_info a[DAD_MAX_ADDRS];
	int n = us_stack_ipv6_addrs(s, q->ifindex, a, DAD_MAX_ADDRS);
	q->state = -1;
	for (int i = 0; i < n && i < DAD_MAX_ADDRS; i++)
		if (!memcmp(&a[i].addr, &q->want, sizeof q->want))
			q->state = (int)a[i].state;
}

/* wait_ipv6(timeout=5.0): True once the configured IPv6 address passed
 * Duplicate Address Detection (RFC 4862 §5.4) and can be used. */
static PyObject *stack_wait_ipv6(StackObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "timeout", NULL };
	double timeout = 5.0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|d:wait_ipv6", kwlist, &timeout))
		return NULL;
	if (check_running(self) < 0)
		return NULL;
	if (!self->has_ipv6)
		Py_RETURN_TRUE;
	struct dad_query q = { .ifindex = us_runtime_ifindex(self->rt), .want = self->ipv6 };
	double end = now_mono() + timeout;
	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		us_runtime_with_core(self->rt, read_dad_state, &q);
		Py_END_ALLOW_THREADS
		if (q.state == US_ADDR6_PREFERRED || q.state == US_ADDR6_DEPRECATED)
			Py_RETURN_TRUE;
		if (q.state == US_ADDR6_DUPLICATE)
			return raise_errno_msg(EADDRNOTAVAIL, "IPv6 address is a duplicate (DAD)");
		if (now_mono() >= end)
			Py_RETURN_FALSE;
		Py_BEGIN_ALLOW_THREADS
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		Py_END_ALLOW_THREADS
		if (PyErr_CheckSignals() < 0)
			return NULL;
		if (check_running(self) < 0)
			return NULL;
	}
}

static PyObject *stack_get_running(StackObject *self, void *Py_UNUSED(c))
{
	return PyBool_FromLong(self->rt != NULL);
}

static PyObject *stack_get_name(StackObject *self, void *Py_UNUSED(c))
{
	return PyUnicode_FromString(self->name);
}

static PyObject *stack_get_flag(StackObject *self, void *c)
{
	if (!self->gate)
		Py_RETURN_FALSE;
	return PyBool_FromLong(atomic_load(c ? &self->gate->drop_rx : &self->gate->drop_tx));
}

static int stack_set_flag(StackObject *self, PyObject *v, void *c)
{
	if (!v) {
		PyErr_SetString(PyExc_AttributeError, "cannot delete");
		return -1;
	}
	int on = PyObject_IsTrue(v);
	if (on < 0)
		return -1;
	if (!self->gate || !self->rt) {
		raise_errno_msg(ENETDOWN, "this stack is stopped");
		return -1;
	}
	atomic_store(c ? &self->gate->drop_rx : &self->gate->drop_tx, on != 0);
	return 0;
}

static PyObject *stack_get_dropped(StackObject *self, void *Py_UNUSED(c))
{
	unsigned long long tx = 0, rx = 0;
	if (self->gate) {
		tx = atomic_load(&self->gate->dropped_tx);
		rx = atomic_load(&self->gate->dropped_rx);
	}
	return Py_BuildValue("(KK)", tx, rx);
}

static PyObject *stack_repr(StackObject *self)
{
	return PyUnicode_FromFormat("<ustack.Stack on %s%s>", self->name,
				    self->rt ? "" : " (stopped)");
}

static PyMethodDef stack_methods[] = {
	{ "stop", (PyCFunction)stack_stop, METH_NOARGS,
	  "Stops the stack: blocked calls on its sockets fail with ENETDOWN; the pcap file is closed." },
	{ "close", (PyCFunction)stack_stop, METH_NOARGS, "Same as stop()." },
	{ "__enter__", (PyCFunction)stack_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)stack_exit, METH_VARARGS, NULL },
	{ "set_default", (PyCFunction)stack_set_default, METH_NOARGS,
	  "Makes this the stack that socket() and getaddrinfo() use without stack=." },
	{ "now", (PyCFunction)stack_now, METH_NOARGS, "The stack's clock, in seconds." },
	{ "wait_ipv6", (PyCFunction)(void (*)(void))stack_wait_ipv6, METH_VARARGS | METH_KEYWORDS,
	  "wait_ipv6(timeout=5.0): True once the IPv6 address passed DAD." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef stack_getset[] = {
	{ "running", (getter)stack_get_running, NULL, "False once stopped.", NULL },
	{ "name", (getter)stack_get_name, NULL, "The link's name (tap0, mem-a, ...).", NULL },
	{ "drop_tx", (getter)stack_get_flag, (setter)stack_set_flag,
	  "True: every frame the stack sends is lost on the wire.", NULL },
	{ "drop_rx", (getter)stack_get_flag, (setter)stack_set_flag,
	  "True: every frame that arrives is lost before the stack sees it.", (void *)1 },
	{ "dropped", (getter)stack_get_dropped, NULL, "(frames lost by drop_tx, by drop_rx)", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject StackType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ustack.Stack",
	.tp_doc = "Stack(tap='tap0', ipv4='198.51.100.2/24', ipv6='2001:db8:1::2/64', gateway=None,\n"
		  "      mac=None, mtu=0, pcap=None, link=None, dns=None, hosts=None, msl=None,\n"
		  "      dad=True, log=None, seed=None, default=None)\n\n"
		  "A running ustack: its thread, its core and its link (a TAP device, or an end of\n"
		  "link_pair()). See docs/python.md.",
	.tp_basicsize = sizeof(StackObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)stack_init,
	.tp_dealloc = (destructor)stack_dealloc,
	.tp_repr = (reprfunc)stack_repr,
	.tp_methods = stack_methods,
	.tp_getset = stack_getset,
};

/* ---- Addresses ------------------------------------------------------------- */

static PyObject *addr_to_py(const struct us_addr *a)
{
	char text[US_ADDR_TEXT_MAX];
	struct us_addr bare = *a;
	bare.port = 0;
	switch (a->family) {
	case US_AF_INET:
		us_addr_format(&bare, text, sizeof text);
		return Py_BuildValue("(si)", text, a->port);
	case US_AF_INET6:
		us_addr_format(&bare, text, sizeof text);
		return Py_BuildValue("(siiI)", text, a->port, 0, a->scope_id);
	default:
		Py_RETURN_NONE;
	}
}

/* Resolves host through the stack (us_getaddrinfo: numeric, hosts table,
 * DNS); the first address of family, else the first. */
static int resolve_one(struct us_runtime *rt, const char *host, uint16_t port, int family,
		       struct us_addr *out)
{
	struct us_addrinfo *res = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = us_getaddrinfo(rt, host, port, &res);
	Py_END_ALLOW_THREADS
	if (rc != 0) {
		if (rc == US_EAI_SYSTEM)
			raise_errno(errno);
		else
			raise_gai(rc, us_gai_strerror(rc));
		return -1;
	}
	if (!res) {
		raise_gai(US_EAI_NONAME, us_gai_strerror(US_EAI_NONAME));
		return -1;
	}
	const struct us_addrinfo *pick = res;
	for (const struct us_addrinfo *i = res; i; i = i->next)
		if (i->family == family) {
			pick = i;
			break;
		}
	*out = pick->addr;
	out->port = port;
	us_freeaddrinfo(res);
	return 0;
}

/* A Python address ((host, port) or (host, port, flowinfo, scope_id)) for
 * a socket of family: "" is the any address, "<broadcast>" 255.255.255.255,
 * a name is resolved through rt. */
static int addr_from_py(PyObject *o, int family, struct us_runtime *rt, struct us_addr *out)
{
	const char *host;
	int port;
	unsigned int flowinfo = 0, scope_id = 0;
	memset(out, 0, sizeof *out);
	if (!PyTuple_Check(o) && PyList_Check(o)) {
		PyObject *t = PyList_AsTuple(o);
		if (!t)
			return -1;
		int rc = addr_from_py(t, family, rt, out);
		Py_DECREF(t);
		return rc;
	}
	if (!PyTuple_Check(o) ||
	    !PyArg_ParseTuple(o, "si|II;an address is a tuple (host, port)", &host, &port,
			      &flowinfo, &scope_id)) {
		if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_TypeError,
					"an address is a tuple (host, port) (IPv6: "
					"(host, port, flowinfo, scope_id))");
		}
		return -1;
	}
	if (port < 0 || port > 65535) {
		PyErr_SetString(PyExc_OverflowError, "port must be 0-65535.");
		return -1;
	}
	if (!*host) {
		out->family = family;
		out->port = (uint16_t)port;
		return 0;
	}
	if (!strcmp(host, "<broadcast>")) {
		out->family = US_AF_INET;
		out->ip4 = 0xffffffffu;
		out->port = (uint16_t)port;
		return 0;
	}
	if (us_addr_parse(host, (uint16_t)port, out) == 0) {
		if (out->family == US_AF_INET6 && scope_id)
			out->scope_id = scope_id;
		return 0;
	}
	if (!rt) {
		raise_errno_msg(ENETDOWN, "the socket's stack is stopped");
		return -1;
	}
	return resolve_one(rt, host, (uint16_t)port, family, out);
}

/* ---- Sockets --------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	int handle;
	int family, type, proto;
	double timeout;      /* < 0: None (blocking), 0: non-blocking, else seconds */
	bool closed;         /* close() was called (the handle is dead) */
	StackObject *stack;  /* keeps the runtime alive while the socket is */
} SockObject;

static PyTypeObject SockType;

/* The stack's runtime, or NULL when it stopped. */
static struct us_runtime *sock_rt(SockObject *s)
{
	return s->stack ? s->stack->rt : NULL;
}

/* A call's wait, started from the socket's timeout at the call's start. */
struct wait {
	double timeout;
	double deadline; /* on CLOCK_MONOTONIC, when timeout > 0 */
};

static void wait_start(SockObject *s, struct wait *w)
{
	w->timeout = s->timeout;
	w->deadline = w->timeout > 0 ? now_mono() + w->timeout : 0;
}

enum { WAIT_READY = 0, WAIT_ERROR = -1, WAIT_TIMEOUT = -2 };

/*
 * The try said EAGAIN: waits until the handle polls ready for events (or
 * error, hang-up, closed), in slices of SLICE_MS with the GIL released,
 * running the signal handlers between slices. WAIT_READY: try again;
 * WAIT_TIMEOUT: the deadline passed (no exception set: a caller with part
 * of its data returns it); WAIT_ERROR: an exception is set (a signal
 * handler raised, us_poll failed).
 */
static int wait_ready(SockObject *s, short events, struct wait *w)
{
	for (;;) {
		if (PyErr_CheckSignals() < 0)
			return WAIT_ERROR;
		int ms = SLICE_MS;
		if (w->timeout > 0) {
			double left = w->deadline - now_mono();
			if (left <= 0)
				return WAIT_TIMEOUT;
			if (left * 1000.0 < ms)
				ms = (int)ceil(left * 1000.0);
		}
		struct us_pollfd p = { .sock = s->handle, .events = events };
		int n, err;
		Py_BEGIN_ALLOW_THREADS
		n = us_poll(&p, 1, ms);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n < 0) {
			raise_errno(err);
			return WAIT_ERROR;
		}
		if (n > 0)
			return WAIT_READY;
	}
}

/* After a try failed with err: 0 to try again (it was EAGAIN and the wait
 * says ready), else -1 with the exception set (part > 0: the caller returns
 * its part instead on a timeout; *timed_out says so). */
static int after_try(SockObject *s, int err, short events, struct wait *w, bool *timed_out)
{
	*timed_out = false;
	if (err != EAGAIN || w->timeout == 0) {
		raise_errno(err);
		return -1;
	}
	int rc = wait_ready(s, events, w);
	if (rc == WAIT_READY)
		return 0;
	if (rc == WAIT_TIMEOUT) {
		*timed_out = true;
		raise_timeout();
	}
	return -1;
}

static SockObject *sock_wrap(PyTypeObject *type, int handle, int family, int sock_type,
			     int proto, StackObject *stack)
{
	SockObject *s = (SockObject *)type->tp_alloc(type, 0);
	if (!s) {
		Py_BEGIN_ALLOW_THREADS
		us_close(handle);
		Py_END_ALLOW_THREADS
		return NULL;
	}
	s->handle = handle;
	s->family = family;
	s->type = sock_type;
	s->proto = proto;
	s->timeout = -1;
	s->stack = (StackObject *)Py_XNewRef((PyObject *)stack);
	/* Non-blocking underneath: this module waits (see the top comment). */
	Py_BEGIN_ALLOW_THREADS
	us_settimeout(handle, 0);
	Py_END_ALLOW_THREADS
	return s;
}

static PyObject *sock_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "af", "type", "proto", "stack", NULL };
	int af = US_AF_INET, st = US_SOCK_STREAM, proto = 0;
	PyObject *stackobj = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|iiiO:socket", kwlist, &af, &st, &proto,
					 &stackobj))
		return NULL;
	StackObject *stack;
	if (stackobj == Py_None) {
		stack = default_stack();
		if (!stack)
			return raise_errno_msg(ENETDOWN,
					       "no stack is running: start one with ustack.Stack()");
	} else if (PyObject_TypeCheck(stackobj, &StackType)) {
		stack = (StackObject *)stackobj;
		if (check_running(stack) < 0)
			return NULL;
	} else {
		PyErr_SetString(PyExc_TypeError, "stack: a ustack.Stack");
		return NULL;
	}
	int h, err;
	struct us_runtime *rt = stack->rt;
	Py_BEGIN_ALLOW_THREADS
	h = us_socket(rt, af, st, proto);
	err = errno;
	Py_END_ALLOW_THREADS
	if (h < 0)
		return raise_errno(err);
	if (proto == 0)
		proto = st == US_SOCK_STREAM ? US_IPPROTO_TCP : st == US_SOCK_DGRAM ? US_IPPROTO_UDP : 0;
	return (PyObject *)sock_wrap(type, h, af, st, proto, stack);
}

static void sock_dealloc(SockObject *self)
{
	if (!self->closed) {
		int h = self->handle;
		Py_BEGIN_ALLOW_THREADS
		us_close(h);
		Py_END_ALLOW_THREADS
	}
	Py_CLEAR(self->stack);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *sock_close(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	if (self->closed)
		Py_RETURN_NONE;
	self->closed = true;
	int rc, err, h = self->handle;
	Py_BEGIN_ALLOW_THREADS
	rc = us_close(h);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0 && err != EBADF)
		return raise_errno(err);
	Py_RETURN_NONE;
}

static PyObject *sock_enter(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	return Py_NewRef(self);
}

static PyObject *sock_exit(SockObject *self, PyObject *Py_UNUSED(args))
{
	PyObject *r = sock_close(self, NULL);
	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *sock_bind(SockObject *self, PyObject *addr)
{
	struct us_addr a;
	if (addr_from_py(addr, self->family, sock_rt(self), &a) < 0)
		return NULL;
	int rc, err;
	Py_BEGIN_ALLOW_THREADS
	rc = us_bind(self->handle, &a);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return raise_errno(err);
	Py_RETURN_NONE;
}

static PyObject *sock_listen(SockObject *self, PyObject *args)
{
	int backlog = DEFAULT_BACKLOG, rc, err;
	if (!PyArg_ParseTuple(args, "|i:listen", &backlog))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = us_listen(self->handle, backlog);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return raise_errno(err);
	Py_RETURN_NONE;
}

static PyObject *sock_accept(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	struct wait w;
	wait_start(self, &w);
	struct us_addr peer;
	int h, err;
	bool timed_out;
	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		h = us_accept(self->handle, &peer);
		err = errno;
		Py_END_ALLOW_THREADS
		if (h >= 0)
			break;
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0)
			return NULL;
	}
	SockObject *c = sock_wrap(Py_TYPE(self), h, self->family, self->type, self->proto,
				  self->stack);
	if (!c)
		return NULL;
	PyObject *a = addr_to_py(&peer);
	if (!a) {
		Py_DECREF(c);
		return NULL;
	}
	return Py_BuildValue("(NN)", c, a);
}

/* Stream connect: the SYN goes out at once (EINPROGRESS); the wait is a
 * us_poll() for POLLOUT (established) or POLLERR, then SO_ERROR.
 * Deviation from us_connect(): when the timeout ends first the attempt is
 * not aborted but goes on in the core, as CPython leaves it (the module
 * cannot abort it without closing the socket). */
static PyObject *connect_stream(SockObject *self, const struct us_addr *a)
{
	int rc, err;
	Py_BEGIN_ALLOW_THREADS
	rc = us_connect(self->handle, a);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc == 0)
		Py_RETURN_NONE;
	if (err != EINPROGRESS || self->timeout == 0)
		return raise_errno(err);
	struct wait w;
	wait_start(self, &w);
	for (;;) {
		rc = wait_ready(self, US_POLLOUT, &w);
		if (rc == WAIT_TIMEOUT)
			return raise_timeout();
		if (rc == WAIT_ERROR)
			return NULL;
		int so_error = 0;
		size_t len = sizeof so_error;
		Py_BEGIN_ALLOW_THREADS
		rc = us_getsockopt(self->handle, US_SOL_SOCKET, US_SO_ERROR, &so_error, &len);
		err = errno;
		Py_END_ALLOW_THREADS
		if (rc < 0)
			return raise_errno(err);
		if (so_error)
			return raise_errno(so_error);
		int st;
		Py_BEGIN_ALLOW_THREADS
		st = us_getsocketsta(self->handle);
		err = errno;
		Py_END_ALLOW_THREADS
		if (st < 0)
			return raise_errno(err);
		if (st != US_TCP_SYN_SENT && st != US_TCP_SYN_RCVD)
			Py_RETURN_NONE;
	}
}

static PyObject *sock_connect(SockObject *self, PyObject *addr)
{
	struct us_addr a;
	if (addr_from_py(addr, self->family, sock_rt(self), &a) < 0)
		return NULL;
	if (self->type == US_SOCK_STREAM)
		return connect_stream(self, &a);
	int rc, err;
	Py_BEGIN_ALLOW_THREADS
	rc = us_connect(self->handle, &a);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return raise_errno(err);
	Py_RETURN_NONE;
}

/* recv(bufsize): what has come, at least a byte (b"" at end of stream). */
static PyObject *sock_recv(SockObject *self, PyObject *args)
{
	Py_ssize_t size;
	if (!PyArg_ParseTuple(args, "n:recv", &size))
		return NULL;
	if (size < 0) {
		PyErr_SetString(PyExc_ValueError, "negative buffersize in recv");
		return NULL;
	}
	PyObject *buf = PyBytes_FromStringAndSize(NULL, size);
	if (!buf)
		return NULL;
	struct wait w;
	wait_start(self, &w);
	ssize_t n;
	int err;
	bool timed_out;
	for (;;) {
		char *p = PyBytes_AS_STRING(buf);
		Py_BEGIN_ALLOW_THREADS
		n = us_recv(self->handle, p, (size_t)size);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n >= 0)
			break;
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0) {
			Py_DECREF(buf);
			return NULL;
		}
	}
	if (n != size)
		_PyBytes_Resize(&buf, n);
	return buf;
}

/* recvfrom(bufsize): (bytes, address). */
static PyObject *sock_recvfrom(SockObject *self, PyObject *args)
{
	Py_ssize_t size;
	if (!PyArg_ParseTuple(args, "n:recvfrom", &size))
		return NULL;
	if (size < 0) {
		PyErr_SetString(PyExc_ValueError, "negative buffersize in recvfrom");
		return NULL;
	}
	PyObject *buf = PyBytes_FromStringAndSize(NULL, size);
	if (!buf)
		return NULL;
	struct wait w;
	wait_start(self, &w);
	struct us_addr from;
	ssize_t n;
	int err;
	bool timed_out;
	for (;;) {
		char *p = PyBytes_AS_STRING(buf);
		memset(&from, 0, sizeof from);
		Py_BEGIN_ALLOW_THREADS
		n = us_recvfrom(self->handle, p, (size_t)size, &from);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n >= 0)
			break;
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0) {
			Py_DECREF(buf);
			return NULL;
		}
	}
	if (n != size && _PyBytes_Resize(&buf, n) < 0)
		return NULL;
	PyObject *a = addr_to_py(&from);
	if (!a) {
		Py_DECREF(buf);
		return NULL;
	}
	return Py_BuildValue("(NN)", buf, a);
}

/* recv_into(buffer[, nbytes]) (CPython): like recv, into a buffer; makefile's reader uses it. */
static PyObject *sock_recv_into(SockObject *self, PyObject *args)
{
	Py_buffer b;
	Py_ssize_t nbytes = 0;
	if (!PyArg_ParseTuple(args, "w*|n:recv_into", &b, &nbytes))
		return NULL;
	if (nbytes < 0 || nbytes > b.len) {
		PyBuffer_Release(&b);
		PyErr_SetString(PyExc_ValueError, "nbytes is greater than the length of the buffer");
		return NULL;
	}
	size_t want = nbytes ? (size_t)nbytes : (size_t)b.len;
	struct wait w;
	wait_start(self, &w);
	ssize_t n;
	int err;
	bool timed_out;
	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		n = us_recv(self->handle, b.buf, want);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n >= 0)
			break;
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0) {
			PyBuffer_Release(&b);
			return NULL;
		}
	}
	PyBuffer_Release(&b);
	return PyLong_FromSsize_t(n);
}

/*
 * The file reads of a stream (read(size), readinto): the C call's
 * non-blocking form returns what has come; this loops until `want` bytes,
 * the end of stream (a call returning 0), or the end of the wait. A part
 * is returned when the wait ends after it came (the C API's rule), never
 * dropped. fn is us_read or us_readinto's shape: (s, buf, len) -> n.
 * Returns the count, or -1 with an exception set.
 */
static Py_ssize_t read_full(SockObject *self, char *buf, size_t want)
{
	struct wait w;
	wait_start(self, &w);
	size_t got = 0;
	bool timed_out;
	while (got < want) {
		ssize_t n;
		int err;
		Py_BEGIN_ALLOW_THREADS
		n = us_read(self->handle, buf + got, want - got);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n == 0)
			break; /* end of stream */
		if (n > 0) {
			got += (size_t)n;
			if (self->type != US_SOCK_STREAM)
				break; /* one datagram */
			continue;
		}
		if (err == EAGAIN && got && w.timeout == 0)
			break; /* non-blocking: what was there */
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0) {
			if (timed_out && got) {
				PyErr_Clear();
				break;
			}
			return -1;
		}
	}
	return (Py_ssize_t)got;
}

/* read() without a size: us_readall until the end of stream (datagrams:
 * the next datagram whole). */
static PyObject *read_all(SockObject *self)
{
	struct wait w;
	wait_start(self, &w);
	PyObject *out = PyBytes_FromStringAndSize(NULL, 0);
	bool timed_out;
	while (out) {
		uint8_t *p = NULL;
		size_t len = 0;
		int rc, err;
		Py_BEGIN_ALLOW_THREADS
		rc = us_readall(self->handle, &p, &len);
		err = errno;
		Py_END_ALLOW_THREADS
		if (rc == 0) {
			PyObject *part = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
			free(p);
			if (!part) {
				Py_CLEAR(out);
				break;
			}
			PyBytes_ConcatAndDel(&out, part);
			if (len == 0 || self->type != US_SOCK_STREAM)
				break;
			continue; /* a part: the end of stream or a wait, the next call says */
		}
		if (err == EAGAIN && w.timeout == 0 && PyBytes_GET_SIZE(out))
			break;
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0) {
			if (timed_out && out && PyBytes_GET_SIZE(out)) {
				PyErr_Clear();
				break;
			}
			Py_CLEAR(out);
		}
	}
	return out;
}

/* read([size]): size bytes, fewer only at end of stream (or when the wait
 * ends after a part came); without size, everything until end of stream. */
static PyObject *sock_read(SockObject *self, PyObject *args)
{
	PyObject *sizeobj = Py_None;
	if (!PyArg_ParseTuple(args, "|O:read", &sizeobj))
		return NULL;
	Py_ssize_t size = -1;
	if (sizeobj != Py_None) {
		size = PyNumber_AsSsize_t(sizeobj, PyExc_OverflowError);
		if (size == -1 && PyErr_Occurred())
			return NULL;
	}
	if (size < 0)
		return read_all(self);
	PyObject *buf = PyBytes_FromStringAndSize(NULL, size);
	if (!buf)
		return NULL;
	Py_ssize_t n = read_full(self, PyBytes_AS_STRING(buf), (size_t)size);
	if (n < 0) {
		Py_DECREF(buf);
		return NULL;
	}
	if (n != size)
		_PyBytes_Resize(&buf, n);
	return buf;
}

/* readinto(buf[, nbytes]): at most nbytes (default len(buf)); the count. */
static PyObject *sock_readinto(SockObject *self, PyObject *args)
{
	Py_buffer b;
	Py_ssize_t nbytes = -1;
	if (!PyArg_ParseTuple(args, "w*|n:readinto", &b, &nbytes))
		return NULL;
	size_t want = nbytes < 0 || nbytes > b.len ? (size_t)b.len : (size_t)nbytes;
	Py_ssize_t n = want ? read_full(self, b.buf, want) : 0;
	PyBuffer_Release(&b);
	return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

/* readline(): one line up to and including '\n' (b"" at end of stream).
 * Stream: us_readline's non-blocking form gives back what it has of the
 * line (and takes nothing past the '\n'); this loops until the '\n' or the
 * end of stream, growing the buffer. Datagram: the line of one datagram. */
static PyObject *sock_readline(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	bool stream = self->type == US_SOCK_STREAM;
	size_t cap = stream ? LINE_FIRST : DGRAM_MAX + 1, got = 0;
	char *buf = malloc(cap);
	if (!buf)
		return PyErr_NoMemory();
	struct wait w;
	wait_start(self, &w);
	bool timed_out;
	for (;;) {
		if (cap - got < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return PyErr_NoMemory();
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n;
		int err;
		Py_BEGIN_ALLOW_THREADS
		n = us_readline(self->handle, buf + got, cap - got);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n == 0)
			break;
		if (n > 0) {
			got += (size_t)n;
			if (!stream || buf[got - 1] == '\n')
				break;
			continue;
		}
		if (err == EAGAIN && got && w.timeout == 0)
			break;
		if (after_try(self, err, US_POLLIN, &w, &timed_out) < 0) {
			if (timed_out && got) {
				PyErr_Clear();
				break;
			}
			free(buf);
			return NULL;
		}
	}
	PyObject *r = PyBytes_FromStringAndSize(buf, (Py_ssize_t)got);
	free(buf);
	return r;
}

/* One send (to NULL) or sendto, retried as the socket's timeout says;
 * releases b. The count queued, or NULL with the exception set. */
static PyObject *send_once(SockObject *self, Py_buffer *b, const struct us_addr *to)
{
	struct wait w;
	wait_start(self, &w);
	ssize_t n;
	int err;
	bool timed_out;
	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		n = to ? us_sendto(self->handle, b->buf, (size_t)b->len, to)
		       : us_send(self->handle, b->buf, (size_t)b->len);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n >= 0)
			break;
		if (after_try(self, err, US_POLLOUT, &w, &timed_out) < 0) {
			PyBuffer_Release(b);
			return NULL;
		}
	}
	PyBuffer_Release(b);
	return PyLong_FromSsize_t(n);
}

/* send(bytes): the count queued (may be short on a stream). */
static PyObject *sock_send(SockObject *self, PyObject *args)
{
	Py_buffer b;
	if (!PyArg_ParseTuple(args, "y*:send", &b))
		return NULL;
	return send_once(self, &b, NULL);
}

/* sendto(bytes, address): one datagram to address. */
static PyObject *sock_sendto(SockObject *self, PyObject *args)
{
	Py_buffer b;
	PyObject *addr;
	if (!PyArg_ParseTuple(args, "y*O:sendto", &b, &addr))
		return NULL;
	struct us_addr a;
	if (addr_from_py(addr, self->family, sock_rt(self), &a) < 0) {
		PyBuffer_Release(&b);
		return NULL;
	}
	return send_once(self, &b, &a);
}

/* sendall(bytes): everything, chunk by chunk (us_sendall); None. On a
 * non-blocking socket BlockingIOError with characters_written saying how
 * much was queued, so that a retry neither loses nor repeats a byte. */
static PyObject *sock_sendall(SockObject *self, PyObject *args)
{
	Py_buffer b;
	if (!PyArg_ParseTuple(args, "y*:sendall", &b))
		return NULL;
	struct wait w;
	wait_start(self, &w);
	size_t off = 0;
	bool timed_out;
	for (;;) {
		size_t sent = 0;
		int rc, err;
		Py_BEGIN_ALLOW_THREADS
		rc = us_sendall(self->handle, (const char *)b.buf + off, (size_t)b.len - off, &sent);
		err = errno;
		Py_END_ALLOW_THREADS
		off += sent;
		if (rc == 0)
			break;
		if (err == EAGAIN && w.timeout == 0) {
			PyBuffer_Release(&b);
			PyObject *e = PyObject_CallFunction(PyExc_BlockingIOError, "isn", EAGAIN,
							    "sendall would block", (Py_ssize_t)off);
			if (e) {
				PyErr_SetObject(PyExc_BlockingIOError, e);
				Py_DECREF(e);
			}
			return NULL;
		}
		if (after_try(self, err, US_POLLOUT, &w, &timed_out) < 0) {
			PyBuffer_Release(&b);
			return NULL;
		}
	}
	PyBuffer_Release(&b);
	Py_RETURN_NONE;
}

/* write(buf): the count written; never short on a blocking socket, what
 * was queued on a non-blocking one (or when the timeout ends after part). */
static PyObject *sock_write(SockObject *self, PyObject *args)
{
	Py_buffer b;
	if (!PyArg_ParseTuple(args, "y*:write", &b))
		return NULL;
	struct wait w;
	wait_start(self, &w);
	size_t off = 0;
	bool timed_out;
	for (;;) {
		ssize_t n;
		int err;
		Py_BEGIN_ALLOW_THREADS
		n = us_write(self->handle, (const char *)b.buf + off, (size_t)b.len - off);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n >= 0) {
			off += (size_t)n;
			if (off >= (size_t)b.len || self->type != US_SOCK_STREAM || w.timeout == 0)
				break;
			continue;
		}
		if (err == EAGAIN && off && w.timeout == 0)
			break;
		if (after_try(self, err, US_POLLOUT, &w, &timed_out) < 0) {
			if (timed_out && off) {
				PyErr_Clear();
				break;
			}
			PyBuffer_Release(&b);
			return NULL;
		}
	}
	PyBuffer_Release(&b);
	return PyLong_FromSize_t(off);
}

/* setsockopt(level, optname, value): value an int or a bytes-like buffer. */
static PyObject *sock_setsockopt(SockObject *self, PyObject *args)
{
	int level, opt, rc, err;
	PyObject *value;
	if (!PyArg_ParseTuple(args, "iiO:setsockopt", &level, &opt, &value))
		return NULL;
	if (PyLong_Check(value)) {
		int v;
		if (as_int(value, &v) < 0)
			return NULL;
		Py_BEGIN_ALLOW_THREADS
		rc = us_setsockopt_int(self->handle, level, opt, v);
		err = errno;
		Py_END_ALLOW_THREADS
	} else {
		Py_buffer b;
		if (PyObject_GetBuffer(value, &b, PyBUF_SIMPLE) < 0) {
			PyErr_SetString(PyExc_TypeError,
					"setsockopt: value must be an int or a bytes-like object");
			return NULL;
		}
		Py_BEGIN_ALLOW_THREADS
		rc = us_setsockopt(self->handle, level, opt, b.buf, (size_t)b.len);
		err = errno;
		Py_END_ALLOW_THREADS
		PyBuffer_Release(&b);
	}
	if (rc < 0)
		return raise_errno(err);
	Py_RETURN_NONE;
}

/* getsockopt(level, optname[, buflen]): an int, or bytes when buflen is given. */
static PyObject *sock_getsockopt(SockObject *self, PyObject *args)
{
	int level, opt, rc, err;
	Py_ssize_t buflen = 0;
	if (!PyArg_ParseTuple(args, "ii|n:getsockopt", &level, &opt, &buflen))
		return NULL;
	if (buflen < 0 || buflen > 1024) {
		PyErr_SetString(PyExc_OSError, "getsockopt buflen out of range");
		return NULL;
	}
	if (buflen == 0) {
		int v = 0;
		size_t len = sizeof v;
		Py_BEGIN_ALLOW_THREADS
		rc = us_getsockopt(self->handle, level, opt, &v, &len);
		err = errno;
		Py_END_ALLOW_THREADS
		if (rc < 0)
			return raise_errno(err);
		return PyLong_FromLong(v);
	}
	PyObject *buf = PyBytes_FromStringAndSize(NULL, buflen);
	if (!buf)
		return NULL;
	size_t len = (size_t)buflen;
	char *p = PyBytes_AS_STRING(buf);
	Py_BEGIN_ALLOW_THREADS
	rc = us_getsockopt(self->handle, level, opt, p, &len);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		Py_DECREF(buf);
		return raise_errno(err);
	}
	_PyBytes_Resize(&buf, (Py_ssize_t)len);
	return buf;
}

/* A call on a closed socket fails with EBADF, as the C handle says: the
 * module's own state (timeout) is checked the same way. */
static int check_open(SockObject *self)
{
	int st;
	Py_BEGIN_ALLOW_THREADS
	st = us_getsocketsta(self->handle);
	Py_END_ALLOW_THREADS
	if (st < 0 && self->closed) {
		raise_errno(EBADF);
		return -1;
	}
	return 0;
}

/* settimeout(None | seconds): None blocks, 0 is non-blocking. */
static PyObject *sock_settimeout(SockObject *self, PyObject *value)
{
	double t = -1;
	if (value != Py_None) {
		t = PyFloat_AsDouble(value);
		if (t == -1.0 && PyErr_Occurred())
			return NULL;
		if (!(t >= 0) || isinf(t)) {
			PyErr_SetString(PyExc_ValueError, "Timeout value out of range");
			return NULL;
		}
	}
	if (check_open(self) < 0)
		return NULL;
	self->timeout = t;
	Py_RETURN_NONE;
}

static PyObject *sock_gettimeout(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	if (self->timeout < 0)
		Py_RETURN_NONE;
	return PyFloat_FromDouble(self->timeout);
}

/* setblocking(flag): True is settimeout(None), False settimeout(0). */
static PyObject *sock_setblocking(SockObject *self, PyObject *flag)
{
	int on = PyObject_IsTrue(flag);
	if (on < 0)
		return NULL;
	if (check_open(self) < 0)
		return NULL;
	self->timeout = on ? -1 : 0;
	Py_RETURN_NONE;
}

static PyObject *sock_getblocking(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	return PyBool_FromLong(self->timeout != 0);
}

/* getsocketsta(): the TCP state number (0..10), -1 after close(). */
static PyObject *sock_getsocketsta(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	int st;
	Py_BEGIN_ALLOW_THREADS
	st = us_getsocketsta(self->handle);
	Py_END_ALLOW_THREADS
	return PyLong_FromLong(st);
}

static PyObject *sock_shutdown(SockObject *self, PyObject *arg)
{
	int how;
	if (as_int(arg, &how) < 0)
		return NULL;
	int rc, err;
	Py_BEGIN_ALLOW_THREADS
	rc = us_shutdown(self->handle, how);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return raise_errno(err);
	Py_RETURN_NONE;
}

static PyObject *sock_name(SockObject *self, bool peer)
{
	struct us_addr a;
	memset(&a, 0, sizeof a);
	int rc, err;
	Py_BEGIN_ALLOW_THREADS
	rc = peer ? us_getpeername(self->handle, &a) : us_getsockname(self->handle, &a);
	err = errno;
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return raise_errno(err);
	return addr_to_py(&a);
}

static PyObject *sock_getsockname(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	return sock_name(self, false);
}

static PyObject *sock_getpeername(SockObject *self, PyObject *Py_UNUSED(ignored))
{
	return sock_name(self, true);
}

static PyObject *sock_repr(SockObject *self)
{
	int st = -1;
	if (!self->closed)
		st = us_getsocketsta(self->handle);
	if (st < 0)
		return PyUnicode_FromFormat("<ustack.socket [closed] family=%d type=%d>", self->family,
					    self->type);
	if (self->type == US_SOCK_STREAM)
		return PyUnicode_FromFormat("<ustack.socket handle=%d family=%d type=%d state=%s>",
					    self->handle, self->family, self->type,
					    us_tcp_state_name(st));
	return PyUnicode_FromFormat("<ustack.socket handle=%d family=%d type=%d>", self->handle,
				    self->family, self->type);
}

static PyMethodDef sock_methods[] = {
	{ "close", (PyCFunction)sock_close, METH_NOARGS, "Closes the socket; its resources are released." },
	{ "__enter__", (PyCFunction)sock_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)sock_exit, METH_VARARGS, NULL },
	{ "bind", (PyCFunction)sock_bind, METH_O, "bind(address)" },
	{ "listen", (PyCFunction)sock_listen, METH_VARARGS, "listen([backlog])" },
	{ "accept", (PyCFunction)sock_accept, METH_NOARGS, "accept() -> (conn, address)" },
	{ "connect", (PyCFunction)sock_connect, METH_O, "connect(address)" },
	{ "recv", (PyCFunction)sock_recv, METH_VARARGS, "recv(bufsize) -> bytes" },
	{ "recvfrom", (PyCFunction)sock_recvfrom, METH_VARARGS, "recvfrom(bufsize) -> (bytes, address)" },
	{ "recv_into", (PyCFunction)sock_recv_into, METH_VARARGS, "recv_into(buffer[, nbytes]) -> count" },
	{ "read", (PyCFunction)sock_read, METH_VARARGS, "read([size]) -> bytes" },
	{ "readinto", (PyCFunction)sock_readinto, METH_VARARGS, "readinto(buf[, nbytes]) -> count" },
	{ "readline", (PyCFunction)sock_readline, METH_NOARGS, "readline() -> bytes" },
	{ "send", (PyCFunction)sock_send, METH_VARARGS, "send(bytes) -> count" },
	{ "sendto", (PyCFunction)sock_sendto, METH_VARARGS, "sendto(bytes, address) -> count" },
	{ "sendall", (PyCFunction)sock_sendall, METH_VARARGS, "sendall(bytes)" },
	{ "write", (PyCFunction)sock_write, METH_VARARGS, "write(buf) -> count" },
	{ "setsockopt", (PyCFunction)sock_setsockopt, METH_VARARGS, "setsockopt(level, optname, value)" },
	{ "getsockopt", (PyCFunction)sock_getsockopt, METH_VARARGS, "getsockopt(level, optname[, buflen])" },
	{ "settimeout", (PyCFunction)sock_settimeout, METH_O, "settimeout(None | seconds)" },
	{ "gettimeout", (PyCFunction)sock_gettimeout, METH_NOARGS, "gettimeout() -> None | seconds" },
	{ "setblocking", (PyCFunction)sock_setblocking, METH_O, "setblocking(flag)" },
	{ "getblocking", (PyCFunction)sock_getblocking, METH_NOARGS, "getblocking() -> bool" },
	{ "getsocketsta", (PyCFunction)sock_getsocketsta, METH_NOARGS,
	  "getsocketsta() -> TCP state 0..10 (-1 after close)" },
	{ "shutdown", (PyCFunction)sock_shutdown, METH_O, "shutdown(how)" },
	{ "getsockname", (PyCFunction)sock_getsockname, METH_NOARGS, "getsockname() -> address" },
	{ "getpeername", (PyCFunction)sock_getpeername, METH_NOARGS, "getpeername() -> address" },
	{ NULL, NULL, 0, NULL },
};

static PyObject *sock_get_int(SockObject *self, void *which)
{
	switch ((intptr_t)which) {
	case 0:
		return PyLong_FromLong(self->family);
	case 1:
		return PyLong_FromLong(self->type);
	case 2:
		return PyLong_FromLong(self->proto);
	default:
		return PyLong_FromLong(self->handle);
	}
}

static PyObject *sock_get_stack(SockObject *self, void *Py_UNUSED(c))
{
	return Py_NewRef(self->stack ? (PyObject *)self->stack : Py_None);
}

static PyGetSetDef sock_getset[] = {
	{ "family", (getter)sock_get_int, NULL, "the address family", (void *)0 },
	{ "type", (getter)sock_get_int, NULL, "the socket type", (void *)1 },
	{ "proto", (getter)sock_get_int, NULL, "the protocol", (void *)2 },
	{ "handle", (getter)sock_get_int, NULL, "the C API's handle (us_socket())", (void *)3 },
	{ "stack", (getter)sock_get_stack, NULL, "the Stack the socket lives on", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject SockType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ustack._ustack.socket",
	.tp_doc = "socket(af=AF_INET, type=SOCK_STREAM, proto=0, stack=None)",
	.tp_basicsize = sizeof(SockObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_new = sock_new,
	.tp_dealloc = (destructor)sock_dealloc,
	.tp_repr = (reprfunc)sock_repr,
	.tp_methods = sock_methods,
	.tp_getset = sock_getset,
};

/* ---- Module functions -------------------------------------------------------- */

/* getaddrinfo(host, port, af=0, type=0, proto=0, flags=0, stack=None):
 * [(family, type, proto, canonname, sockaddr), ...] from us_getaddrinfo. */
static PyObject *mod_getaddrinfo(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "host", "port", "af", "type", "proto", "flags", "stack", NULL };
	PyObject *hostobj, *portobj, *stackobj = Py_None;
	int af = 0, st = 0, proto = 0, flags = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|iiiiO:getaddrinfo", kwlist, &hostobj,
					 &portobj, &af, &st, &proto, &flags, &stackobj))
		return NULL;
	(void)flags;
	const char *host;
	if (hostobj == Py_None) {
		host = af == US_AF_INET6 ? "::" : "0.0.0.0";
	} else if (PyUnicode_Check(hostobj)) {
		host = PyUnicode_AsUTF8(hostobj);
		if (!host)
			return NULL;
	} else if (PyBytes_Check(hostobj)) {
		host = PyBytes_AS_STRING(hostobj);
	} else {
		PyErr_SetString(PyExc_TypeError, "getaddrinfo() argument 1 must be string or None");
		return NULL;
	}
	long port = 0;
	if (PyLong_Check(portobj)) {
		port = PyLong_AsLong(portobj);
	} else if (PyUnicode_Check(portobj)) {
		PyObject *n = PyLong_FromUnicodeObject(portobj, 10);
		if (!n) {
			PyErr_Clear();
			raise_gai(US_EAI_NONAME, "service names are not supported");
			return NULL;
		}
		port = PyLong_AsLong(n);
		Py_DECREF(n);
	} else if (portobj != Py_None) {
		PyErr_SetString(PyExc_TypeError, "getaddrinfo() port must be an int, a str or None");
		return NULL;
	}
	if (PyErr_Occurred())
		return NULL;
	if (port < 0 || port > 65535) {
		PyErr_SetString(PyExc_OverflowError, "getaddrinfo(): port must be 0-65535.");
		return NULL;
	}
	if (af != 0 && af != US_AF_INET && af != US_AF_INET6) {
		raise_gai(US_EAI_FAMILY, us_gai_strerror(US_EAI_FAMILY));
		return NULL;
	}
	StackObject *stack = stackobj == Py_None ? default_stack() : NULL;
	if (stackobj != Py_None) {
		if (!PyObject_TypeCheck(stackobj, &StackType)) {
			PyErr_SetString(PyExc_TypeError, "stack: a ustack.Stack");
			return NULL;
		}
		stack = (StackObject *)stackobj;
	}
	if (!stack || !stack->rt)
		return raise_errno_msg(ENETDOWN, "no stack is running: start one with ustack.Stack()");
	Py_INCREF(stack);
	struct us_addrinfo *res = NULL;
	int rc;
	struct us_runtime *rt = stack->rt;
	Py_BEGIN_ALLOW_THREADS
	rc = us_getaddrinfo(rt, host, (uint16_t)port, &res);
	Py_END_ALLOW_THREADS
	Py_DECREF(stack);
	if (rc != 0) {
		if (rc == US_EAI_SYSTEM)
			return raise_errno(errno);
		raise_gai(rc, us_gai_strerror(rc));
		return NULL;
	}
	PyObject *list = PyList_New(0);
	for (const struct us_addrinfo *i = res; list && i; i = i->next) {
		if (af && i->family != af)
			continue;
		int t = st ? st : i->type;
		int p = proto ? proto : st == US_SOCK_DGRAM ? US_IPPROTO_UDP : st == US_SOCK_RAW ? 0 : i->proto;
		PyObject *sa = addr_to_py(&i->addr);
		PyObject *tuple = sa ? Py_BuildValue("(iiisN)", i->family, t, p, i->canonname, sa) : NULL;
		if (!tuple || PyList_Append(list, tuple) < 0)
			Py_CLEAR(list);
		Py_XDECREF(tuple);
	}
	us_freeaddrinfo(res);
	if (list && PyList_GET_SIZE(list) == 0) {
		Py_DECREF(list);
		raise_gai(US_EAI_FAMILY, "no address of the requested family");
		return NULL;
	}
	return list;
}

/* link_pair(mtu=0, queue=0): two ends of an in-memory Ethernet link
 * (us_memlink_pair) for Stack(link=...). */
static PyObject *mod_link_pair(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "mtu", "queue", NULL };
	unsigned int mtu = 0, queue = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|II:link_pair", kwlist, &mtu, &queue))
		return NULL;
	LinkObject *a = PyObject_New(LinkObject, &LinkType);
	LinkObject *b = PyObject_New(LinkObject, &LinkType);
	if (!a || !b) {
		Py_XDECREF(a);
		Py_XDECREF(b);
		return NULL;
	}
	memset(&a->drv, 0, sizeof a->drv);
	memset(&b->drv, 0, sizeof b->drv);
	a->taken = b->taken = false;
	struct us_memlink_options opt = { .queue_frames = queue, .mtu = mtu };
	int rc = us_memlink_pair(&a->drv, &b->drv, &opt);
	if (rc < 0) {
		Py_DECREF(a);
		Py_DECREF(b);
		return raise_errno(-rc);
	}
	return Py_BuildValue("(NN)", a, b);
}

/* poll([(handle, events), ...], timeout_ms) -> [revents, ...]: us_poll in
 * slices, signals handled between them (select.py builds poll objects on it). */
static PyObject *mod_poll(PyObject *Py_UNUSED(m), PyObject *args)
{
	PyObject *seq;
	int timeout_ms;
	if (!PyArg_ParseTuple(args, "Oi:poll", &seq, &timeout_ms))
		return NULL;
	PyObject *fast = PySequence_Fast(seq, "poll: a sequence of (handle, events)");
	if (!fast)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
	struct us_pollfd *fds = PyMem_Calloc(n ? (size_t)n : 1, sizeof *fds);
	if (!fds) {
		Py_DECREF(fast);
		return PyErr_NoMemory();
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		int h, ev;
		if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "ii", &h, &ev)) {
			PyMem_Free(fds);
			Py_DECREF(fast);
			return NULL;
		}
		fds[i].sock = h;
		fds[i].events = (short)ev;
	}
	Py_DECREF(fast);
	double deadline = timeout_ms > 0 ? now_mono() + timeout_ms / 1000.0 : 0;
	int count;
	for (;;) {
		int ms = SLICE_MS, err;
		if (timeout_ms == 0) {
			ms = 0;
		} else if (timeout_ms > 0) {
			double left = deadline - now_mono();
			ms = left <= 0 ? 0 : left * 1000.0 < SLICE_MS ? (int)ceil(left * 1000.0) : SLICE_MS;
		}
		Py_BEGIN_ALLOW_THREADS
		count = us_poll(fds, (size_t)n, ms);
		err = errno;
		Py_END_ALLOW_THREADS
		if (count < 0) {
			PyMem_Free(fds);
			return raise_errno(err);
		}
		if (count > 0 || ms == 0)
			break;
		if (PyErr_CheckSignals() < 0) {
			PyMem_Free(fds);
			return NULL;
		}
	}
	PyObject *out = PyList_New(n);
	for (Py_ssize_t i = 0; out && i < n; i++) {
		PyObject *v = PyLong_FromLong(fds[i].revents);
		if (!v) {
			Py_CLEAR(out);
			break;
		}
		PyList_SET_ITEM(out, i, v);
	}
	PyMem_Free(fds);
	return out;
}

/* The Stack that socket() uses without stack=, or None. */
static PyObject *mod_default_stack(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
	StackObject *s = default_stack();
	return Py_NewRef(s ? (PyObject *)s : Py_None);
}

/* Stops every running stack: at interpreter exit (registered by __init__.py),
 * so that the pcap files are complete and the stack threads end. */
static PyObject *mod_stop_all(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
	while (live_stacks)
		stack_stop_now(live_stacks);
	Py_RETURN_NONE;
}

static PyObject *mod_state_name(PyObject *Py_UNUSED(m), PyObject *arg)
{
	long st = PyLong_AsLong(arg);
	if (st == -1 && PyErr_Occurred())
		return NULL;
	if (st < 0 || st >= US_TCP_NSTATES) {
		PyErr_SetString(PyExc_ValueError, "not a TCP state (0..10)");
		return NULL;
	}
	return PyUnicode_FromString(us_tcp_state_name((int)st));
}

static PyMethodDef mod_methods[] = {
	{ "getaddrinfo", (PyCFunction)(void (*)(void))mod_getaddrinfo, METH_VARARGS | METH_KEYWORDS,
	  "getaddrinfo(host, port, af=0, type=0, proto=0, flags=0, stack=None) -> "
	  "[(family, type, proto, canonname, sockaddr), ...]" },
	{ "link_pair", (PyCFunction)(void (*)(void))mod_link_pair, METH_VARARGS | METH_KEYWORDS,
	  "link_pair(mtu=0, queue=0) -> (end_a, end_b): an in-memory Ethernet link" },
	{ "poll", mod_poll, METH_VARARGS, "poll([(handle, events), ...], timeout_ms) -> [revents, ...]" },
	{ "default_stack", mod_default_stack, METH_NOARGS, "The Stack socket() uses without stack=, or None." },
	{ "stop_all", mod_stop_all, METH_NOARGS, "Stops every running Stack." },
	{ "state_name", mod_state_name, METH_O, "state_name(n) -> 'CLOSED' ... 'TIME_WAIT'" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef moddef = {
	PyModuleDef_HEAD_INIT,
	.m_name = "ustack._ustack",
	.m_doc = "The C half of the ustack package: the socket module over ustack's C API.",
	.m_size = -1,
	.m_methods = mod_methods,
};

struct int_const {
	const char *name;
	long value;
};

static const struct int_const constants[] = {
	{ "AF_INET", US_AF_INET },
	{ "AF_INET6", US_AF_INET6 },
	{ "AF_UNSPEC", US_AF_UNSPEC },
	{ "SOCK_STREAM", US_SOCK_STREAM },
	{ "SOCK_DGRAM", US_SOCK_DGRAM },
	{ "SOCK_RAW", US_SOCK_RAW },
	{ "IPPROTO_IP", US_IPPROTO_IP },
	{ "IPPROTO_ICMP", US_IPPROTO_ICMP },
	{ "IPPROTO_TCP", US_IPPROTO_TCP },
	{ "IPPROTO_UDP", US_IPPROTO_UDP },
	{ "IPPROTO_IPV6", US_IPPROTO_IPV6 },
	{ "IPPROTO_ICMPV6", US_IPPROTO_ICMPV6 },
	{ "SOL_SOCKET", US_SOL_SOCKET },
	{ "SO_REUSEADDR", US_SO_REUSEADDR },
	{ "SO_TYPE", US_SO_TYPE },
	{ "SO_ERROR", US_SO_ERROR },
	{ "SO_BROADCAST", US_SO_BROADCAST },
	{ "SO_SNDBUF", US_SO_SNDBUF },
	{ "SO_RCVBUF", US_SO_RCVBUF },
	{ "SO_KEEPALIVE", US_SO_KEEPALIVE },
	{ "SO_LINGER", US_SO_LINGER },
	{ "IP_TOS", US_IP_TOS },
	{ "IP_TTL", US_IP_TTL },
	{ "IPV6_UNICAST_HOPS", US_IPV6_UNICAST_HOPS },
	{ "IPV6_V6ONLY", US_IPV6_V6ONLY },
	{ "TCP_NODELAY", US_TCP_NODELAY },
	{ "TCP_KEEPIDLE", US_TCP_KEEPIDLE },
	{ "TCP_KEEPINTVL", US_TCP_KEEPINTVL },
	{ "TCP_KEEPCNT", US_TCP_KEEPCNT },
	{ "SHUT_RD", US_SHUT_RD },
	{ "SHUT_WR", US_SHUT_WR },
	{ "SHUT_RDWR", US_SHUT_RDWR },
	{ "POLLIN", US_POLLIN },
	{ "POLLOUT", US_POLLOUT },
	{ "POLLERR", US_POLLERR },
	{ "POLLHUP", US_POLLHUP },
	{ "POLLNVAL", US_POLLNVAL },
	{ "EAI_NONAME", US_EAI_NONAME },
	{ "EAI_AGAIN", US_EAI_AGAIN },
	{ "EAI_FAIL", US_EAI_FAIL },
	{ "EAI_FAMILY", US_EAI_FAMILY },
	{ "EAI_MEMORY", US_EAI_MEMORY },
	{ "EAI_SYSTEM", US_EAI_SYSTEM },
	/* The TCP states of getsocketsta(): the spec's table. */
	{ "CLOSED", US_TCP_CLOSED },
	{ "LISTEN", US_TCP_LISTEN },
	{ "SYN_SENT", US_TCP_SYN_SENT },
	{ "SYN_RCVD", US_TCP_SYN_RCVD },
	{ "ESTABLISHED", US_TCP_ESTABLISHED },
	{ "FIN_WAIT_1", US_TCP_FIN_WAIT_1 },
	{ "FIN_WAIT_2", US_TCP_FIN_WAIT_2 },
	{ "CLOSE_WAIT", US_TCP_CLOSE_WAIT },
	{ "CLOSING", US_TCP_CLOSING },
	{ "LAST_ACK", US_TCP_LAST_ACK },
	{ "TIME_WAIT", US_TCP_TIME_WAIT },
};

PyMODINIT_FUNC PyInit__ustack(void);

PyMODINIT_FUNC PyInit__ustack(void)
{
	if (PyType_Ready(&LinkType) < 0 || PyType_Ready(&StackType) < 0 ||
	    PyType_Ready(&SockType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&moddef);
	if (!m)
		return NULL;
	gaierror = PyErr_NewExceptionWithDoc("ustack.socket.gaierror",
					     "getaddrinfo() failed: (EAI_* code, message)",
					     PyExc_OSError, NULL);
	if (!gaierror || PyModule_AddObjectRef(m, "gaierror", gaierror) < 0 ||
	    PyModule_AddObjectRef(m, "Stack", (PyObject *)&StackType) < 0 ||
	    PyModule_AddObjectRef(m, "Link", (PyObject *)&LinkType) < 0 ||
	    PyModule_AddObjectRef(m, "socket", (PyObject *)&SockType) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
		if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0)
			goto fail;
	if (PyModule_AddIntConstant(m, "SLICE_MS", SLICE_MS) < 0)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
