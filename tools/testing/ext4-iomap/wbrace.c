// SPDX-License-Identifier: GPL-2.0
/*
 * wbrace - writeback of a delayed extent racing the removal of its tail
 *
 * Usage: wbrace [-n ITERATIONS] [-l LENGTH] [-s SEED] [-c CLUSTER] FILE
 *
 * Each iteration truncates FILE to 0 and writes LENGTH bytes (default
 * 64 KiB), one delayed extent on a delalloc mount, and then at once, from
 * two threads: sync_file_range() writes back the first 4 KiB only, while the
 * other thread removes the tail of the extent, by truncating FILE to
 * 4 KiB (even iterations) or punching the second half (odd ones).  Each
 * thread first spins a seeded random while, so that the two meet at
 * varying points.  Writeback holds the lock of its first folio only; the
 * blocks it finds delayed beyond that folio may be removed, with their
 * space reservation, before it allocates them.  After fsync(), FILE
 * must have:
 *   - no block mapped (FIEMAP) beyond EOF (truncate) or in the hole
 *     (punch): blocks nothing covers are leaked;
 *   - as many 512-byte blocks in st_blocks as its extents map (when
 *     CLUSTER, the bigalloc cluster size, is the block size): an
 *     allocation charged against a reservation that is gone leaves
 *     i_blocks and the quota short (e2fsck: "i_blocks is X, should be Y");
 *   - the data written where it was kept and zeroes in the hole.
 * An iteration whose write, punch or fsync fails with ENOSPC is skipped
 * (the stress may hold the file system near ENOSPC).  The first iteration
 * that fails ends the run (the later ones would inherit its accounting);
 * it prints what was wrong and a summary "wbrace: N iterations, N skipped,
 * N failed", and exits 1 if an iteration failed, 2 on a usage or setup
 * error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define KEEP		4096
#define NR_EXTENTS	64
#define MAX_SPIN	20000

static pthread_barrier_t start;
static unsigned long long rnd;
static int fd;
static unsigned long spin_wb;

static unsigned long next_rand(void)
{
	rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd >> 33;
}

static void spin(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		asm volatile("" : : : "memory");
}

static void *writeback(void *arg)
{
	long ret;

	pthread_barrier_wait(&start);
	spin(spin_wb);
	ret = sync_file_range(fd, 0, KEEP, SYNC_FILE_RANGE_WRITE |
			      SYNC_FILE_RANGE_WAIT_AFTER) ? errno : 0;
	return (void *)ret;
}

static int failures;

static void bad(unsigned long it, const char *fmt, const char *what,
		long long a, long long b)
{
	if (++failures > 5)
		return;
	printf("wbrace: iteration %lu: ", it);
	printf(fmt, what, a, b);
	printf("\n");
}

/* 0 if FILE is as it must be after iteration @it, 1 if not. */
static int check(unsigned long it, int punch, size_t len, long bsize,
		 long cluster, unsigned char *buf)
{
	struct fiemap *fm;
	long long extra, mapped = 0, hole = punch ? (long long)len / 2 : KEEP;
	long long end = punch ? (long long)len : KEEP;
	unsigned int i;
	struct stat st;
	int before = failures;
	size_t j;

	fm = calloc(1, sizeof(*fm) + NR_EXTENTS * sizeof(fm->fm_extents[0]));
	if (!fm)
		exit(2);
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = NR_EXTENTS;
	if (ioctl(fd, FS_IOC_FIEMAP, fm) || fstat(fd, &st)) {
		perror("wbrace: FIEMAP or fstat");
		exit(2);
	}
	for (i = 0; i < fm->fm_mapped_extents; i++) {
		struct fiemap_extent *fe = &fm->fm_extents[i];
		long long fs = fe->fe_logical, fe_end = fs + fe->fe_length;

		mapped += fe->fe_length;
		if (fe_end > hole && (punch ? fs < end : 1))
			bad(it, "%s: block mapped at %lld (%lld bytes)",
			    punch ? "in the hole" : "beyond EOF", fs,
			    fe->fe_length);
	}
	/*
	 * Up to four extents live in the inode; more take extent tree blocks,
	 * which i_blocks counts too.
	 */
	extra = st.st_blocks * 512 - mapped;
	if (cluster == bsize &&
	    (fm->fm_mapped_extents <= 4 ? extra != 0 :
	     extra <= 0 || extra > 2 * bsize || extra % bsize))
		bad(it, "%s: st_blocks %lld, its extents map %lld",
		    "i_blocks", (long long)st.st_blocks, mapped / 512);
	if (st.st_size != end)
		bad(it, "%s: size %lld, expected %lld", "size",
		    (long long)st.st_size, end);
	if (pread(fd, buf, end, 0) != end) {
		perror("wbrace: read");
		exit(2);
	}
	for (j = 0; j < (size_t)end; j++) {
		unsigned char want = j < (size_t)hole ? (unsigned char)it : 0;

		if (buf[j] != want) {
			bad(it, "%s: byte %lld reads %lld", "data",
			    (long long)j, buf[j]);
			break;
		}
	}
	free(fm);
	return failures != before;
}

