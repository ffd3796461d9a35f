// SPDX-License-Identifier: GPL-2.0
/*
 * lwreplay - replay a dm-log-writes log to every persistence point and
 * check each state
 *
 * Reads the log that the kernel's dm-log-writes target wrote (format:
 * Documentation/admin-guide/device-mapper/log-writes.rst and
 * drivers/md/dm-log-writes.c: a super block in sector 0, then per entry
 * one header sector, followed by the data of a write) and applies it,
 * entry by entry, to TARGET, which must start as the device was before
 * the log started (the same pattern). At every flush or FUA entry after
 * the mark MKFS (default "mkfs"), the disk as a power cut there could
 * leave it, it copies TARGET to SCRATCH and checks that state:
 *
 *  - SCRATCH mounts as ext4 with OPTS (the journal is replayed);
 *  - if a mark "N" (a number) precedes the state, FILE (relative to the
 *    mount) matches what opcheck -L recorded at its Nth sync point
 *    (RECDIR/N.model: size and contents) and between it and the next
 *    (RECDIR/N.touch: the bytes the program changed and the sizes it
 *    gave the file, or that its inode may show on disk): its size is one
 *    of those sizes, or a block boundary below the largest (writeback
 *    moves i_disksize to the end of what it wrote); every byte the
 *    program did not change since sync N reads as recorded and is below
 *    the size; no byte below i_size is STALE, the pattern the device was
 *    filled with;
 *  - after unmounting, E2FSCK -fn SCRATCH exits 0.
 *
 * Usage: lwreplay [-o OPTS] [-m MKFS] [-f FILE] [-r RECDIR] [-S STALE]
 *                 [-e E2FSCK] [-x MAXFAIL] LOG TARGET SCRATCH MNT
 *
 * Prints a line per failed state (at most MAXFAIL, default 5), then
 * "lwreplay: N states checked, F failed (stale S, lost L, size Z,
 * mount M, fsck K), E log entries, P with a size writeback left". Exits 1
 * if a state failed, 2 on other errors.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <errno.h>
#include <stdarg.h>
#include <assert.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_FLUSH_FLAG		0x1
#define LOG_FUA_FLAG		0x2
#define LOG_DISCARD_FLAG	0x4
#define LOG_MARK_FLAG		0x8
#define WRITE_LOG_MAGIC		0x6a736677736872ULL
#define WRITE_LOG_VERSION	1ULL
#define COPY_CHUNK		0x100000

struct log_write_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
};

struct log_write_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
};

/* Both have no padding before their last field, as on disk. */
static_assert(sizeof(struct log_write_entry) == 32, "log entry layout");
static_assert(offsetof(struct log_write_super, sectorsize) == 24,
	      "log super block layout");

static const char *opts = "", *mkfs_mark = "mkfs", *fname = "file";
static const char *recdir, *e2fsck = "/usr/sbin/e2fsck";
static const char *debugfs = "/usr/sbin/debugfs";
static int stale = 0xee, maxfail = 5;
static const char *target_path, *scratch_path, *mnt;
static int logfd, tfd;
static uint32_t ssize;
static unsigned char *chunk;
static unsigned long states, failed, n_stale, n_lost, n_size, n_mount, n_fsck;
/* States whose file size writeback left between two the program gave. */
static unsigned long n_partial;

