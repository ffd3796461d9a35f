// SPDX-License-Identifier: GPL-2.0
/*
 * A benchmark, not a test: buffered writes through ext4's buffer_head path
 * and through its iomap path, timed at native speed on an ext4 formatted
 * and mounted in memory by the KUnit fixture (kunit-fixture.c).  Under
 * UML the kernel is a process on the host CPU, so unlike a QEMU guest
 * under TCG the figures are those of the host's own instructions.
 *
 * Built only with CONFIG_EXT4_IOMAP_BENCH (never by KUNIT_ALL_TESTS), and
 * even then every case skips itself unless the kernel is booted with
 * ext4_test.bench=1: an allyesconfig or randconfig kernel that runs its
 * built-in KUnit tests at boot does not spend minutes writing.  Every case
 * is marked very slow, too.  With kunit.py:
 *
 *   kunit.py run --kunitconfig=fs/ext4 \
 *	--kconfig_add CONFIG_EXT4_IOMAP_BENCH=y --timeout 3600 \
 *	--kernel_args ext4_test.bench=1 --kernel_args ext4_test.bench_reps=5 \
 *	'ext4_iomap_bench'
 *
 * (the parameters are those of the ext4-test module, ext4_test.* when it is
 * built in).  Each run prints one "ext4_iomap_bench:" line with its figures;
 * the project's tooling turns them into a table, JSON and a chart.
 *
 * Suite ext4_iomap_bench: one case per run.  A run is one of
 *   chunk   1 KiB, 4 KiB, 64 KiB, 1 MiB per call,
 *   op      writes: sequential append to an empty file, sequential
 *           overwrite or chunk-aligned random overwrite of a file written
 *           and fsync'ed beforehand (untimed); reads: sequential reads of a
 *           hole (a sparse file), of data in the page cache, of data on
 *           disk (the page cache dropped before every pass, untimed),
 *   sync    for writes: cached (no writeback at all), ending each pass with
 *           fsync, or every call RWF_DONTCACHE (appends only),
 *   path    "bh" (default mount: buffer_heads, delalloc; 4 KiB blocks
 *           imply dioread_nolock), "bh-nd" (nodelalloc: blocks allocated
 *           unwritten by ->write_begin, as dioread_nolock does), "bh-nd-lock"
 *           (nodelalloc,dioread_lock: written blocks, data=ordered),
 *           "iomap" (buffered_iomap, delalloc), "iomap-nd" (buffered_iomap,
 *           nodelalloc), and "copy": no file system at all, only the same
 *           bytes copied by copy_from_iter() into (or copy_to_iter() out of)
 *           a buffer the size of the file, the ceiling of every path.
 *           Reads run on bh, iomap and copy only.
 * repeated bench_reps times; the paths of one repetition run back to back
 * (alternated), each on a fresh file system (4 KiB blocks, 128 MiB, a
 * 16 MiB journal).  A run moves bench_bytes() in passes over a file of
 * BENCH_FILE bytes; between two append passes the file is truncated to 0
 * outside the timed part.  It prints the bytes, the calls, the nanoseconds
 * spent in the timed part, the journal handles started in it (a journal
 * commit is forced before and after every pass, untimed) and the pages
 * written back meanwhile (NR_WRITTEN, all devices).
 *
 * Suite ext4_iomap_bench_profile: for a profiler (perf on the host, around
 * the UML process) to split the time of a call: cached sequential append
 * and overwrite of 1 KiB and 4 KiB chunks and append of 64 KiB chunks on bh
 * and iomap, 4 KiB appends
 * without delalloc and with RWF_DONTCACHE, 4 KiB reads of data not cached,
 * about a second each.
 */

#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/jbd2.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "ext4.h"
#include "kunit-fixture.h"

static bool bench;
module_param(bench, bool, 0444);
MODULE_PARM_DESC(bench, "run the buffered I/O benchmark (it takes minutes)");

static unsigned int bench_reps = 5;
module_param(bench_reps, uint, 0444);
MODULE_PARM_DESC(bench_reps, "repetitions of every benchmark run (1-20)");

static unsigned int bench_scale = 100;
module_param(bench_scale, uint, 0444);
MODULE_PARM_DESC(bench_scale, "percentage of the default data per run");

