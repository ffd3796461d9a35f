// SPDX-License-Identifier: GPL-2.0
/*
 * opcheck - random mixed file operations checked against a model
 *
 * Applies a seeded, reproducible random sequence of operations to one file
 * and to an in-memory copy of what the file must contain, and compares the
 * two as it goes: buffered writes, writes through a shared mapping,
 * truncate down and up, punch hole, zero range, collapse and insert range,
 * fsync, fdatasync and msync, reads of random ranges; at the end the whole
 * file is read back, then again after the page cache was dropped.
 *
 * Usage: opcheck [-s SEED] [-n OPS] [-m MAXSIZE] [-c CLUSTER] [-w MAXLEN] [-d] [-v]
 *                [-L RECDIR [-D DMNAME] [-S STALE] | -u] FILE
 *
 * Collapse and insert ranges are aligned to CLUSTER bytes (default: the
 * block size from statvfs; give the cluster size on bigalloc).
 * Buffered writes are up to 4 blocks long and punch/zero ranges up to 6,
 * or both up to MAXLEN bytes with -w: long ones leave delayed extents that
 * span many folios, which background writeback then races with.
 * With -d, some of the reads become O_DIRECT writes and reads of up to 4
 * pages (page-aligned, through a second descriptor), and lseek(SEEK_DATA
 * and SEEK_HOLE) checks: no byte the model holds as non-zero may lie
 * before SEEK_DATA's answer or inside a range SEEK_HOLE reports as a hole
 * (a file system may report a hole as data, never data as a hole).
 * On a mismatch it prints the seed, the last operations and the first byte
 * that differs, and exits 1; other errors exit 2.
 *
 * For crash checks (-L, see lwreplay.c): at the start (once the empty
 * file and its directory entry are synced) and after every fsync,
 * fdatasync and msync, sync point N, it writes what the file must hold
 * to RECDIR/N.model (a 64-bit size, then the contents) and, at the next
 * sync point or at the end, what the program changed in between to
 * RECDIR/N.touch (the bitmap size in bits, the number of sizes, the sizes
 * the file had or its inode may have on disk, then a bitmap of the bytes
 * that changed); with -D it then
 * puts mark "N" into the dm-log-writes device DMNAME (dmsetup message).
 * Data never contains the byte STALE (-S, default 0xee), the pattern of
 * the device before mkfs.
 *
 * With -u (unverified) several processes can share FILE (mk/stress.sh):
 * nothing is compared, O_TRUNC is not used, failed operations (ENOSPC, a
 * range another process moved) are counted and skipped, and a store
 * through the mapping beyond the real EOF (SIGBUS) is skipped too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define LOG_OPS	24
#define DIO_MAX_PAGES	4

static uint64_t rng;
static unsigned char *model, *buf;
static size_t msize, maxsize, bsize, psize, csize, maxlen;
static int fd;
static unsigned char *map;
static char oplog[LOG_OPS][96];
static unsigned long nop;
static int verbose;
/* -u: shared file, nothing verified, errors counted. */
static int unverified;
static unsigned long errors;
/* -d: the O_DIRECT descriptor and its aligned buffer. */
static int dfd = -1;
static unsigned char *dbuf;
static sigjmp_buf bus_jmp;
/* -L: the record of sync points. */
static const char *recdir, *dmname;
static int stale = 0xee, syncpt = -1;
static unsigned char *touched;
static size_t touch_bits;
static uint64_t *sizes;
static size_t nsizes, capsizes;

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

static void logop(const char *fmt, size_t a, size_t b)
{
	char *s = oplog[nop % LOG_OPS];

	snprintf(s, sizeof(oplog[0]), fmt, a, b);
	if (verbose)
		printf("%lu: %s\n", nop, s);
}

static void dump_log(void)
{
	unsigned long i = nop >= LOG_OPS ? nop - LOG_OPS + 1 : 0;

	fprintf(stderr, "last operations:\n");
	for (; i <= nop; i++)
		fprintf(stderr, "  %lu: %s\n", i, oplog[i % LOG_OPS]);
}