static void die(const char *what)
{
	fprintf(stderr, "lwreplay: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void xpread(int fd, void *p, size_t len, off_t off, const char *what)
{
	ssize_t n = pread(fd, p, len, off);

	if (n < 0)
		die(what);
	if ((size_t)n != len) {
		fprintf(stderr, "lwreplay: %s: short read at %lld\n", what,
			(long long)off);
		exit(2);
	}
}

static void xpwrite(int fd, const void *p, size_t len, off_t off,
		    const char *what)
{
	if (pwrite(fd, p, len, off) != (ssize_t)len)
		die(what);
}

/* Read a whole file; NULL if it does not exist. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		if (errno == ENOENT)
			return NULL;
		die(path);
	}
	if (fstat(fd, &st))
		die(path);
	p = malloc(st.st_size + 1);
	if (!p)
		die("malloc");
	xpread(fd, p, st.st_size, 0, path);
	close(fd);
	*len = st.st_size;
	return p;
}

static int state_bad;

/* A failure of the state being checked; a state fails once. */
static void report(unsigned long entry, int mark, const char *fmt, ...)
{
	va_list ap;

	if (!state_bad++)
		failed++;
	if (failed > (unsigned long)maxfail)
		return;
	printf("lwreplay: state at entry %lu (after sync point %d): ", entry,
	       mark);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/*
 * For a failed state (the first few): the file's extents around byte
 * @at as FIEMAP reports them (a hole, an unwritten extent or a mapped
 * one tells which metadata the crash left behind).
 */
static void dump_extents(const char *path, uint64_t at)
{
	struct fiemap *fm;
	unsigned int i, n = 16;
	int fd;

	if (failed > (unsigned long)maxfail)
		return;
	fd = open(path, O_RDONLY);
	fm = calloc(1, sizeof(*fm) + n * sizeof(struct fiemap_extent));
	if (fd < 0 || !fm)
		goto out;
	fm->fm_start = at > 65536 ? at - 65536 : 0;
	fm->fm_length = 131072;
	fm->fm_extent_count = n;
	if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
		printf("lwreplay:   FIEMAP: %s\n", strerror(errno));
		goto out;
	}
	if (!fm->fm_mapped_extents)
		printf("lwreplay:   no extent within 64 KiB of byte %llu\n",
		       (unsigned long long)at);
	for (i = 0; i < fm->fm_mapped_extents; i++) {
		struct fiemap_extent *fe = &fm->fm_extents[i];

		printf("lwreplay:   extent: bytes %llu-%llu at %llu%s%s\n",
		       (unsigned long long)fe->fe_logical,
		       (unsigned long long)(fe->fe_logical + fe->fe_length - 1),
		       (unsigned long long)fe->fe_physical,
		       fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN ? " unwritten" : "",
		       fe->fe_flags & FIEMAP_EXTENT_DELALLOC ? " delalloc" : "");
	}
out:
	free(fm);
	if (fd >= 0)
		close(fd);
}

/*
 * Check FILE against sync point @mark: the record of that point and of
 * what the program changed before the next one.
 */
static int check_file(unsigned long entry, int mark)
{
	unsigned char *model, *traw, *touch, *data;
	size_t mlen, tlen, dlen, i, nstale = 0, nlost = 0;
	size_t first_stale = 0, first_lost = 0, ncut = 0, first_cut = 0;
	uint64_t size, maxsize, nsizes, *sizes, fsize, maxgiven;
	struct statvfs sv;
	uint64_t bsize;
	char path[4096];
	int ok = 0;

	snprintf(path, sizeof(path), "%s/%d.model", recdir, mark);
	model = slurp(path, &mlen);
	snprintf(path, sizeof(path), "%s/%d.touch", recdir, mark);
	traw = slurp(path, &tlen);
	if (!model || !traw || mlen < 8 || tlen < 16) {
		fprintf(stderr, "lwreplay: no complete record of sync point %d in %s\n",
			mark, recdir);
		exit(2);
	}
	memcpy(&size, model, 8);
	memcpy(&maxsize, traw, 8);
	memcpy(&nsizes, traw + 8, 8);
	sizes = (uint64_t *)(traw + 16);
	if (mlen != 8 + size || tlen != 16 + 8 * nsizes + (maxsize + 7) / 8) {
		fprintf(stderr, "lwreplay: bad record of sync point %d\n", mark);
		exit(2);
	}
	touch = traw + 16 + 8 * nsizes;

	if (statvfs(mnt, &sv))
		die(mnt);
	bsize = sv.f_bsize;
	snprintf(path, sizeof(path), "%s/%s", mnt, fname);
	data = slurp(path, &dlen);
	if (!data) {
		n_lost++;
		report(entry, mark, "%s: missing after its sync point", fname);
		goto out;
	}
	fsize = dlen;
	for (i = 0, maxgiven = 0; i < nsizes; i++) {
		if (sizes[i] == fsize)
			break;
		if (sizes[i] > maxgiven)
			maxgiven = sizes[i];
	}
	/*
	 * Writeback moves i_disksize up to the end of the blocks it wrote,
	 * never beyond i_size: a block boundary below a size the program
	 * gave is a state a crash may leave too.
	 */
	if (i == nsizes && fsize % bsize == 0 && fsize < maxgiven) {
		n_partial++;
	} else if (i == nsizes) {
		n_size++;
		report(entry, mark,
		       "%s: size %lld is none the program gave it since the sync point (size there %lld)",
		       fname, (long long)fsize, (long long)size);
		if (failed <= (unsigned long)maxfail) {
			printf("lwreplay: the sizes it gave since (%llu):",
			       (unsigned long long)nsizes);
			for (i = 0; i < nsizes && i < 16; i++)
				printf(" %llu", (unsigned long long)sizes[i]);
			printf("\n");
		}
		goto out;
	}
	/* Synced bytes that nothing changed since may not be cut off. */
	for (i = fsize; i < size; i++) {
		if (i < maxsize && (touch[i / 8] & (1 << (i % 8))))
			continue;
		if (!ncut++)
			first_cut = i;
	}
	if (ncut) {
		n_lost++;
		report(entry, mark,
		       "%s (size %lld): %zu synced bytes beyond its end, the first at %zu (size at the sync point %lld)",
		       fname, (long long)fsize, ncut, first_cut, (long long)size);
		goto out;
	}
	for (i = 0; i < fsize; i++) {
		int touched = i < maxsize && (touch[i / 8] & (1 << (i % 8)));

		if (data[i] == stale) {
			if (!nstale++)
				first_stale = i;
		} else if (!touched && i < size && data[i] != model[8 + i]) {
			if (!nlost++)
				first_lost = i;
		}
	}
	if (nstale) {
		n_stale++;
		report(entry, mark,
		       "%s (size %lld): %zu bytes stale (%#x, the pattern of the device), the first at %zu",
		       fname, (long long)fsize, nstale, stale, first_stale);
	}
	if (nlost) {
		n_lost++;
		report(entry, mark,
		       "%s (size %lld): %zu synced bytes lost, the first at %zu: reads %#x, not %#x",
		       fname, (long long)fsize, nlost, first_lost,
		       data[first_lost], model[8 + first_lost]);
	}
	if (nstale || nlost) {
		dump_extents(path, nlost ? first_lost : first_stale);
		goto out;
	}
	ok = 1;
out:
	free(model);
	free(traw);
	free(data);
	return ok;
}

static int run_fsck(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("fork");
	if (!pid) {
		int null = open("/tmp/lwreplay-fsck.log",
				O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(e2fsck, e2fsck, "-fn", scratch_path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * The extent trees of the first two inodes the e2fsck log names (debugfs,
 * scratch device).
 */
#define FSCK_EXTENTS_CMD \
	"for i in $(grep -o '^Inode [0-9]*' /tmp/lwreplay-fsck.log | cut -d' ' -f2 | sort -un | head -n 2); do [ -x %s ] || break; echo \"extents of inode $i:\"; %s -R \"ex <$i>\" %s 2>/dev/null | head -n 30; done"

/*
 * Diagnostics for a failed state: run a shell command (printf-style),
 * its output after what this program printed so far. Its status does not
 * matter.
 */
static void shell(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	rc = system(cmd);
	(void)rc;
}

static void check_state(unsigned long entry, int mark, off_t devsize)
{
	off_t off;
	int sfd;

	/*
	 * Open SCRATCH only to copy: a kernel without
	 * CONFIG_BLK_DEV_WRITE_MOUNTED refuses to mount a device someone
	 * has open for writing.
	 */
	sfd = open(scratch_path, O_RDWR);
	if (sfd < 0)
		die(scratch_path);
	for (off = 0; off < devsize; off += COPY_CHUNK) {
		size_t len = devsize - off < COPY_CHUNK ? devsize - off :
							  COPY_CHUNK;

		xpread(tfd, chunk, len, off, target_path);
		xpwrite(sfd, chunk, len, off, scratch_path);
	}
	if (fsync(sfd) || close(sfd))
		die(scratch_path);
	states++;
	state_bad = 0;
	if (mount(scratch_path, mnt, "ext4", 0, opts)) {
		n_mount++;
		report(entry, mark, "mount failed: %s", strerror(errno));
		/*
		 * The journal as recovery found it: the last transactions and
		 * the fast commit area, whose tags debugfs prints last.
		 */
		if (failed <= (unsigned long)maxfail)
			shell("[ -x %s ] && %s -R logdump %s 2>/dev/null | tail -n 60",
			      debugfs, debugfs, scratch_path);
		return;
	}
	if (mark >= 0 && recdir)
		check_file(entry, mark);
	if (umount(mnt))
		die("umount");
	if (!run_fsck()) {
		n_fsck++;
		report(entry, mark, "e2fsck -fn failed:");
		if (failed <= (unsigned long)maxfail) {
			shell("grep -v '^Pass [1-5]' /tmp/lwreplay-fsck.log | head -n 8");
			/*
			 * The extent trees of the first two inodes e2fsck
			 * names, as the replayed state has them (debugfs,
			 * where the guest has it).
			 */
			shell(FSCK_EXTENTS_CMD, debugfs, debugfs, scratch_path);
		}
	}
}

int main(int argc, char **argv)
{
	struct log_write_super super;
	struct log_write_entry e;
	unsigned long i, nr;
	unsigned char *hdr;
	int c, mark = -1, started = 0;
	off_t pos, devsize;

	while ((c = getopt(argc, argv, "o:m:f:r:S:e:x:")) != -1) {
		switch (c) {
		case 'o':
			opts = optarg;
			break;
		case 'm':
			mkfs_mark = optarg;
			break;
		case 'f':
			fname = optarg;
			break;
		case 'r':
			recdir = optarg;
			break;
		case 'S':
			stale = strtol(optarg, NULL, 0);
			break;
		case 'e':
			e2fsck = optarg;
			break;
		case 'x':
			maxfail = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 4)
		goto usage;
	target_path = argv[optind + 1];
	scratch_path = argv[optind + 2];
	mnt = argv[optind + 3];
	logfd = open(argv[optind], O_RDONLY);
	tfd = open(target_path, O_RDWR);
	c = open(scratch_path, O_RDONLY);
	if (logfd < 0 || tfd < 0 || c < 0)
		die("open");
	devsize = lseek(tfd, 0, SEEK_END);
	if (devsize <= 0 || lseek(c, 0, SEEK_END) < devsize)
		die("device sizes");
	close(c);

	xpread(logfd, &super, sizeof(super), 0, "log super block");
	if (le64toh(super.magic) != WRITE_LOG_MAGIC ||
	    le64toh(super.version) != WRITE_LOG_VERSION) {
		fprintf(stderr, "lwreplay: %s is no dm-log-writes log\n",
			argv[optind]);
		return 2;
	}
	ssize = le32toh(super.sectorsize);
	nr = le64toh(super.nr_entries);
	hdr = malloc(ssize);
	chunk = malloc(COPY_CHUNK);
	if (!hdr || !chunk || ssize < 512 || (ssize & (ssize - 1)))
		die("log sector size");

	pos = ssize;
	for (i = 0; i < nr; i++) {
		uint64_t flags, sector, nsec, dlen;

		xpread(logfd, hdr, ssize, pos, "log entry");
		memcpy(&e, hdr, sizeof(e));
		flags = le64toh(e.flags);
		sector = le64toh(e.sector);
		nsec = le64toh(e.nr_sectors);
		dlen = le64toh(e.data_len);
		pos += ssize;
		if (flags & LOG_MARK_FLAG) {
			char name[64];
			size_t n = dlen < sizeof(name) ? dlen : sizeof(name) - 1;

			memcpy(name, hdr + sizeof(e), n);
			name[n] = '\0';
			if (!strcmp(name, mkfs_mark))
				started = 1;
			else if (name[0] >= '0' && name[0] <= '9')
				mark = atoi(name);
			continue;
		}
		if (flags & LOG_DISCARD_FLAG) {
			uint64_t done = 0;

			memset(chunk, 0, COPY_CHUNK);
			while (done < nsec * ssize) {
				uint64_t len = nsec * ssize - done;

				if (len > COPY_CHUNK)
					len = COPY_CHUNK;
				xpwrite(tfd, chunk, len, sector * ssize + done,
					target_path);
				done += len;
			}
		} else if (nsec) {
			uint64_t done = 0;

			while (done < nsec * ssize) {
				uint64_t len = nsec * ssize - done;

				if (len > COPY_CHUNK)
					len = COPY_CHUNK;
				xpread(logfd, chunk, len, pos + done, "log data");
				xpwrite(tfd, chunk, len, sector * ssize + done,
					target_path);
				done += len;
			}
			pos += nsec * ssize;
		}
		if (started && (flags & (LOG_FLUSH_FLAG | LOG_FUA_FLAG)))
			check_state(i, mark, devsize);
	}
	printf("lwreplay: %lu states checked, %lu failed ", states, failed);
	printf("(stale %lu, lost %lu, size %lu, mount %lu, fsck %lu), %lu log entries, ",
	       n_stale, n_lost, n_size, n_mount, n_fsck, nr);
	printf("%lu with a size writeback left\n", n_partial);
	return failed ? 1 : 0;
usage:
	fprintf(stderr,
		"usage: lwreplay [-o OPTS] [-m MKFS] [-f FILE] [-r RECDIR] [-S STALE] [-e E2FSCK] [-x MAXFAIL] LOG TARGET SCRATCH MNT\n");
	return 2;
}
