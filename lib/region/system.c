/* SPDX-License-Identifier: MIT */
/*
 * The shm object: create, open (with full validation), close, unlink.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

IPCC_EXPORT void ipcc_config_init(struct ipcc_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = IPCC_CPUS_DEFAULT;
	cfg->channels = IPCC_CHANNELS_DEFAULT;
	cfg->buffer_size = IPCC_BUFFER_SIZE_DEFAULT;
	cfg->mode = 0600;
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++)
		cfg->links[a] = ~0ull;
}

int ipcc_pair_map_set(uint64_t map[IPCC_CPUS_MAX], unsigned a, unsigned b, bool on)
{
	if (a == b || a >= IPCC_CPUS_MAX || b >= IPCC_CPUS_MAX)
		return -EINVAL;
	if (a > b) {
		unsigned t = a;
		a = b;
		b = t;
	}
	if (on)
		map[a] |= 1ull << b;
	else
		map[a] &= ~(1ull << b);
	return 0;
}

IPCC_EXPORT int ipcc_config_link(struct ipcc_config *cfg, unsigned a, unsigned b, bool linked)
{
	return cfg ? ipcc_pair_map_set(cfg->links, a, b, linked) : -EINVAL;
}

/* Build the process-local view (links, index table) from a validated geometry. */
static int system_new(const char *name, int fd, uint8_t *base, size_t map_size,
		      const struct ipcc_geometry *geo, struct ipcc_system **ret)
{
	struct ipcc_system *sys = calloc(1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	sys->links = calloc(geo->link_count, sizeof(*sys->links));
	if (!sys->links) {
		free(sys);
		return -ENOMEM;
	}
	snprintf(sys->name, sizeof(sys->name), "%s", name);
	sys->fd = fd;
	if (ipcc_claims_new(sys) < 0) {
		free(sys->links);
		free(sys);
		return -ENOMEM;
	}
	sys->base = base;
	sys->map_size = map_size;
	sys->geo = *geo;
	pthread_mutex_init(&sys->lock, NULL);
	memset(sys->link_index, 0xFF, sizeof(sys->link_index));

	unsigned idx = 0;
	for (unsigned a = 0; a < geo->cpus; a++) {
		for (unsigned b = a + 1; b < geo->cpus; b++) {
			if (!ipcc_geometry_pair_linked(geo->link_map, a, b))
				continue;
			struct ipcc_link *l = &sys->links[idx];
			l->shm = (struct ipcc_shm_link *)(base + geo->link_offset +
							  (uint64_t)idx * geo->link_stride);
			l->cpu[0] = a;
			l->cpu[1] = b;
			l->index = idx;
			sys->link_index[a][b] = sys->link_index[b][a] = (uint16_t)idx;
			idx++;
		}
	}
	assert(idx == geo->link_count);
	/* The layers above region add their per-handle state (lib/layers.c). */
	int r = ipcc_layers_open(sys);
	if (r < 0) {
		ipcc_claims_free(sys);
		pthread_mutex_destroy(&sys->lock);
		free(sys->links);
		free(sys);
		return r;
	}
	*ret = sys;
	return 0;
}

/* Free a handle whose CPUs are all detached (or that never had any). */
static void system_free(struct ipcc_system *sys)
{
	munmap(sys->base, sys->map_size);
	close(sys->fd);
	pthread_mutex_destroy(&sys->lock);
	ipcc_layers_close(sys);
	free(sys->links);
	free(sys);
}

/* Each section type validates and copies the creator-written part of its sections. */
static int sections_load(struct ipcc_system *sys)
{
	for (unsigned i = 0; i < sys->geo.section_count; i++) {
		const struct ipcc_shm_section *s = &sys->geo.sections[i];
		const struct ipcc_section_type *type = ipcc_section_type_find(s->type);
		if (type && type->load) {
			int r = type->load(sys, s);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void header_fill(struct ipcc_shm_header *h, const struct ipcc_geometry *g)
{
	memset(h, 0, sizeof(*h));
	h->magic = IPCC_LAYOUT_MAGIC;
	h->layout_version = IPCC_LAYOUT_VERSION;
	h->state = IPCC_STATE_BUILDING;
	h->total_size = g->total_size;
	h->compat_features = 0;
	h->incompat_features = 0;
	h->header_size = IPCC_SHM_HEADER_SIZE;
	h->section_count = g->section_count;
	h->section_size = sizeof(struct ipcc_shm_section);
	h->cpus = g->cpus;
	h->channels = g->channels;
	h->buffer_size = g->buffer_size;
	h->link_count = g->link_count;
	memcpy(h->link_map, g->link_map, sizeof(h->link_map));
	memcpy(h->sections, g->sections, g->section_count * sizeof(h->sections[0]));
}

/*
 * Build a system in the empty object `fd` (just created: nobody else wrote it) for cfg, whose
 * layout is geo: mode, header, size, sections, then READY. On failure the fd is still the
 * caller's, to close (and unlink); on success it belongs to the handle.
 */
static int object_build(const char *name, int fd, const struct ipcc_config *cfg,
			const struct ipcc_geometry *geo, struct ipcc_shm_header *h,
			struct ipcc_system **ret_sys)
{
	struct ipcc_system *sys;
	uint8_t *base;
	int r;

	/* shm_open applies the umask (memfd_create gives 0777): the mode is what the user asked. */
	if (fchmod(fd, cfg->mode) < 0)
		return -errno;
	/*
	 * The header goes in with one write before the object has its full size: an opener sees
	 * either an empty object or a header with state BUILDING (both -EAGAIN), never a
	 * half-written header that would look foreign.
	 */
	header_fill(h, geo);
	if (pwrite(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		return errno ? -errno : -EIO;
	if (ftruncate(fd, (off_t)geo->total_size) < 0)
		return -errno;
	base = mmap(NULL, geo->total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	r = system_new(name, fd, base, geo->total_size, geo, &sys);
	if (r < 0) {
		munmap(base, geo->total_size);
		return r;
	}
	/* ftruncate zero-filled everything: each section type writes what it needs. */
	for (unsigned i = 0; i < geo->section_count; i++) {
		const struct ipcc_section_type *type =
			ipcc_section_type_find(geo->sections[i].type);
		if (type->init)
			type->init(sys, &geo->sections[i], cfg);
	}
	r = sections_load(sys);
	assert(r == 0); /* we wrote it */

	/* Release: publishes every write above; pairs with the acquire in open_checked. */
	atomic_store_explicit(&ipcc_header(sys)->state, IPCC_STATE_READY, memory_order_release);
	*ret_sys = sys;
	return 0;
}

/* The checked config (NULL: defaults) and its layout, for the creators. */
static int create_plan(const struct ipcc_config **cfg, struct ipcc_config *defaults,
		       struct ipcc_geometry **ret_geo, struct ipcc_shm_header **ret_h)
{
	if (!*cfg) {
		ipcc_config_init(defaults);
		*cfg = defaults;
	}
	if ((*cfg)->mode & ~0777u) /* no setuid, setgid or sticky bit on a shared object */
		return -EINVAL;
	*ret_geo = malloc(sizeof(**ret_geo));
	*ret_h = malloc(sizeof(**ret_h));
	if (!*ret_geo || !*ret_h)
		return -ENOMEM;
	return ipcc_layout_plan(*cfg, *ret_geo);
}

IPCC_EXPORT int ipcc_system_create(const char *name, const struct ipcc_config *cfg,
				   struct ipcc_system **ret_sys)
{
	struct ipcc_config defaults;
	struct ipcc_geometry *geo = NULL;
	struct ipcc_shm_header *h = NULL;
	int fd, r;

	if (!ret_sys || ipcc_name_validate(name) < 0)
		return -EINVAL;
	r = create_plan(&cfg, &defaults, &geo, &h);
	if (r < 0)
		goto out;
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, cfg->mode & 0777);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = object_build(name, fd, cfg, geo, h, ret_sys);
	if (r < 0) {
		close(fd);
		shm_unlink(name);
	}
out:
	free(h);
	free(geo);
	return r;
}

/*
 * What an anonymous object carries: nobody may shrink it (a process that has it mapped would
 * get SIGBUS), nor grow it, nor change that.
 */
#define ANON_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1; older headers lack it */
#endif

IPCC_EXPORT int ipcc_system_create_anon(const struct ipcc_config *cfg, struct ipcc_system **ret_sys)
{
	struct ipcc_config defaults;
	struct ipcc_geometry *geo = NULL;
	struct ipcc_shm_header *h = NULL;
	struct ipcc_system *sys;
	int fd, r;

	if (!ret_sys)
		return -EINVAL;
	r = create_plan(&cfg, &defaults, &geo, &h);
	if (r < 0)
		goto out;
	fd = memfd_create("ipcc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = object_build("", fd, cfg, geo, h, &sys);
	if (r < 0) {
		close(fd);
		goto out;
	}
	/* Sealed before anybody else can have the descriptor: the size is final. */
	if (fcntl(fd, F_ADD_SEALS, ANON_SEALS) < 0) {
		r = -errno;
		ipcc_system_close(sys); /* closes fd */
		goto out;
	}
	*ret_sys = sys;
out:
	free(h);
	free(geo);
	return r;
}

/*
 * Check the object open on fd (which this takes over: closed on failure, the handle's on
 * success) and make a handle of it. For a descriptor handed to us (from_fd), also its access
 * mode and its seals: an anonymous object that another process could shrink would SIGBUS us.
 */
static int open_checked(int fd, const char *name, unsigned flags, bool from_fd,
			struct ipcc_system **ret_sys)
{
	struct ipcc_shm_header *h = NULL;
	struct ipcc_geometry *geo = NULL;
	struct stat st;
	uint8_t *base;
	int r;
	bool ro = flags & IPCC_OPEN_READONLY;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EPROTO;
		goto out;
	}
	if (from_fd) {
		int fl = fcntl(fd, F_GETFL);
		int seals = fcntl(fd, F_GET_SEALS);
		if (fl < 0) {
			r = -errno;
			goto out;
		}
		if ((fl & O_ACCMODE) != O_RDWR && (!ro || (fl & O_ACCMODE) != O_RDONLY)) {
			r = -EACCES; /* not open for what the flags ask */
			goto out;
		}
		/* A file that cannot be sealed (a named shm object, a plain file) gives EINVAL. */
		if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
			r = -EBADFD;
			goto out;
		}
		/* Sealed against writing: it can only be observed (mmap would say EPERM). */
		if (!ro && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
			r = -EACCES;
			goto out;
		}
	}
	/*
	 * Another user's object is a system this user did not make: whoever owns it may have set
	 * it up for us to join (squatting the name first). A read-only observer only reads, and
	 * every byte it reads is validated, so it may look at any object it can read.
	 */
	if (st.st_uid != geteuid() && !(flags & (IPCC_OPEN_ANY_OWNER | IPCC_OPEN_READONLY))) {
		r = -EPERM;
		goto out;
	}
	if (st.st_size == 0) {
		r = -EAGAIN; /* the creator has not written its header yet */
		goto out;
	}
	if ((uint64_t)st.st_size < sizeof(*h)) {
		r = -EBADMSG;
		goto out;
	}
	h = malloc(sizeof(*h));
	geo = malloc(sizeof(*geo));
	if (!h || !geo) {
		r = -ENOMEM;
		goto out;
	}
	/* Our own copy: a peer may rewrite the object's header while we check it. */
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h)) {
		r = -EBADMSG;
		goto out;
	}
	if (h->magic == IPCC_LAYOUT_MAGIC && h->layout_version == IPCC_LAYOUT_VERSION &&
	    h->state == IPCC_STATE_BUILDING) {
		r = -EAGAIN;
		goto out;
	}
	r = ipcc_layout_check(h, (uint64_t)st.st_size, geo);
	if (r < 0)
		goto out;

	base = mmap(NULL, geo->total_size, PROT_READ | (ro ? 0 : PROT_WRITE), MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	/* Acquire: pairs with the READY release in object_build. */
	uint32_t state = atomic_load_explicit(&((struct ipcc_shm_header *)base)->state,
					      memory_order_acquire);
	if (state != IPCC_STATE_READY) {
		r = state == IPCC_STATE_BUILDING ? -EAGAIN : -EUCLEAN;
		munmap(base, geo->total_size);
		goto out;
	}
	struct ipcc_system *sys;
	/* The handle keeps fd: claims open new descriptions of it (lib/region/claim.c). */
	r = system_new(name, fd, base, geo->total_size, geo, &sys);
	if (r < 0) {
		munmap(base, geo->total_size);
		goto out;
	}
	sys->readonly = ro;
	r = sections_load(sys);
	if (r < 0) {
		ipcc_system_close(sys); /* closes fd */
		fd = -1;
		goto out;
	}
	*ret_sys = sys;
	fd = -1;
out:
	free(h);
	free(geo);
	if (fd >= 0)
		close(fd);
	return r;
}

IPCC_EXPORT int ipcc_system_open_flags(const char *name, unsigned flags,
				       struct ipcc_system **ret_sys)
{
	if (!ret_sys || ipcc_name_validate(name) < 0 ||
	    (flags & ~(IPCC_OPEN_READONLY | IPCC_OPEN_ANY_OWNER)))
		return -EINVAL;
	bool ro = flags & IPCC_OPEN_READONLY;
	/* O_NONBLOCK: anyone may put a FIFO under the name, and opening one would block. */
	int fd = shm_open(name, (ro ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0) /* glibc reports a directory opened for writing as EINVAL; the name is valid */
		return errno == EINVAL ? -EISDIR : -errno;
	return open_checked(fd, name, flags, false, ret_sys);
}

IPCC_EXPORT int ipcc_system_open_fd(int fd, unsigned flags, struct ipcc_system **ret_sys)
{
	if (!ret_sys || (flags & ~(IPCC_OPEN_READONLY | IPCC_OPEN_ANY_OWNER)))
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	/* A description of our own: the caller keeps (and closes) its descriptor. */
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (own < 0)
		return -errno;
	return open_checked(own, "", flags, true, ret_sys);
}

IPCC_EXPORT int ipcc_system_fd(const struct ipcc_system *sys)
{
	return sys ? sys->fd : -EINVAL;
}

IPCC_EXPORT int ipcc_system_dup_fd(const struct ipcc_system *sys, bool cloexec)
{
	if (!sys)
		return -EINVAL;
	int fd = fcntl(sys->fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 3);
	return fd < 0 ? -errno : fd;
}

IPCC_EXPORT bool ipcc_system_anonymous(const struct ipcc_system *sys)
{
	return sys && !sys->name[0];
}

IPCC_EXPORT int ipcc_system_open(const char *name, struct ipcc_system **ret_sys)
{
	return ipcc_system_open_flags(name, 0, ret_sys);
}

/* Does the open object have the shape cfg asks for (CPUs, channels, buffers, links, names)? */
static bool system_matches(const struct ipcc_system *sys, const struct ipcc_geometry *want)
{
	const struct ipcc_geometry *g = &sys->geo;
	if (g->cpus != want->cpus || g->channels != want->channels ||
	    g->buffer_size != want->buffer_size ||
	    memcmp(g->link_map, want->link_map, sizeof(g->link_map)))
		return false;
	return true;
}

static bool names_match(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	char def[IPCC_SHM_CPU_NAME_SIZE];
	for (unsigned i = 0; i < sys->geo.cpus; i++) {
		const char *want = cfg->cpu_names[i];
		if (!want[0]) {
			ipcc_cpu_name_default(i, def);
			want = def;
		}
		if (strcmp(sys->cpu_names[i], want))
			return false;
	}
	return true;
}

/* What each section type keeps beyond the geometry (a service's settings) is as cfg says. */
static bool sections_match(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	for (unsigned t = 0; t < ipcc_section_type_count; t++)
		if (ipcc_section_types[t]->matches && !ipcc_section_types[t]->matches(sys, cfg))
			return false;
	return true;
}

/* Open-or-create: how long an opener waits for a creator that is building the object. */
#define MEET_WAIT_NS  (2 * 1000000000LL)
#define MEET_RETRY_NS 1000000L

IPCC_EXPORT int ipcc_system_open_or_create(const char *name, const struct ipcc_config *cfg,
					   unsigned flags, struct ipcc_system **ret_sys)
{
	struct ipcc_config defaults;
	struct ipcc_geometry *want;
	struct ipcc_system *sys = NULL;
	struct timespec start, now;
	int r;

	if (!ret_sys || ipcc_name_validate(name) < 0 || (flags & ~IPCC_OPEN_ANY_OWNER))
		return -EINVAL;
	if (!cfg) {
		ipcc_config_init(&defaults);
		cfg = &defaults;
	}
	want = malloc(sizeof(*want));
	if (!want)
		return -ENOMEM;
	r = ipcc_layout_plan(cfg, want); /* a bad config fails here, whoever comes first */
	if (r < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		/* O_EXCL decides who creates: exactly one of two processes starting at once. */
		r = ipcc_system_create(name, cfg, &sys);
		if (r == 0) {
			r = 1;
			break;
		}
		if (r != -EEXIST)
			break;
		r = ipcc_system_open_flags(name, flags, &sys);
		if (r == 0) {
			if (!system_matches(sys, want) || !names_match(sys, cfg) ||
			    !sections_match(sys, cfg)) {
				ipcc_system_close(sys);
				sys = NULL;
				r = -EEXIST; /* an object of another shape: refuse, never use it */
			}
			break;
		}
		/* -ENOENT: removed between the two calls; -EAGAIN: its creator is building it. */
		if (r != -ENOENT && r != -EAGAIN)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t waited = (int64_t)(now.tv_sec - start.tv_sec) * 1000000000LL +
				 (now.tv_nsec - start.tv_nsec);
		if (waited >= MEET_WAIT_NS) {
			r = -EAGAIN; /* a creator that died half-way: see the header */
			break;
		}
		struct timespec ts = { 0, MEET_RETRY_NS };
		nanosleep(&ts, NULL);
	}
	if (r >= 0)
		*ret_sys = sys;
out:
	free(want);
	return r;
}

IPCC_EXPORT void ipcc_system_close(struct ipcc_system *sys)
{
	if (!sys)
		return;
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++) {
		pthread_mutex_lock(&sys->lock);
		struct ipcc_cpu *cpu = sys->cpus[i];
		pthread_mutex_unlock(&sys->lock);
		if (cpu)
			ipcc_cpu_detach(cpu);
	}
	/* The reapers wake this handle's CPUs: stop them before the mapping goes. */
	ipcc_claims_free(sys);
	system_free(sys);
}

IPCC_EXPORT int ipcc_system_unlink(const char *name)
{
	if (ipcc_name_validate(name) < 0)
		return -EINVAL;
	return shm_unlink(name) < 0 ? -errno : 0;
}

IPCC_EXPORT unsigned ipcc_system_cpus(const struct ipcc_system *sys)
{
	return sys ? sys->geo.cpus : 0;
}

IPCC_EXPORT unsigned ipcc_system_channels(const struct ipcc_system *sys)
{
	return sys ? sys->geo.channels : 0;
}

IPCC_EXPORT uint32_t ipcc_system_buffer_size(const struct ipcc_system *sys)
{
	return sys ? sys->geo.buffer_size : 0;
}

IPCC_EXPORT unsigned ipcc_system_link_count(const struct ipcc_system *sys)
{
	return sys ? sys->geo.link_count : 0;
}

IPCC_EXPORT uint64_t ipcc_system_size(const struct ipcc_system *sys)
{
	return sys ? sys->geo.total_size : 0;
}

IPCC_EXPORT const char *ipcc_system_name(const struct ipcc_system *sys)
{
	return sys ? sys->name : NULL;
}

IPCC_EXPORT bool ipcc_system_linked(const struct ipcc_system *sys, unsigned a, unsigned b)
{
	return sys && ipcc_link_get(sys, a, b) != NULL;
}

IPCC_EXPORT bool ipcc_system_readonly(const struct ipcc_system *sys)
{
	return sys && sys->readonly;
}

IPCC_EXPORT const char *ipcc_system_cpu_name(const struct ipcc_system *sys, unsigned id)
{
	return sys && id < sys->geo.cpus ? sys->cpu_names[id] : NULL;
}

IPCC_EXPORT int ipcc_system_cpu_by_name(const struct ipcc_system *sys, const char *name)
{
	if (!sys || !name)
		return -EINVAL;
	for (unsigned i = 0; i < sys->geo.cpus; i++)
		if (!strcmp(sys->cpu_names[i], name))
			return (int)i;
	return -ENOENT;
}

IPCC_EXPORT int ipcc_system_sections(const struct ipcc_system *sys, struct ipcc_section_info *ret,
				     unsigned cap)
{
	if (!sys || (!ret && cap))
		return -EINVAL;
	return ipcc_layout_describe(&sys->geo, ret, cap);
}