static char *bench_cases;
module_param(bench_cases, charp, 0444);
MODULE_PARM_DESC(bench_cases,
		 "comma-separated cases to run, as seq-append-fsync-4k (default all)");

#define BENCH_MAX_REPS	20
#define BENCH_FILE	SZ_16M

static const unsigned int bench_chunks[] = { SZ_1K, SZ_4K, SZ_64K, SZ_1M };

enum bench_op {
	BENCH_APPEND, BENCH_SEQ, BENCH_RAND,
	BENCH_READ_HOLE, BENCH_READ_CACHED, BENCH_READ_UNCACHED,
	BENCH_NR_OPS
};

static const char * const bench_op_names[] = {
	[BENCH_APPEND] = "seq-append",
	[BENCH_SEQ] = "seq-overwrite",
	[BENCH_RAND] = "rand-overwrite",
	[BENCH_READ_HOLE] = "read-hole",
	[BENCH_READ_CACHED] = "read-cached",
	[BENCH_READ_UNCACHED] = "read-uncached",
};

static bool bench_op_reads(enum bench_op op)
{
	return op >= BENCH_READ_HOLE;
}

enum bench_sync { BENCH_CACHED, BENCH_FSYNC, BENCH_DONTCACHE, BENCH_NR_SYNCS };
static const char * const bench_sync_names[] = {
	[BENCH_CACHED] = "cached",
	[BENCH_FSYNC] = "fsync",
	[BENCH_DONTCACHE] = "dontcache",
};

enum bench_path {
	BENCH_BH, BENCH_BH_ND, BENCH_BH_ND_LOCK, BENCH_IOMAP, BENCH_IOMAP_ND,
	BENCH_COPY, BENCH_NR_PATHS
};

static const char * const bench_path_names[] = {
	[BENCH_BH] = "bh",
	[BENCH_BH_ND] = "bh-nd",
	[BENCH_BH_ND_LOCK] = "bh-nd-lock",
	[BENCH_IOMAP] = "iomap",
	[BENCH_IOMAP_ND] = "iomap-nd",
	[BENCH_COPY] = "copy",
};

static const char * const bench_path_opts[] = {
	[BENCH_BH] = "",
	[BENCH_BH_ND] = "nodelalloc",
	[BENCH_BH_ND_LOCK] = "nodelalloc,dioread_lock",
	[BENCH_IOMAP] = "buffered_iomap",
	[BENCH_IOMAP_ND] = "buffered_iomap,nodelalloc",
};

/* Reads do not depend on how the blocks were allocated. */
static bool bench_path_reads(enum bench_path path)
{
	return path == BENCH_BH || path == BENCH_IOMAP || path == BENCH_COPY;
}

static const struct ext4_kunit_mkfs_params bench_mkfs = {
	.block_size = SZ_4K,
	.blocks_count = SZ_128M / SZ_4K,
	.journal_blocks = SZ_16M / SZ_4K,
};

struct bench_run {
	unsigned int chunk;
	enum bench_op op;
	enum bench_sync sync;
	unsigned int rep;
	enum bench_path path;
};

/* At most: every op with every sync mode, on every path. */
#define BENCH_NR_RUNS	(ARRAY_SIZE(bench_chunks) * BENCH_NR_OPS * \
			 BENCH_NR_SYNCS * BENCH_MAX_REPS * BENCH_NR_PATHS)
static struct bench_run bench_runs[BENCH_NR_RUNS];
static unsigned int bench_nr_runs;

/*
 * Bytes moved by one run: enough that the fastest path takes well over
 * 100 ms on a current x86_64 host, a whole number of passes over the file.
 * An RWF_DONTCACHE write starts writeback of what it wrote: those runs are
 * as slow as the fsync runs.
 */
static u64 bench_bytes(const struct bench_run *r)
{
	u64 bytes;

	if (r->op == BENCH_READ_UNCACHED)
		bytes = SZ_256M;
	else if (r->sync != BENCH_CACHED)
		bytes = r->chunk <= SZ_4K ? SZ_256M : SZ_512M;
	else
		bytes = r->chunk <= SZ_1K ? SZ_256M : SZ_1G;
	bytes = div_u64(bytes * bench_scale, 100);
	return max_t(u64, round_down(bytes, BENCH_FILE), BENCH_FILE);
}