int main(int argc, char **argv)
{
	unsigned long it, iterations = 200, skipped = 0, failed = 0;
	size_t len = 64 << 10;
	long cluster = 0, bsize;
	unsigned char *buf;
	struct statfs sfs;
	const char *path;
	int c;

	while ((c = getopt(argc, argv, "n:l:s:c:")) != -1) {
		switch (c) {
		case 'n':
			iterations = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			len = strtoul(optarg, NULL, 0);
			break;
		case 's':
			rnd = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			cluster = strtol(optarg, NULL, 0);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1 || len < 4 * KEEP || len % (2 * KEEP))
		goto usage;
	path = argv[optind];
	buf = malloc(len);
	if (!buf) {
		perror("wbrace: malloc");
		return 2;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fstatfs(fd, &sfs)) {
		perror("wbrace: open");
		return 2;
	}
	bsize = sfs.f_bsize;
	if (!cluster)
		cluster = bsize;
	for (it = 0; it < iterations; it++) {
		int punch = it & 1;
		pthread_t t;
		void *wret;
		long ret;

		if (ftruncate(fd, 0)) {
			perror("wbrace: truncate to 0");
			return 2;
		}
		memset(buf, (unsigned char)it, len);
		if (pwrite(fd, buf, len, 0) != (ssize_t)len) {
			if (errno != ENOSPC) {
				perror("wbrace: write");
				return 2;
			}
			skipped++;
			continue;
		}
		spin_wb = next_rand() % MAX_SPIN;
		if (pthread_barrier_init(&start, NULL, 2) ||
		    pthread_create(&t, NULL, writeback, NULL)) {
			fprintf(stderr, "wbrace: cannot start a thread\n");
			return 2;
		}
		pthread_barrier_wait(&start);
		spin(next_rand() % MAX_SPIN);
		if (punch)
			ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					FALLOC_FL_KEEP_SIZE, len / 2, len / 2);
		else
			ret = ftruncate(fd, KEEP);
		ret = ret ? errno : 0;
		pthread_join(t, &wret);
		pthread_barrier_destroy(&start);
		if (ret == ENOSPC || (long)wret == ENOSPC) {
			skipped++;
			continue;
		}
		if (ret || wret) {
			fprintf(stderr, "wbrace: iteration %lu: %s: %s, sync_file_range: %s\n",
				it, punch ? "punch" : "truncate", strerror(ret),
				strerror((long)wret));
			return 2;
		}
		if (fsync(fd)) {
			if (errno != ENOSPC) {
				perror("wbrace: fsync");
				return 2;
			}
			skipped++;
		} else if (check(it, punch, len, bsize, cluster, buf)) {
			/* What follows would inherit the broken accounting. */
			failed++;
			iterations = it + 1;
			break;
		}
	}
	close(fd);
	unlink(path);
	printf("wbrace: %lu iterations, %lu skipped, %lu failed\n",
	       iterations, skipped, failed);
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: wbrace [-n ITERATIONS] [-l LENGTH] [-s SEED] [-c CLUSTER] FILE\n");
	return 2;
}
