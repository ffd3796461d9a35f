// SPDX-License-Identifier: GPL-2.0
/*
 * nearfull - a writer on a nearly full file system, recorded in a mirror
 *
 * Usage: nearfull [-s SEED] [-n OPS] [-f FILES] [-m MAXSIZE] [-w MAXLEN]
 *                 [-u UID:GID] [-C] [-i] [-v] DIR MIRROR
 *        nearfull -V DIR MIRROR
 *
 * Applies a seeded, reproducible random sequence of operations to FILES
 * files in DIR (created if missing) and the same operations, with the
 * results the file system gave, to the same files in MIRROR, which should
 * be on another file system (tmpfs).  Several writers, each with DIR and
 * MIRROR of its own, are meant to run at once on a file system a few MiB
 * from full (mk/stress/nearfull):
 *
 *   create (O_TRUNC), buffered writes (overwrites, appends, writes beyond
 *   EOF, long sequential ones), stores through a shared mapping (one page
 *   inside EOF at a time, so that a write fault that fails with SIGBUS
 *   stored nothing), truncate down and up, unlink (often with
 *   the file still open, written to and then closed: an orphan with dirty
 *   delayed data), close, fsync, fdatasync, syncfs, reads of random
 *   ranges compared with the mirror, and chown to one of 256 user and
 *   group ids (on a file system with quota, each new id needs its quota
 *   structure written, which grows the quota files near ENOSPC; root
 *   only).
 *
 * A write may be short or fail with ENOSPC or EDQUOT: the mirror gets
 * exactly the bytes the write reported; a truncate up may fail with them
 * (a file in its inode needs a block first) and change nothing; a store whose write fault failed
 * (SIGBUS) is not recorded.  Everything else must succeed:
 * above all fsync, fdatasync and syncfs, which report a failed writeback
 * (data the file system accepted and then lost), and every read must
 * match the mirror.  The run goes on after such a failure, so that its
 * count and the verification are complete; the exit status is then 1.
 *
 * -i makes the first write of an empty file small (1 to 60 bytes at 0), so
 * that on a file system with inline_data a new file starts in its inode
 * and a later write takes it out (on a buffered_iomap mount, the point
 * where the file moves to the iomap path).
 *
 * -C leaves chown out.  With -u, the writer drops root for that user and group first (for quota
 * limits, which root does not have to respect).
 *
 * -V compares DIR with MIRROR after a remount: the same file names, the
 * same sizes, the same bytes.  It prints every file that differs, with its
 * first differing byte and the number of bytes that differ, and exits 1
 * if any does.
 *
 * Written bytes are never 0, so that a block that was lost and reads back
 * as a hole never matches.  Other errors exit 2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES	64
#define LOG_OPS		16

struct slot {
	int fd, mfd;		/* -1: closed */
	int linked;		/* the name exists */
};

static struct slot slots[MAX_FILES];
static const char *dir, *mirror;
static uint64_t rng;
static unsigned char *buf, *mbuf;
static size_t maxsize = 1 << 20, maxlen = 256 << 10;
static unsigned long nop;
static int verbose, no_chown, small_first;
static char oplog[LOG_OPS][80];
static sigjmp_buf bus_jmp;
static long page_size;

static struct {
	unsigned long writes, short_writes, nospc, dquot, bytes, unlinks, orphans;
	unsigned long truncates, syncs, reads, chowns, stores, faults_failed;
	unsigned long sync_errors, read_errors, small_first;
} st;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

static void logop(const char *fmt, ...)
{
	char *s = oplog[nop % LOG_OPS];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(oplog[0]), fmt, ap);
	va_end(ap);
	if (verbose)
		printf("%lu: %s\n", nop, s);
}

static void dump_log(void)
{
	unsigned long i = nop >= LOG_OPS ? nop - LOG_OPS + 1 : 0;

	fprintf(stderr, "nearfull: last operations:\n");
	for (; i <= nop; i++)
		fprintf(stderr, "  %lu: %s\n", i, oplog[i % LOG_OPS]);
}

static void fatal(const char *what, int slot)
{
	fprintf(stderr, "nearfull: op %lu: %s of f%d: %s\n", nop, what, slot,
		strerror(errno));
	dump_log();
	exit(2);
}

static void path(char *p, size_t n, const char *d, int i)
{
	snprintf(p, n, "%s/f%d", d, i);
}

static void slot_close(int i)
{
	struct slot *s = &slots[i];

	if (s->fd < 0)
		return;
	if (close(s->fd))
		fatal("close", i);
	close(s->mfd);
	s->fd = -1;
	s->mfd = -1;
}