static void die(const char *what)
{
	if (unverified && nop != (unsigned long)-1) {
		errors++;
		return;
	}
	fprintf(stderr, "opcheck: op %lu: %s: %s\n", nop, what, strerror(errno));
	dump_log();
	exit(2);
}

/* Compare [off, off + len) of the file with the model. */
static void check(size_t off, size_t len, const char *when)
{
	ssize_t n;
	size_t i;

	if (unverified)
		return;
	if (off + len > msize)
		len = off < msize ? msize - off : 0;
	if (!len)
		return;
	n = pread(fd, buf, len, off);
	if (n < 0)
		die("pread");
	if ((size_t)n != len) {
		fprintf(stderr, "opcheck: %s: short read of %zu at %zu: %zd (size %zu)\n",
			when, len, off, n, msize);
		dump_log();
		exit(1);
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != model[off + i]) {
			fprintf(stderr,
				"opcheck: %s: byte %zu is %#x, expected %#x (op %lu)\n",
				when, off + i, buf[i], model[off + i], nop);
			dump_log();
			exit(1);
		}
	}
}

static void check_size(const char *when)
{
	struct stat st;

	if (unverified)
		return;
	if (fstat(fd, &st))
		die("fstat");
	if ((size_t)st.st_size != msize) {
		fprintf(stderr, "opcheck: %s: size %lld, expected %zu\n", when,
			(long long)st.st_size, msize);
		dump_log();
		exit(1);
	}
}

static void fill(unsigned char *p, size_t len)
{
	unsigned char v = rnd() | 1;	/* never 0: zeros must come from holes */
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = v + i;
		if (recdir && p[i] == stale)
			p[i] ^= 1;
	}
}

/* -L: bytes [off, off + len) change before the next sync point. */
static void touch(size_t off, size_t len)
{
	size_t i;

	if (!recdir)
		return;
	for (i = off; i < off + len && i < touch_bits; i++)
		touched[i / 8] |= 1 << (i % 8);
}

/* -L: the inode may show size @size on disk before the next sync point. */
static void note_disk_size(size_t size)
{
	if (!recdir || (nsizes && sizes[nsizes - 1] == size))
		return;
	if (nsizes == capsizes) {
		capsizes = capsizes ? 2 * capsizes : 64;
		sizes = realloc(sizes, capsizes * sizeof(*sizes));
		if (!sizes)
			die("realloc");
	}
	sizes[nsizes++] = size;
}

/* -L: the file gets size msize before the next sync point. */
static void note_size(void)
{
	note_disk_size(msize);
}

static void write_record(const char *what, int n, const void *a, size_t alen,
			 const void *b, size_t blen, const void *c, size_t clen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d.%s", recdir, n, what);
	f = fopen(path, "w");
	if (!f || fwrite(a, 1, alen, f) != alen ||
	    (blen && fwrite(b, 1, blen, f) != blen) ||
	    (clen && fwrite(c, 1, clen, f) != clen) || fclose(f))
		die(path);
}

static void write_touch(void)
{
	uint64_t hdr[2] = { touch_bits, nsizes };

	write_record("touch", syncpt, hdr, sizeof(hdr), sizes,
		     nsizes * sizeof(*sizes), touched, (touch_bits + 7) / 8);
}

/* -L: a sync has completed: record sync point N, then mark it. */
static void sync_point(void)
{
	uint64_t size = msize;
	char cmd[256];

	if (!recdir)
		return;
	if (syncpt >= 0)
		write_touch();
	syncpt++;
	write_record("model", syncpt, &size, sizeof(size), model, msize,
		     NULL, 0);
	memset(touched, 0, (touch_bits + 7) / 8);
	nsizes = 0;
	note_size();
	if (dmname) {
		snprintf(cmd, sizeof(cmd), "dmsetup message %s 0 mark %d",
			 dmname, syncpt);
		if (system(cmd))
			die(cmd);
	}
}

static void op_write(void)
{
	size_t off = rnd_below(maxsize);
	size_t len = 1 + rnd_below(maxlen ? maxlen : 4 * bsize + 1);

	if (off + len > maxsize)
		len = maxsize - off;
	logop("write %zu +%zu", off, len);
	fill(buf, len);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		die("pwrite");
	if (off > msize) {
		memset(model + msize, 0, off - msize);
		touch(msize, off - msize);
	}
	memcpy(model + off, buf, len);
	touch(off, len);
	if (off + len > msize)
		msize = off + len;
	note_size();
}

