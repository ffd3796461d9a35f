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
 *   chunk   1 KiB, 4 KiB, 64 KiB, 1 MiB per kernel_write() call,
 *   pattern sequential append to an empty file, sequential overwrite or
 *           chunk-aligned random overwrite of a file written and fsync'ed
 *           beforehand (untimed),
 *   sync    cached (no writeback at all) or ending each pass with fsync,
 *   path    "bh" (default mount: buffer_heads, delalloc), "iomap"
 *           (buffered_iomap, delalloc), "iomap-nd" (buffered_iomap,
 *           nodelalloc),
 * repeated bench_reps times; the three paths of one repetition run back to
 * back (alternated), each on a fresh file system (4 KiB blocks, 128 MiB,
 * a 16 MiB journal).  A run writes bench_bytes() in passes over a file of
 * BENCH_FILE bytes; between two append passes the file is truncated to 0
 * outside the timed part.  It prints the bytes, the write calls and the
 * nanoseconds spent in the timed part.
 *
 * Suite ext4_iomap_bench_profile: cached sequential append and overwrite
 * of 1 KiB and 4 KiB chunks for about a second per path, for a profiler
 * (perf on the host, around the UML process) to split the time of a write
 * call.
 */

#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "ext4.h"
#include "kunit-fixture.h"

static bool bench;
module_param(bench, bool, 0444);
MODULE_PARM_DESC(bench, "run the buffered write benchmark (it takes minutes)");

static unsigned int bench_reps = 5;
module_param(bench_reps, uint, 0444);
MODULE_PARM_DESC(bench_reps, "repetitions of every benchmark run (1-20)");

static unsigned int bench_scale = 100;
module_param(bench_scale, uint, 0444);
MODULE_PARM_DESC(bench_scale, "percentage of the default data per run");

#define BENCH_MAX_REPS	20
#define BENCH_FILE	SZ_16M

static const unsigned int bench_chunks[] = { SZ_1K, SZ_4K, SZ_64K, SZ_1M };

enum bench_pattern { BENCH_APPEND, BENCH_SEQ, BENCH_RAND, BENCH_NR_PATTERNS };
static const char * const bench_pattern_names[] = {
	[BENCH_APPEND] = "seq-append",
	[BENCH_SEQ] = "seq-overwrite",
	[BENCH_RAND] = "rand-overwrite",
};

enum bench_path { BENCH_BH, BENCH_IOMAP, BENCH_IOMAP_ND, BENCH_NR_PATHS };
static const char * const bench_path_names[] = {
	[BENCH_BH] = "bh",
	[BENCH_IOMAP] = "iomap",
	[BENCH_IOMAP_ND] = "iomap-nd",
};

static const char * const bench_path_opts[] = {
	[BENCH_BH] = "",
	[BENCH_IOMAP] = "buffered_iomap",
	[BENCH_IOMAP_ND] = "buffered_iomap,nodelalloc",
};

static const struct ext4_kunit_mkfs_params bench_mkfs = {
	.block_size = SZ_4K,
	.blocks_count = SZ_128M / SZ_4K,
	.journal_blocks = SZ_16M / SZ_4K,
};

struct bench_run {
	unsigned int chunk;
	enum bench_pattern pattern;
	bool sync;
	unsigned int rep;
	enum bench_path path;
};

#define BENCH_NR_RUNS	(ARRAY_SIZE(bench_chunks) * BENCH_NR_PATTERNS * 2 * \
			 BENCH_MAX_REPS * BENCH_NR_PATHS)
static struct bench_run bench_runs[BENCH_NR_RUNS];
static unsigned int bench_nr_runs;

/*
 * Bytes written by one run: enough that the fastest path takes well over
 * 100 ms on a current x86_64 host, a whole number of passes over the file.
 */
static u64 bench_bytes(const struct bench_run *r)
{
	u64 bytes;

	if (r->sync)
		bytes = r->chunk <= SZ_4K ? SZ_256M : SZ_512M;
	else
		bytes = r->chunk <= SZ_1K ? SZ_256M : SZ_1G;
	bytes = div_u64(bytes * bench_scale, 100);
	return max_t(u64, round_down(bytes, BENCH_FILE), BENCH_FILE);
}