/* Open slot @i, creating it (and truncating it with @trunc). */
static void slot_open(int i, int trunc)
{
	struct slot *s = &slots[i];
	int flags = O_RDWR | O_CREAT | (trunc ? O_TRUNC : 0);
	char p[4096];

	if (s->fd >= 0 && s->linked && !trunc)
		return;
	slot_close(i);
	path(p, sizeof(p), dir, i);
	s->fd = open(p, flags, 0644);
	if (s->fd < 0) {
		/* A new inode or directory block may not fit. */
		if (errno == ENOSPC || errno == EDQUOT) {
			st.nospc++;
			return;
		}
		fatal("open", i);
	}
	path(p, sizeof(p), mirror, i);
	s->mfd = open(p, flags, 0644);
	if (s->mfd < 0)
		fatal("open mirror", i);
	s->linked = 1;
}

static off_t msize(int i)
{
	struct stat sb;

	if (fstat(slots[i].mfd, &sb))
		fatal("fstat mirror", i);
	return sb.st_size;
}

static void do_write(int i)
{
	struct slot *s = &slots[i];
	off_t size = msize(i), off;
	size_t len = 1 + rnd_below(maxlen), k;
	unsigned char v = rnd() | 1;
	ssize_t n;

	switch (rnd_below(4)) {
	case 0:				/* append */
		off = size;
		break;
	case 1:				/* a long sequential write */
		off = size;
		len = maxlen * 2;
		break;
	default:			/* anywhere, beyond EOF too */
		off = rnd_below(maxsize);
		break;
	}
	if (small_first && size == 0) {
		off = 0;
		len = 1 + len % 60;
		st.small_first++;
	}
	if (off + len > maxsize)
		len = off < (off_t)maxsize ? maxsize - off : 0;
	if (!len)
		return;
	for (k = 0; k < len; k++) {
		buf[k] = v + k;
		if (!buf[k])
			buf[k] = 0x5a;
	}
	logop("write f%d %lld+%zu", i, (long long)off, len);
	st.writes++;
	n = pwrite(s->fd, buf, len, off);
	if (n < 0) {
		if (errno == EDQUOT)
			st.dquot++;
		else if (errno == ENOSPC)
			st.nospc++;
		else
			fatal("write", i);
		return;
	}
	if ((size_t)n < len)
		st.short_writes++;
	st.bytes += n;
	if (n && pwrite(s->mfd, buf, n, off) != n)
		fatal("write mirror", i);
}

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/*
 * Store into one page of the file through a shared mapping: the write
 * fault reserves or allocates the page's blocks, and fails with SIGBUS
 * (nothing stored) when it cannot.
 */
static void do_store(int i)
{
	struct slot *s = &slots[i];
	off_t size = msize(i), page;
	size_t off, len, k;
	unsigned char v = rnd() | 1;
	unsigned char *map;

	if (size < page_size)
		return;
	page = rnd_below(size / page_size) * page_size;
	off = rnd_below(page_size);
	len = 1 + rnd_below(page_size - off);
	for (k = 0; k < len; k++) {
		buf[k] = v + k;
		if (!buf[k])
			buf[k] = 0x5a;
	}
	logop("store f%d %lld+%zu", i, (long long)(page + off), len);
	map = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   s->fd, page);
	if (map == MAP_FAILED)
		fatal("mmap", i);
	st.stores++;
	if (sigsetjmp(bus_jmp, 1)) {
		/* The fault failed before anything was stored. */
		st.faults_failed++;
	} else {
		memcpy(map + off, buf, len);
		if (pwrite(s->mfd, buf, len, page + off) != (ssize_t)len)
			fatal("write mirror", i);
	}
	munmap(map, page_size);
}

static void do_truncate(int i)
{
	struct slot *s = &slots[i];
	off_t size = msize(i);
	off_t to = rnd_below(2) ? rnd_below(size + 1) : rnd_below(maxsize);

	logop("truncate f%d %lld -> %lld", i, (long long)size, (long long)to);
	st.truncates++;
	if (ftruncate(s->fd, to)) {
		/*
		 * Up beyond what a file in its inode (inline_data) holds: its
		 * data needs a block first. Nothing changes then.
		 */
		if ((errno == ENOSPC || errno == EDQUOT) && to > size) {
			errno == ENOSPC ? st.nospc++ : st.dquot++;
			return;
		}
		fatal("truncate", i);
	}
	if (ftruncate(s->mfd, to))
		fatal("truncate mirror", i);
}