/* -d: an O_DIRECT write of whole pages, anywhere up to the maximum size. */
static void op_dio_write(void)
{
	size_t off = rnd_below(maxsize / psize) * psize;
	size_t len = (1 + rnd_below(DIO_MAX_PAGES)) * psize;

	if (off + len > maxsize)
		len = maxsize - off;
	logop("dio write %zu +%zu", off, len);
	fill(dbuf, len);
	if (pwrite(dfd, dbuf, len, off) != (ssize_t)len)
		die("O_DIRECT pwrite");
	if (off > msize)
		memset(model + msize, 0, off - msize);
	memcpy(model + off, dbuf, len);
	if (off + len > msize)
		msize = off + len;
}

/* -d: an O_DIRECT read of whole pages, compared with the model. */
static void op_dio_read(void)
{
	size_t off = rnd_below(msize / psize + 1) * psize;
	size_t len = (1 + rnd_below(DIO_MAX_PAGES)) * psize, want, i;
	ssize_t n;

	logop("dio read %zu +%zu", off, len);
	n = pread(dfd, dbuf, len, off);
	if (n < 0)
		die("O_DIRECT pread");
	want = off >= msize ? 0 : (msize - off < len ? msize - off : len);
	if ((size_t)n != want) {
		fprintf(stderr, "opcheck: O_DIRECT read %zu at %zu: %zd, expected %zu (size %zu)\n",
			len, off, n, want, msize);
		dump_log();
		exit(1);
	}
	for (i = 0; i < want; i++) {
		if (dbuf[i] != model[off + i]) {
			fprintf(stderr, "opcheck: O_DIRECT read: %zu is %#x, not %#x (op %lu)\n",
				off + i, dbuf[i], model[off + i], nop);
			dump_log();
			exit(1);
		}
	}
}

/* lseek(@whence) from @off, with ENXIO meaning the end of the file. */
static size_t seek_to(size_t off, int whence, const char *name)
{
	off_t r = lseek(fd, off, whence);

	if (r < 0 && errno == ENXIO)
		return msize;
	if (r < 0)
		die(name);
	if ((size_t)r < off || (size_t)r > msize) {
		fprintf(stderr, "opcheck: %s from %zu returned %lld, outside [%zu, %zu] (op %lu)\n",
			name, off, (long long)r, off, msize, nop);
		dump_log();
		exit(1);
	}
	return r;
}

/* The model has no non-zero byte in [from, to), which @what calls a hole. */
static void no_data_in(size_t from, size_t to, const char *what, size_t at)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (model[i]) {
			fprintf(stderr, "opcheck: %s %zu: hole [%zu, %zu), data at %zu (op %lu)\n",
				what, at, from, to, i, nop);
			dump_log();
			exit(1);
		}
	}
}

/* -d: SEEK_DATA and SEEK_HOLE from a random offset hide no data. */
static void op_seek(void)
{
	size_t off = rnd_below(msize + 1), data, hole, next;

	logop("seek %zu%.0zu", off, 0);
	data = seek_to(off, SEEK_DATA, "SEEK_DATA");
	no_data_in(off, data, "SEEK_DATA", off);
	hole = seek_to(off, SEEK_HOLE, "SEEK_HOLE");
	if (hole >= msize)
		return;
	next = seek_to(hole, SEEK_DATA, "SEEK_DATA");
	if (next == hole) {
		fprintf(stderr, "opcheck: SEEK_HOLE %zu: %zu, SEEK_DATA says data (op %lu)\n",
			off, hole, nop);
		dump_log();
		exit(1);
	}
	no_data_in(hole, next, "SEEK_HOLE", off);
}

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* A store through the mapping; -1 if it faulted with SIGBUS (-u only). */
static int store(unsigned char *dst, const unsigned char *src, size_t len)
{
	if (unverified && sigsetjmp(bus_jmp, 1))
		return -1;
	memcpy(dst, src, len);
	return 0;
}