static bool bench_sync_applies(enum bench_op op, enum bench_sync sync)
{
	if (bench_op_reads(op))
		return sync == BENCH_CACHED;
	return sync != BENCH_DONTCACHE || op == BENCH_APPEND;
}

/* Whether bench_cases names the case, as report.py names it. */
static bool bench_case_wanted(unsigned int chunk, enum bench_op op,
			      enum bench_sync sync)
{
	char name[48];
	const char *p;
	size_t len;

	if (!bench_cases || !*bench_cases)
		return true;
	snprintf(name, sizeof(name), "%s%s%s-%u%c", bench_op_names[op],
		 sync == BENCH_CACHED ? "" : "-",
		 sync == BENCH_CACHED ? "" : bench_sync_names[sync],
		 chunk >= SZ_1M ? chunk / SZ_1M : chunk / SZ_1K,
		 chunk >= SZ_1M ? 'm' : 'k');
	len = strlen(name);
	for (p = bench_cases; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
	}
	return false;
}

static unsigned int bench_add_runs(unsigned int n, unsigned int chunk,
				   enum bench_op op, enum bench_sync sync)
{
	unsigned int reps = clamp(bench_reps, 1U, BENCH_MAX_REPS);
	unsigned int rep, path;

	if (!bench_case_wanted(chunk, op, sync))
		return n;
	for (rep = 0; rep < reps; rep++)
		for (path = 0; path < BENCH_NR_PATHS; path++) {
			if (bench_op_reads(op) && !bench_path_reads(path))
				continue;
			bench_runs[n++] = (struct bench_run) {
				.chunk = chunk,
				.op = op,
				.sync = sync,
				.rep = rep,
				.path = path,
			};
		}
	return n;
}

static int bench_suite_init(struct kunit_suite *suite)
{
	unsigned int c, op, s, n = 0;

	for (c = 0; c < ARRAY_SIZE(bench_chunks); c++)
		for (op = 0; op < BENCH_NR_OPS; op++)
			for (s = 0; s < BENCH_NR_SYNCS; s++)
				if (bench_sync_applies(op, s))
					n = bench_add_runs(n, bench_chunks[c],
							   op, s);
	bench_nr_runs = n;
	return 0;
}

static const void *bench_gen_params(struct kunit *test, const void *prev,
				    char *desc)
{
	const struct bench_run *r = prev ? (const struct bench_run *)prev + 1 :
					   bench_runs;

	if (r >= bench_runs + bench_nr_runs)
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%uk %s %s rep %u %s",
		 r->chunk / SZ_1K, bench_op_names[r->op],
		 bench_sync_names[r->sync], r->rep, bench_path_names[r->path]);
	return r;
}

struct bench_ctx {
	struct kunit *test;
	struct file *file;	/* NULL for the copy path */
	journal_t *journal;
	char *buf;
	char *copy;		/* the copy path's "page cache" */
	unsigned int chunk;
	bool dontcache;
	u64 handles;
	u32 handles_at;
};

static void bench_write(struct bench_ctx *b, loff_t pos)
{
	struct kvec kv = { .iov_base = b->buf, .iov_len = b->chunk };
	struct iov_iter iter;
	struct kiocb kiocb;
	loff_t at = pos;
	ssize_t ret;

	if (!b->file) {
		iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, b->chunk);
		ret = copy_from_iter(b->copy + pos, b->chunk, &iter);
	} else if (b->dontcache) {
		init_sync_kiocb(&kiocb, b->file);
		kiocb.ki_pos = pos;
		kiocb.ki_flags |= IOCB_DONTCACHE;
		iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, b->chunk);
		ret = vfs_iocb_iter_write(b->file, &kiocb, &iter);
	} else {
		ret = kernel_write(b->file, b->buf, b->chunk, &pos);
	}
	KUNIT_ASSERT_EQ_MSG(b->test, ret, (ssize_t)b->chunk,
			    "write of %u bytes at %lld", b->chunk, at);
}