static void do_unlink(int i)
{
	struct slot *s = &slots[i];
	char p[4096];

	logop("unlink f%d%s", i, s->fd >= 0 ? " (open)" : "");
	path(p, sizeof(p), dir, i);
	if (unlink(p))
		fatal("unlink", i);
	path(p, sizeof(p), mirror, i);
	if (unlink(p))
		fatal("unlink mirror", i);
	s->linked = 0;
	st.unlinks++;
	/* Half the time the open file lives on as an orphan for a while. */
	if (s->fd >= 0 && rnd_below(2))
		st.orphans++;
	else
		slot_close(i);
}

static void do_chown(int i)
{
	uid_t uid = 1000 + rnd_below(256);
	gid_t gid = 1000 + rnd_below(256);

	if (geteuid() || no_chown)
		return;
	logop("chown f%d %u:%u", i, uid, gid);
	st.chowns++;
	/* Allocating the ids' quota structures may fail near ENOSPC. */
	if (fchown(slots[i].fd, uid, gid) && errno != ENOSPC && errno != EDQUOT)
		fatal("chown", i);
}

static void do_sync(int i)
{
	struct slot *s = &slots[i];
	const char *what;
	int ret;

	switch (rnd_below(4)) {
	case 0:
		what = "fdatasync";
		ret = fdatasync(s->fd);
		break;
	case 1:
		what = "syncfs";
		ret = syncfs(s->fd);
		break;
	default:
		what = "fsync";
		ret = fsync(s->fd);
		break;
	}
	logop("%s f%d", what, i);
	st.syncs++;
	if (ret) {
		st.sync_errors++;
		fprintf(stderr, "nearfull: op %lu: %s of f%d failed: %s\n",
			nop, what, i, strerror(errno));
		dump_log();
	}
}

/* Compare [off, off + len) of two open files; return the differing bytes. */
static size_t compare(int fd, int mfd, off_t off, size_t len, off_t *first)
{
	size_t diff = 0, done = 0;

	*first = -1;
	while (done < len) {
		size_t chunk = len - done < maxlen * 2 ? len - done : maxlen * 2;
		ssize_t n = pread(fd, buf, chunk, off + done);
		ssize_t m = pread(mfd, mbuf, chunk, off + done);
		size_t k;

		if (n < 0 || m < 0)
			return (size_t)-1;
		for (k = 0; k < (size_t)(n < m ? n : m); k++) {
			if (buf[k] != mbuf[k]) {
				if (*first < 0)
					*first = off + done + k;
				diff++;
			}
		}
		if (n != m) {
			if (*first < 0)
				*first = off + done + (n < m ? n : m);
			diff += n < m ? m - n : n - m;
		}
		if (!n || !m)
			break;
		done += n < m ? n : m;
	}
	return diff;
}

static void do_read(int i)
{
	struct slot *s = &slots[i];
	off_t size = msize(i), first;
	off_t off = rnd_below(size + 1);
	size_t len = 1 + rnd_below(maxlen), diff;

	logop("read f%d %lld+%zu", i, (long long)off, len);
	st.reads++;
	diff = compare(s->fd, s->mfd, off, len, &first);
	if (diff == (size_t)-1)
		fatal("read", i);
	if (diff) {
		st.read_errors++;
		fprintf(stderr,
			"nearfull: op %lu: read of f%d: %zu bytes differ from the record, the first at %lld\n",
			nop, i, diff, (long long)first);
		dump_log();
	}
}

static int run(unsigned long ops, int files)
{
	int k;

	for (k = 0; k < files; k++) {
		slots[k].fd = -1;
		slots[k].mfd = -1;
	}
	for (nop = 0; nop < ops; nop++) {
		int f = rnd_below(files);
		unsigned int what = rnd_below(100);

		if (slots[f].fd < 0 || (!slots[f].linked && what < 30)) {
			/* An orphan's last writes happen before this. */
			logop("open f%d", f);
			slot_open(f, rnd_below(4) == 0);
			if (slots[f].fd < 0)
				continue;
		}
		if (what < 44) {
			do_write(f);
		} else if (what < 50) {
			do_store(f);
		} else if (what < 60) {
			do_read(f);
		} else if (what < 70) {
			do_truncate(f);
		} else if (what < 80) {
			if (slots[f].linked)
				do_unlink(f);
		} else if (what < 88) {
			do_sync(f);
		} else if (what < 92) {
			do_chown(f);
		} else {
			logop("close f%d", f);
			slot_close(f);
		}
	}
	for (k = 0; k < files; k++)
		slot_close(k);
	printf("nearfull: %lu ops: %lu writes (%lu short, %lu ENOSPC, %lu EDQUOT, %lu bytes",
	       ops, st.writes, st.short_writes, st.nospc, st.dquot, st.bytes);
	if (small_first)
		printf(", %lu small first writes", st.small_first);
	printf("), ");
	printf("%lu stores (%lu faults failed), ", st.stores, st.faults_failed);
	printf("%lu truncates, %lu unlinks (%lu orphans), %lu syncs, %lu reads, %lu chowns; ",
	       st.truncates, st.unlinks, st.orphans, st.syncs, st.reads, st.chowns);
	printf("%lu sync errors, %lu read mismatches\n", st.sync_errors, st.read_errors);
	return st.sync_errors || st.read_errors;
}