static int bench_suite_init(struct kunit_suite *suite)
{
	unsigned int reps = clamp(bench_reps, 1U, BENCH_MAX_REPS);
	unsigned int c, p, s, rep, path, n = 0;

	for (c = 0; c < ARRAY_SIZE(bench_chunks); c++)
		for (p = 0; p < BENCH_NR_PATTERNS; p++)
			for (s = 0; s < 2; s++)
				for (rep = 0; rep < reps; rep++)
					for (path = 0; path < BENCH_NR_PATHS; path++)
						bench_runs[n++] = (struct bench_run) {
							.chunk = bench_chunks[c],
							.pattern = p,
							.sync = s,
							.rep = rep,
							.path = path,
						};
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
		 r->chunk / SZ_1K, bench_pattern_names[r->pattern],
		 r->sync ? "fsync" : "cached", r->rep, bench_path_names[r->path]);
	return r;
}

struct bench_ctx {
	struct kunit *test;
	struct file *file;
	char *buf;
	unsigned int chunk;
};

static void bench_write(struct bench_ctx *b, loff_t pos)
{
	loff_t at = pos;
	ssize_t ret = kernel_write(b->file, b->buf, b->chunk, &pos);

	KUNIT_ASSERT_EQ_MSG(b->test, ret, (ssize_t)b->chunk,
			    "write of %u bytes at %lld", b->chunk, at);
}

static void bench_setup(struct kunit *test, struct bench_ctx *b,
			enum bench_path path, unsigned int chunk)
{
	struct ext4_kunit_fs *fs;

	if (!bench)
		kunit_skip(test, "a benchmark: boot with ext4_test.bench=1 to run it");
	fs = ext4_kunit_fs_setup(test, &bench_mkfs, bench_path_opts[path]);
	b->test = test;
	b->file = ext4_kunit_create_file(test, fs->mnt, "bench");
	KUNIT_ASSERT_EQ(test, ext4_inode_buffered_iomap(file_inode(b->file)),
			path != BENCH_BH);
	b->chunk = chunk;
	b->buf = kunit_kmalloc(test, max_t(unsigned int, chunk, SZ_1M),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->buf);
	memset(b->buf, 0xa5, max_t(unsigned int, chunk, SZ_1M));
}

/* Drop the file's data without writing it back, outside the timed part. */
static void bench_drop(struct bench_ctx *b)
{
	KUNIT_ASSERT_EQ(b->test, vfs_truncate(&b->file->f_path, 0), 0);
}

static void bench_run_test(struct kunit *test)
{
	const struct bench_run *r = test->param_value;
	u64 bytes = bench_bytes(r), calls = 0, ns = 0, t0;
	unsigned int per_pass = BENCH_FILE / r->chunk, pass, i;
	struct rnd_state rnd;
	struct bench_ctx b;

	bench_setup(test, &b, r->path, r->chunk);
	/* The same offsets for every path of a repetition. */
	prandom_seed_state(&rnd, 0x6578743469 + r->rep);

	if (r->pattern != BENCH_APPEND) {
		/* Lay the file out and write it back, untimed. */
		b.chunk = SZ_1M;
		for (i = 0; i < BENCH_FILE / SZ_1M; i++)
			bench_write(&b, (loff_t)i * SZ_1M);
		KUNIT_ASSERT_EQ(test, vfs_fsync(b.file, 0), 0);
		b.chunk = r->chunk;
	}

	for (pass = 0; pass < div_u64(bytes, BENCH_FILE); pass++) {
		if (r->pattern == BENCH_APPEND && pass)
			bench_drop(&b);
		t0 = ktime_get_ns();
		for (i = 0; i < per_pass; i++) {
			loff_t pos = (loff_t)i * r->chunk;

			if (r->pattern == BENCH_RAND)
				pos = (loff_t)(prandom_u32_state(&rnd) %
					       per_pass) * r->chunk;
			bench_write(&b, pos);
		}
		if (r->sync)
			KUNIT_ASSERT_EQ(test, vfs_fsync(b.file, 0), 0);
		ns += ktime_get_ns() - t0;
		calls += per_pass;
	}
	/* Nothing is left for the unmount to write back. */
	bench_drop(&b);

	kunit_info(test, "ext4_iomap_bench: chunk=%u pattern=%s sync=%s path=%s rep=%u bytes=%llu calls=%llu ns=%llu\n",
		   r->chunk, bench_pattern_names[r->pattern],
		   r->sync ? "fsync" : "cached", bench_path_names[r->path],
		   r->rep, calls * r->chunk, calls, ns);
}