static void bench_read(struct bench_ctx *b, loff_t pos)
{
	struct kvec kv = { .iov_base = b->buf, .iov_len = b->chunk };
	struct iov_iter iter;
	loff_t at = pos;
	ssize_t ret;

	if (!b->file) {
		iov_iter_kvec(&iter, ITER_DEST, &kv, 1, b->chunk);
		ret = copy_to_iter(b->copy + pos, b->chunk, &iter);
	} else {
		ret = kernel_read(b->file, b->buf, b->chunk, &pos);
	}
	KUNIT_ASSERT_EQ_MSG(b->test, ret, (ssize_t)b->chunk,
			    "read of %u bytes at %lld", b->chunk, at);
}

KUNIT_DEFINE_ACTION_WRAPPER(bench_vfree, vfree, const void *);

static void bench_setup(struct kunit *test, struct bench_ctx *b,
			enum bench_path path, unsigned int chunk)
{
	unsigned int len = max_t(unsigned int, chunk, SZ_1M);
	struct ext4_kunit_fs *fs;
	int ret;

	if (!bench)
		kunit_skip(test, "a benchmark: boot with ext4_test.bench=1 to run it");
	memset(b, 0, sizeof(*b));
	b->test = test;
	b->chunk = chunk;
	b->buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->buf);
	memset(b->buf, 0xa5, len);
	if (path == BENCH_COPY) {
		b->copy = vmalloc(BENCH_FILE);
		KUNIT_ASSERT_NOT_NULL(test, b->copy);
		/* Touch every page: UML maps vmalloc pages at first use. */
		memset(b->copy, 0, BENCH_FILE);
		ret = kunit_add_action_or_reset(test, bench_vfree, b->copy);
		KUNIT_ASSERT_EQ(test, ret, 0);
		return;
	}
	fs = ext4_kunit_fs_setup(test, &bench_mkfs, bench_path_opts[path]);
	b->journal = fs->sbi->s_journal;
	b->file = ext4_kunit_create_file(test, fs->mnt, "bench");
	KUNIT_ASSERT_EQ(test, ext4_inode_buffered_iomap(file_inode(b->file)),
			path == BENCH_IOMAP || path == BENCH_IOMAP_ND);
}

/* Drop the file's data without writing it back, outside the timed part. */
static void bench_drop(struct bench_ctx *b)
{
	if (b->file)
		KUNIT_ASSERT_EQ(b->test, vfs_truncate(&b->file->f_path, 0), 0);
}

/* Drop the file's clean page cache, outside the timed part. */
static void bench_drop_cache(struct bench_ctx *b)
{
	if (!b->file)
		return;
	invalidate_mapping_pages(b->file->f_mapping, 0, -1);
	KUNIT_ASSERT_EQ(b->test, b->file->f_mapping->nrpages, 0);
}

/* Write the whole file and write it back, untimed. */
static void bench_lay_out(struct bench_ctx *b)
{
	unsigned int chunk = b->chunk, i;
	bool dontcache = b->dontcache;

	b->chunk = SZ_1M;
	b->dontcache = false;
	for (i = 0; i < BENCH_FILE / SZ_1M; i++)
		bench_write(b, (loff_t)i * SZ_1M);
	if (b->file)
		KUNIT_ASSERT_EQ(b->test, vfs_fsync(b->file, 0), 0);
	b->chunk = chunk;
	b->dontcache = dontcache;
}

/* jbd2 updates the handle count of a transaction when it commits it. */
static u32 bench_handles_now(struct bench_ctx *b)
{
	u32 n;

	KUNIT_ASSERT_EQ(b->test, jbd2_journal_force_commit(b->journal), 0);
	spin_lock(&b->journal->j_history_lock);
	n = b->journal->j_stats.run.rs_handle_count;
	spin_unlock(&b->journal->j_history_lock);
	return n;
}

/* Untimed, before and after each timed pass. */
static void bench_pass_start(struct bench_ctx *b)
{
	if (b->journal)
		b->handles_at = bench_handles_now(b);
}

static void bench_pass_end(struct bench_ctx *b)
{
	if (b->journal)
		b->handles += bench_handles_now(b) - b->handles_at;
}