/* -V: DIR must hold exactly MIRROR's files. */
static int verify(void)
{
	unsigned long files = 0, bad = 0;
	const char *d[2] = { mirror, dir };
	struct dirent *de;
	char p[4096];
	int pass;

	for (pass = 0; pass < 2; pass++) {
		DIR *dp = opendir(d[pass]);

		if (!dp) {
			fprintf(stderr, "nearfull: %s: %s\n", d[pass], strerror(errno));
			return 2;
		}
		while ((de = readdir(dp))) {
			struct stat sa, sb;
			int fd, mfd;
			off_t first;
			size_t diff;

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", d[!pass], de->d_name);
			if (pass == 1) {
				if (access(p, F_OK)) {
					printf("nearfull: %s/%s: not in the record\n",
					       dir, de->d_name);
					bad++;
				}
				continue;
			}
			files++;
			fd = open(p, O_RDONLY);
			if (fd < 0) {
				printf("nearfull: %s: %s (the record has it)\n", p,
				       strerror(errno));
				bad++;
				continue;
			}
			snprintf(p, sizeof(p), "%s/%s", mirror, de->d_name);
			mfd = open(p, O_RDONLY);
			if (mfd < 0 || fstat(fd, &sa) || fstat(mfd, &sb)) {
				fprintf(stderr, "nearfull: %s: %s\n", p, strerror(errno));
				return 2;
			}
			diff = compare(fd, mfd, 0, sa.st_size > sb.st_size ?
				       sa.st_size : sb.st_size, &first);
			if (diff == (size_t)-1) {
				printf("nearfull: %s/%s: read: %s\n", dir,
				       de->d_name, strerror(errno));
				bad++;
			} else if (diff || sa.st_size != sb.st_size) {
				printf("nearfull: %s/%s: size %lld, recorded %lld; ",
				       dir, de->d_name, (long long)sa.st_size,
				       (long long)sb.st_size);
				printf("%zu bytes differ, the first at %lld\n",
				       diff, (long long)first);
				bad++;
			}
			close(fd);
			close(mfd);
		}
		closedir(dp);
	}
	printf("nearfull: %s against the record: %lu files recorded, %lu differ\n", dir,
	       files, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long ops = 2000, seed = 1;
	int files = 12, check = 0, c;
	unsigned int uid = 0, gid = 0;
	int as_user = 0;

	while ((c = getopt(argc, argv, "s:n:f:m:w:u:CivV")) != -1) {
		switch (c) {
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			ops = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			files = atoi(optarg);
			break;
		case 'm':
			maxsize = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			maxlen = strtoul(optarg, NULL, 0);
			break;
		case 'u':
			if (sscanf(optarg, "%u:%u", &uid, &gid) != 2)
				goto usage;
			as_user = 1;
			break;
		case 'C':
			no_chown = 1;
			break;
		case 'i':
			small_first = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			check = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || files < 1 || files > MAX_FILES ||
	    !maxsize || !maxlen)
		goto usage;
	dir = argv[optind];
	mirror = argv[optind + 1];
	buf = malloc(maxlen * 2);
	mbuf = malloc(maxlen * 2);
	if (!buf || !mbuf) {
		perror("nearfull: malloc");
		return 2;
	}
	if (as_user && (setgroups(0, NULL) || setgid(gid) || setuid(uid))) {
		perror("nearfull: dropping root");
		return 2;
	}
	if (check)
		return verify();
	if ((mkdir(dir, 0755) && errno != EEXIST) ||
	    (mkdir(mirror, 0755) && errno != EEXIST)) {
		perror("nearfull: mkdir");
		return 2;
	}
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	page_size = sysconf(_SC_PAGESIZE);
	{
		struct sigaction sa = { .sa_handler = on_sigbus };

		sigaction(SIGBUS, &sa, NULL);
	}
	return run(ops, files);
usage:
	fprintf(stderr,
		"usage: nearfull [-s SEED] [-n OPS] [-f FILES] [-m MAXSIZE] [-w MAXLEN] [-u UID:GID] [-C] [-i] [-v] DIR MIRROR\n"
		"       nearfull -V DIR MIRROR\n");
	return 2;
}