static void op_mapwrite(void)
{
	size_t off, len;

	if (!msize)
		return;
	off = rnd_below(msize);
	len = 1 + rnd_below(2 * bsize);
	if (off + len > msize)
		len = msize - off;
	logop("mapwrite %zu +%zu", off, len);
	fill(model + off, len);
	touch(off, len);
	if (store(map + off, model + off, len))
		errors++;	/* -u: beyond the real EOF */
}

static void op_truncate(void)
{
	size_t n = rnd_below(maxsize + 1);

	if (rnd() & 1)
		n = msize ? rnd_below(msize + 1) : 0;	/* more shrinking */
	logop("truncate %zu%.0zu", n, 0);
	if (ftruncate(fd, n))
		die("ftruncate");
	if (n > msize)
		memset(model + msize, 0, n - msize);
	touch(n < msize ? n : msize, n < msize ? msize - n : n - msize);
	msize = n;
	note_size();
}

static void op_falloc_zero(int punch)
{
	size_t off, len;

	if (!msize)
		return;
	off = rnd_below(msize);
	len = 1 + rnd_below(maxlen ? maxlen : 6 * bsize);
	logop(punch ? "punch %zu +%zu" : "zero %zu +%zu", off, len);
	if (fallocate(fd, (punch ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) |
		      FALLOC_FL_KEEP_SIZE, off, len))
		die(punch ? "punch" : "zero range");
	if (off + len > msize)
		len = msize - off;
	memset(model + off, 0, len);
	touch(off, len);
	/*
	 * If the range ends beyond i_disksize, ext4 moves i_disksize to its
	 * end first (ext4_update_disksize_before_punch()), in a transaction
	 * of its own: a crash can then leave that size.
	 */
	note_disk_size(off + len);
	note_size();
}

static void op_collapse(void)
{
	size_t blocks = msize / csize, off, len;

	if (blocks < 3)
		return;
	off = rnd_below(blocks - 1) * csize;
	len = (1 + rnd_below((blocks - off / csize - 1) < 4 ?
			     blocks - off / csize - 1 : 4)) * csize;
	if (off + len >= msize)
		return;
	logop("collapse %zu +%zu", off, len);
	if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, off, len))
		die("collapse");
	memmove(model + off, model + off + len, msize - off - len);
	touch(off, msize - off);
	msize -= len;
	note_size();
}

static void op_insert(void)
{
	size_t blocks = msize / csize, off, len = (1 + rnd_below(4)) * csize;

	if (!blocks || msize + len > maxsize)
		return;
	off = rnd_below(blocks) * csize;
	logop("insert %zu +%zu", off, len);
	if (fallocate(fd, FALLOC_FL_INSERT_RANGE, off, len))
		die("insert");
	memmove(model + off + len, model + off, msize - off);
	memset(model + off, 0, len);
	msize += len;
	touch(off, msize - off);
	note_size();
}

static void drop_page_cache(void)
{
	int d = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (d < 0)
		return;
	if (write(d, "3\n", 2) != 2)
		die("writing /proc/sys/vm/drop_caches");
	close(d);
}