static void bench_prepare(struct bench_ctx *b, enum bench_op op)
{
	switch (op) {
	case BENCH_APPEND:
		break;
	case BENCH_READ_HOLE:
		if (b->file)
			KUNIT_ASSERT_EQ(b->test, vfs_truncate(&b->file->f_path,
							      BENCH_FILE), 0);
		break;
	default:
		bench_lay_out(b);
		break;
	}
}

/* What one pass needs before its timed part. */
static void bench_pass_prepare(struct bench_ctx *b, enum bench_op op,
			       unsigned int pass)
{
	if (op == BENCH_APPEND && pass)
		bench_drop(b);
	if (op == BENCH_READ_HOLE || op == BENCH_READ_UNCACHED)
		bench_drop_cache(b);
}

static void bench_run_test(struct kunit *test)
{
	const struct bench_run *r = test->param_value;
	u64 bytes = bench_bytes(r), calls = 0, ns = 0, t0, wr = 0, wr0;
	unsigned int per_pass = BENCH_FILE / r->chunk, pass, i;
	struct rnd_state rnd;
	struct bench_ctx b;

	bench_setup(test, &b, r->path, r->chunk);
	b.dontcache = r->sync == BENCH_DONTCACHE;
	/* The same offsets for every path of a repetition. */
	prandom_seed_state(&rnd, 0x6578743469 + r->rep);
	bench_prepare(&b, r->op);

	for (pass = 0; pass < div_u64(bytes, BENCH_FILE); pass++) {
		bench_pass_prepare(&b, r->op, pass);
		bench_pass_start(&b);
		wr0 = global_node_page_state(NR_WRITTEN);
		t0 = ktime_get_ns();
		for (i = 0; i < per_pass; i++) {
			loff_t pos = (loff_t)i * r->chunk;

			if (r->op == BENCH_RAND)
				pos = (loff_t)(prandom_u32_state(&rnd) %
					       per_pass) * r->chunk;
			if (bench_op_reads(r->op))
				bench_read(&b, pos);
			else
				bench_write(&b, pos);
		}
		if (r->sync == BENCH_FSYNC && b.file)
			KUNIT_ASSERT_EQ(test, vfs_fsync(b.file, 0), 0);
		ns += ktime_get_ns() - t0;
		wr += global_node_page_state(NR_WRITTEN) - wr0;
		bench_pass_end(&b);
		calls += per_pass;
	}
	/* Nothing is left for the unmount to write back. */
	bench_drop(&b);

	kunit_info(test, "ext4_iomap_bench: chunk=%u pattern=%s sync=%s path=%s rep=%u bytes=%llu calls=%llu ns=%llu handles=%llu written=%llu\n",
		   r->chunk, bench_op_names[r->op], bench_sync_names[r->sync],
		   bench_path_names[r->path], r->rep, calls * r->chunk, calls,
		   ns, b.handles, wr);
}

static struct kunit_case bench_run_cases[] = {
	KUNIT_CASE_PARAM_ATTR(bench_run_test, bench_gen_params,
			      { .speed = KUNIT_SPEED_VERY_SLOW }),
	{}
};

static struct kunit_suite bench_suite = {
	.name = "ext4_iomap_bench",
	.suite_init = bench_suite_init,
	.test_cases = bench_run_cases,
};

/*
 * For a profiler: 1 GiB in 1 KiB calls or 2 GiB in larger ones, the same
 * passes as above but without the journal's handle count, which forces
 * commits.  Uncached reads move a quarter of that.
 */
static void bench_profile(struct kunit *test, enum bench_path path,
			  unsigned int chunk, enum bench_op op,
			  enum bench_sync sync)
{
	unsigned int per_pass = BENCH_FILE / chunk, pass, i;
	unsigned int passes = (chunk == SZ_1K ? SZ_1G : SZ_2G) / BENCH_FILE;
	struct bench_ctx b;
	u64 t0, ns = 0;