static struct kunit_case bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(bench_run_test, bench_gen_params,
			      { .speed = KUNIT_SPEED_VERY_SLOW }),
	{}
};

static struct kunit_suite bench_suite = {
	.name = "ext4_iomap_bench",
	.suite_init = bench_suite_init,
	.test_cases = bench_cases,
};

/*
 * For a profiler: cached sequential append (the file truncated between
 * passes, as above) or overwrite (of a file written and fsync'ed first),
 * 1 GiB of 1 KiB chunks or 2 GiB of 4 KiB chunks.
 */
static void bench_profile(struct kunit *test, enum bench_path path,
			  unsigned int chunk, enum bench_pattern pattern)
{
	unsigned int per_pass = BENCH_FILE / chunk, pass, i;
	unsigned int passes = (chunk == SZ_1K ? SZ_1G : SZ_2G) / BENCH_FILE;
	struct bench_ctx b;
	u64 t0, ns = 0;

	bench_setup(test, &b, path, chunk);
	if (pattern == BENCH_SEQ) {
		b.chunk = SZ_1M;
		for (i = 0; i < BENCH_FILE / SZ_1M; i++)
			bench_write(&b, (loff_t)i * SZ_1M);
		KUNIT_ASSERT_EQ(test, vfs_fsync(b.file, 0), 0);
		b.chunk = chunk;
	}
	for (pass = 0; pass < passes; pass++) {
		if (pass && pattern == BENCH_APPEND)
			bench_drop(&b);
		t0 = ktime_get_ns();
		for (i = 0; i < per_pass; i++)
			bench_write(&b, (loff_t)i * chunk);
		ns += ktime_get_ns() - t0;
	}
	bench_drop(&b);
	kunit_info(test, "ext4_iomap_bench_profile: chunk=%u pattern=%s path=%s calls=%llu ns=%llu\n",
		   chunk, bench_pattern_names[pattern], bench_path_names[path],
		   (u64)passes * per_pass, ns);
}

#define BENCH_PROFILE_CASE(name, path, chunk, pattern)		\
static void bench_profile_##name(struct kunit *test)		\
{								\
	bench_profile(test, path, chunk, pattern);		\
}

BENCH_PROFILE_CASE(bh_1k, BENCH_BH, SZ_1K, BENCH_APPEND)
BENCH_PROFILE_CASE(iomap_1k, BENCH_IOMAP, SZ_1K, BENCH_APPEND)
BENCH_PROFILE_CASE(bh_4k, BENCH_BH, SZ_4K, BENCH_APPEND)
BENCH_PROFILE_CASE(iomap_4k, BENCH_IOMAP, SZ_4K, BENCH_APPEND)
BENCH_PROFILE_CASE(bh_ow_1k, BENCH_BH, SZ_1K, BENCH_SEQ)
BENCH_PROFILE_CASE(iomap_ow_1k, BENCH_IOMAP, SZ_1K, BENCH_SEQ)
BENCH_PROFILE_CASE(bh_ow_4k, BENCH_BH, SZ_4K, BENCH_SEQ)
BENCH_PROFILE_CASE(iomap_ow_4k, BENCH_IOMAP, SZ_4K, BENCH_SEQ)

static struct kunit_case bench_profile_cases[] = {
	KUNIT_CASE_SLOW(bench_profile_bh_1k),
	KUNIT_CASE_SLOW(bench_profile_iomap_1k),
	KUNIT_CASE_SLOW(bench_profile_bh_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_4k),
	KUNIT_CASE_SLOW(bench_profile_bh_ow_1k),
	KUNIT_CASE_SLOW(bench_profile_iomap_ow_1k),
	KUNIT_CASE_SLOW(bench_profile_bh_ow_4k),
	KUNIT_CASE_SLOW(bench_profile_iomap_ow_4k),
	{}
};

static struct kunit_suite bench_profile_suite = {
	.name = "ext4_iomap_bench_profile",
	.test_cases = bench_profile_cases,
};

kunit_test_suites(&bench_suite, &bench_profile_suite);