int main(int argc, char **argv)
{
	unsigned long nops = 2000;
	uint64_t seed = 1;
	struct statvfs sv;
	int c;

	maxsize = 256 * 1024;
	while ((c = getopt(argc, argv, "s:n:m:c:w:dvL:D:S:u")) != -1) {
		switch (c) {
		case 'd':
			dfd = 0;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			nops = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			maxsize = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			csize = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			maxlen = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'L':
			recdir = optarg;
			break;
		case 'D':
			dmname = optarg;
			break;
		case 'S':
			stale = strtol(optarg, NULL, 0);
			break;
		case 'u':
			unverified = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || !seed)
		goto usage;
	rng = seed * 0x9e3779b97f4a7c15ULL;

	if (unverified) {
		struct sigaction sa = { .sa_handler = on_sigbus };

		if (recdir)
			goto usage;
		sigaction(SIGBUS, &sa, NULL);
	}
	nop = (unsigned long)-1;	/* set-up errors are fatal */
	fd = open(argv[optind], O_RDWR | O_CREAT | (unverified ? 0 : O_TRUNC),
		  0644);
	if (fd < 0 || fstatvfs(fd, &sv))
		die(argv[optind]);
	bsize = sv.f_bsize;
	if (!csize)
		csize = bsize;
	psize = sysconf(_SC_PAGESIZE);
	maxsize = (maxsize + psize - 1) / psize * psize;
	model = calloc(1, maxsize + 8 * bsize);
	buf = malloc(maxsize + 8 * bsize);
	if (!model || !buf)
		die("malloc");
	map = mmap(NULL, maxsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	if (dfd == 0) {
		if (recdir || unverified)
			goto usage;
		dfd = open(argv[optind], O_RDWR | O_DIRECT);
		if (dfd < 0 || posix_memalign((void **)&dbuf, psize,
					      DIO_MAX_PAGES * psize))
			die("O_DIRECT open");
	}
	if (recdir) {
		char *dir = strdup(argv[optind]), *slash;
		int dfd;

		touch_bits = maxsize + 8 * bsize;
		touched = calloc(1, (touch_bits + 7) / 8);
		if (!dir || !touched)
			die("malloc");
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
		if (dfd < 0 || fsync(fd) || fsync(dfd))
			die("syncing the new file");
		close(dfd);
		free(dir);
		sync_point();
	}

	if (unverified) {
		struct stat st;

		if (fstat(fd, &st))
			die("fstat");
		msize = (size_t)st.st_size < maxsize ? (size_t)st.st_size : maxsize;
		if (ftruncate(fd, msize))
			die("ftruncate");
	}
	for (nop = 0; nop < nops; nop++) {
		unsigned int r = rnd_below(100);

		if (r < 30) {
			op_write();
		} else if (r < 45) {
			op_mapwrite();
		} else if (r < 52) {
			op_truncate();
		} else if (r < 60) {
			op_falloc_zero(1);
		} else if (r < 66) {
			op_falloc_zero(0);
		} else if (r < 70) {
			op_collapse();
		} else if (r < 74) {
			op_insert();
		} else if (r < 78) {
			logop("fsync%.0zu%.0zu", 0, 0);
			if (fsync(fd))
				die("fsync");
			sync_point();
		} else if (r < 80) {
			logop("fdatasync%.0zu%.0zu", 0, 0);
			if (fdatasync(fd))
				die("fdatasync");
			sync_point();
		} else if (r < 84) {
			logop("msync%.0zu%.0zu", 0, 0);
			if (msize && msync(map, (msize + psize - 1) / psize * psize,
					   MS_SYNC))
				die("msync");
			if (msize)
				sync_point();
		} else if (dfd >= 0 && r < 88) {
			op_dio_write();
		} else if (dfd >= 0 && r < 91) {
			op_dio_read();
		} else if (dfd >= 0 && r < 95) {
			op_seek();
		} else {
			size_t off = rnd_below(msize + 1);

			logop("read %zu +%zu", off, 4 * bsize);
			check(off, 4 * bsize, "read");
		}
		if (nop % 64 == 63) {
			check_size("periodic check");
			check(0, msize, "periodic check");
		}
	}
	nop--;
	check_size("final check");
	check(0, msize, "final check");
	if (fsync(fd))
		die("final fsync");
	sync_point();
	if (recdir)
		write_touch();
	munmap(map, maxsize);
	drop_page_cache();
	check_size("after dropping the page cache");
	check(0, msize, "after dropping the page cache");
	close(fd);
	if (dfd >= 0)
		close(dfd);
	if (unverified)
		printf("opcheck: seed %llu, %lu shared-file operations, %lu failed or skipped\n",
		       (unsigned long long)seed, nops, errors);
	else
		printf("opcheck: seed %llu, %lu operations, final size %zu: ok\n",
		       (unsigned long long)seed, nops, msize);
	return 0;
usage:
	fprintf(stderr,
		"usage: opcheck [-s SEED] [-n OPS] [-m MAXSIZE] [-c CLUSTER] [-w MAXLEN] [-d] [-v]\n"
		"               [-L RECDIR [-D DMNAME] [-S STALE] | -u] FILE\n");
	return 2;
}