	bench_setup(test, &b, path, chunk);
	b.dontcache = sync == BENCH_DONTCACHE;
	if (op == BENCH_READ_UNCACHED || b.dontcache)
		passes /= 4;
	bench_prepare(&b, op);
	for (pass = 0; pass < passes; pass++) {
		bench_pass_prepare(&b, op, pass);
		t0 = ktime_get_ns();
		for (i = 0; i < per_pass; i++) {
			if (bench_op_reads(op))
				bench_read(&b, (loff_t)i * chunk);
			else
				bench_write(&b, (loff_t)i * chunk);
		}
		ns += ktime_get_ns() - t0;
	}
	bench_drop(&b);
	kunit_info(test, "ext4_iomap_bench_profile: chunk=%u pattern=%s sync=%s path=%s calls=%llu ns=%llu\n",
		   chunk, bench_op_names[op], bench_sync_names[sync],
		   bench_path_names[path], (u64)passes * per_pass, ns);
}

#define BENCH_PROFILE_CASE(name, path, chunk, op, sync)		\
static void bench_profile_##name(struct kunit *test)		\
{								\
	bench_profile(test, path, chunk, op, sync);		\
}

BENCH_PROFILE_CASE(bh_1k, BENCH_BH, SZ_1K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_1k, BENCH_IOMAP, SZ_1K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(bh_4k, BENCH_BH, SZ_4K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_4k, BENCH_IOMAP, SZ_4K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(bh_ow_1k, BENCH_BH, SZ_1K, BENCH_SEQ, BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_ow_1k, BENCH_IOMAP, SZ_1K, BENCH_SEQ, BENCH_CACHED)
BENCH_PROFILE_CASE(bh_ow_4k, BENCH_BH, SZ_4K, BENCH_SEQ, BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_ow_4k, BENCH_IOMAP, SZ_4K, BENCH_SEQ, BENCH_CACHED)
BENCH_PROFILE_CASE(bh_64k, BENCH_BH, SZ_64K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_64k, BENCH_IOMAP, SZ_64K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(bh_nd_4k, BENCH_BH_ND, SZ_4K, BENCH_APPEND, BENCH_CACHED)
BENCH_PROFILE_CASE(bh_ndl_4k, BENCH_BH_ND_LOCK, SZ_4K, BENCH_APPEND,
		   BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_nd_4k, BENCH_IOMAP_ND, SZ_4K, BENCH_APPEND,
		   BENCH_CACHED)
BENCH_PROFILE_CASE(bh_dc_4k, BENCH_BH, SZ_4K, BENCH_APPEND, BENCH_DONTCACHE)
BENCH_PROFILE_CASE(iomap_dc_4k, BENCH_IOMAP, SZ_4K, BENCH_APPEND,
		   BENCH_DONTCACHE)
BENCH_PROFILE_CASE(bh_rd_4k, BENCH_BH, SZ_4K, BENCH_READ_UNCACHED,
		   BENCH_CACHED)
BENCH_PROFILE_CASE(iomap_rd_4k, BENCH_IOMAP, SZ_4K, BENCH_READ_UNCACHED,
		   BENCH_CACHED)

static struct kunit_case bench_profile_cases[] = {
	KUNIT_CASE_SLOW(bench_profile_bh_1k),
	KUNIT_CASE_SLOW(bench_profile_iomap_1k),
	KUNIT_CASE_SLOW(bench_profile_bh_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_4k),
	KUNIT_CASE_SLOW(bench_profile_bh_ow_1k),
	KUNIT_CASE_SLOW(bench_profile_iomap_ow_1k),
	KUNIT_CASE_SLOW(bench_profile_bh_ow_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_ow_4k),
	KUNIT_CASE_SLOW(bench_profile_bh_64k),
	KUNIT_CASE_SLOW(bench_profile_iomap_64k),
	KUNIT_CASE_SLOW(bench_profile_bh_nd_4k),
	KUNIT_CASE_SLOW(bench_profile_bh_ndl_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_nd_4k),
	KUNIT_CASE_SLOW(bench_profile_bh_dc_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_dc_4k),
	KUNIT_CASE_SLOW(bench_profile_bh_rd_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_rd_4k),
	{}
};

static struct kunit_suite bench_profile_suite = {
	.name = "ext4_iomap_bench_profile",
	.test_cases = bench_profile_cases,
};

kunit_test_suites(&bench_suite, &bench_profile_suite);
