// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of what the ext4 iomap buffered I/O path leaves on disk when
 * the power goes.
 *
 * A case runs a scenario, a short program of file operations written as a
 * table of steps (cr_scenarios[]), on an in-memory ext4 mounted with
 * buffered_iomap, while the in-memory disk logs every write and flush it
 * completes (kunit_ramdisk_log_start()). Its free space is filled with
 * CR_STALE first, so a block that reaches a file without its data shows.
 * Then the case builds, on a second in-memory disk, each crash state the
 * log allows (kunit_ramdisk_crash_image()): the cut after every write, and
 * for the writes since the last flush before the cut, which of them
 * reached stable storage: every combination when there are at most
 * CR_ALL_SUBSETS_MAX of them, else CR_SAMPLES seeded ones (crash_seed=).
 * The newest write before the cut is always kept: losing it gives a state
 * of the cut before. crash_stride=N checks only every Nth of these states.
 * Each state is mounted (ext4 replays its journal and
 * orphans) and, for every file of the scenario, must satisfy:
 *
 *  - the mount succeeds and ext4 records no error;
 *  - i_size is a size the program gave the file at or after its last
 *    completed fsync (a size it never had is a torn update);
 *  - every byte below i_size holds a value the program gave that byte at
 *    some moment since its last completed fsync or msync of it, and since
 *    it was last beyond EOF before the crash state's size was set: the
 *    data that was synced reads back (or newer data), an append or a size
 *    update never shows zeroes where the program wrote data, the tail of a
 *    truncated block never comes back, and no byte is CR_STALE; zeroes are
 *    allowed where a later truncate cut the byte off;
 *  - i_blocks is what the extents of the inode hold.
 *
 * Every value a scenario writes is the number of its step (CR_VAL()), so a
 * failure names the step whose data is where it must not be. Positions and
 * lengths are multiples of CR_GRAIN, so that the model is the same for all
 * bytes of a grain; every byte of the file is still compared.
 *
 * The scenarios run on 1k and 4k blocks, with and without delalloc, with
 * a journal that commits only when asked to (commit=600), so that the log
 * is the same on every run; and on 1k nodelalloc and 4k delalloc with
 * fast commits, where fsync and fdatasync commit through the fast commit
 * area and the mount replays it.
 */

#include <kunit/ramdisk.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ext4.h"
#include "ext4_extents.h"
#include "kunit-fixture.h"

static unsigned long crash_seed = 1;
module_param(crash_seed, ulong, 0444);
MODULE_PARM_DESC(crash_seed, "seed of the sampled crash states");

/*
 * Check only every crash_stride-th state (and always the first and the
 * last): for kernels where a state costs much, such as the debug kernel
 * under QEMU without KVM. The states are enumerated as with 1.
 */
static unsigned int crash_stride = 1;
module_param(crash_stride, uint, 0444);
MODULE_PARM_DESC(crash_stride, "check every Nth crash state only (default 1: all)");

#define CR_STALE		0xa5
#define CR_GRAIN		8
#define CR_MAX_SIZE		SZ_32K
#define CR_MAX_STEPS		24
#define CR_MAX_MOMENTS		(2 * CR_MAX_STEPS + 2)
#define CR_FILES		2
#define CR_ALL_SUBSETS_MAX	3
#define CR_SAMPLES		6

/*
 * Values: setup step i writes CR_SETUP_VAL(i), step i CR_VAL(i); 0 is a
 * hole or zeroes. Each has a bit in a u64 set of allowed values.
 */
#define CR_SETUP_VAL(i)		(1 + (i))
#define CR_VAL(i)		(0x40 + (i))

enum cr_op {
	CR_END,
	CR_WRITE,	/* write(2) of @len bytes at @pos */
	CR_FSYNC,	/* fsync(2) */
	CR_FDATASYNC,	/* fdatasync(2) */
	CR_TRUNCATE,	/* truncate(2) to @pos */
	CR_FALLOC,	/* fallocate(2), mode 0 */
	CR_PUNCH,	/* fallocate(2), PUNCH_HOLE | KEEP_SIZE */
	CR_ZERO,	/* fallocate(2), ZERO_RANGE | KEEP_SIZE */
	CR_MMAP_WRITE,	/* a store through a shared mapping */
	CR_MSYNC,	/* msync(MS_SYNC) of [@pos, @pos + @len) */
	CR_WB_HELD,	/* start writeback; the disk holds its data writes */
	CR_RELEASE,	/* the held writes complete */
};

static const char * const cr_op_names[] = {
	"end", "write", "fsync", "fdatasync", "truncate", "falloc", "punch",
	"zero", "mmap write", "msync", "held writeback", "release",
};

struct cr_step {
	u8 op;
	u8 file;
	loff_t pos, len;
};

#define W(f, p, l)	{ CR_WRITE, (f), (p), (l) }
#define FSYNC(f)	{ CR_FSYNC, (f) }
#define FDSYNC(f)	{ CR_FDATASYNC, (f) }
#define TRUNC(f, p)	{ CR_TRUNCATE, (f), (p) }
#define FALLOC(f, p, l)	{ CR_FALLOC, (f), (p), (l) }
#define PUNCH(f, p, l)	{ CR_PUNCH, (f), (p), (l) }
#define ZERO(f, p, l)	{ CR_ZERO, (f), (p), (l) }
#define MW(f, p, l)	{ CR_MMAP_WRITE, (f), (p), (l) }
#define MSYNC(f, p, l)	{ CR_MSYNC, (f), (p), (l) }
#define WB_HELD(f)	{ CR_WB_HELD, (f) }
#define RELEASE		{ CR_RELEASE }

/**
 * struct cr_scenario - A program whose crash states a case checks.
 * @name: What it exercises.
 * @setup: Run, synced and made the starting point before the log starts.
 * @steps: Run with the log on; what the crash states come from.
 */
struct cr_scenario {
	const char *name;
	struct cr_step setup[8];
	struct cr_step steps[CR_MAX_STEPS];
};

enum { A, B };

static const struct cr_scenario cr_scenarios[] = {
	{ "write + fsync",
	  { W(A, 0, SZ_8K), FSYNC(A) },
	  { W(A, SZ_4K, SZ_8K), W(A, 20 * SZ_1K, SZ_4K), FSYNC(A),
	    W(A, 1000, 2000), FSYNC(A), W(A, 0, SZ_2K) } },
	{ "append + fdatasync",
	  { },
	  { W(A, 0, 3000), FDSYNC(A), W(A, 3000, 6000), W(A, 9000, 800),
	    FDSYNC(A), W(A, 9800, 6584) } },
	{ "overwrite of preallocated space",
	  { FALLOC(A, 0, SZ_16K), FSYNC(A) },
	  { W(A, SZ_2K, SZ_4K), FSYNC(A), W(A, SZ_8K, SZ_8K), W(A, 0, 1000),
	    FDSYNC(A), FALLOC(A, SZ_16K, SZ_8K), W(A, SZ_16K, SZ_4K),
	    FDSYNC(A) } },
	{ "truncate down and up around a partial block",
	  { W(A, 0, 12 * SZ_1K), FSYNC(A) },
	  { TRUNC(A, 1000), TRUNC(A, 9000), W(B, 0, SZ_4K), FSYNC(B),
	    FSYNC(A), TRUNC(A, 5000), W(A, 7000, 1000), FSYNC(A) } },
	{ "punch and zero range",
	  { W(A, 0, 24 * SZ_1K), FSYNC(A) },
	  { PUNCH(A, 1000, 5000), FSYNC(A), ZERO(A, 10 * SZ_1K, SZ_4K + 200),
	    W(A, 12 * SZ_1K, SZ_1K), FSYNC(A), PUNCH(A, SZ_16K, SZ_8K),
	    FDSYNC(A) } },
	{ "mmap write + msync",
	  { TRUNC(A, 20000), W(A, 0, SZ_4K), FSYNC(A) },
	  { MW(A, 104, 32), MW(A, 9000, 32), MSYNC(A, 0, SZ_4K),
	    MSYNC(A, SZ_8K, SZ_4K), MW(A, 15000, 96), FSYNC(A) } },
	{ "write beyond EOF after an unaligned EOF",
	  { W(A, 0, SZ_8K), FSYNC(A), TRUNC(A, 1000), FSYNC(A) },
	  { W(A, 12 * SZ_1K, SZ_1K), FSYNC(A), W(A, 20000, 504),
	    FDSYNC(A), W(B, 0, 1000), FSYNC(B), W(B, 5000, 1000),
	    FSYNC(B) } },
	{ "a file written back while another is fsync'ed",
	  { W(A, 0, SZ_4K), TRUNC(A, SZ_16K), FSYNC(A), W(B, 0, SZ_4K),
	    FSYNC(B) },
	  { W(A, SZ_8K, SZ_4K), W(A, SZ_16K, SZ_4K), W(B, SZ_4K, SZ_4K),
	    WB_HELD(A), FSYNC(B), RELEASE, FSYNC(A) } },
	/*
	 * With fast commits, each fsync commits one fast commit block until
	 * the area is full (the fifth; the sixth falls back to a full
	 * commit): a crash while it is full must mount. Before the fix of
	 * jbd2's fc_do_one_pass(), recovery read one block beyond the
	 * journal there and failed ("JBD2: corrupted journal superblock").
	 */
	{ "appends + fsync until the fast commit area is full",
	  { W(A, 0, SZ_4K), FSYNC(A) },
	  { W(A, SZ_4K, SZ_4K), FSYNC(A), W(A, SZ_8K, SZ_4K), FSYNC(A),
	    W(A, 12 * SZ_1K, SZ_4K), FSYNC(A), W(A, SZ_16K, SZ_4K), FSYNC(A),
	    W(A, 20 * SZ_1K, SZ_4K), FSYNC(A), W(A, 24 * SZ_1K, SZ_4K),
	    FSYNC(A), W(A, 28 * SZ_1K, SZ_4K), FSYNC(A) } },
	/*
	 * On 1k blocks the fsync's fast commit takes two blocks: an add or
	 * delete range tag for each hole and each extent between the first
	 * and the last punched block of both files, and an inode tag for
	 * each. A crash after its first block, before its tail, leaves the
	 * first fast commit since the full commit incomplete; that is an
	 * fsync that did not return, and the mount must recover without
	 * it. Before the fix, ext4's scan gave up at the incomplete block
	 * with an error and the mount failed ("JBD2: journal recovery
	 * failed"), where a later incomplete fast commit just ends the
	 * replay.
	 */
	{ "an fsync whose fast commit takes two blocks",
	  { W(A, 0, SZ_32K), W(B, 0, SZ_32K), FSYNC(A), FSYNC(B) },
	  { PUNCH(A, SZ_1K, SZ_1K), PUNCH(A, 3 * SZ_1K, SZ_1K),
	    PUNCH(A, 5 * SZ_1K, SZ_1K), PUNCH(A, 7 * SZ_1K, SZ_1K),
	    PUNCH(A, 9 * SZ_1K, SZ_1K), PUNCH(A, 11 * SZ_1K, SZ_1K),
	    PUNCH(A, 13 * SZ_1K, SZ_1K), PUNCH(A, 15 * SZ_1K, SZ_1K),
	    PUNCH(A, 17 * SZ_1K, SZ_1K), PUNCH(A, 19 * SZ_1K, SZ_1K),
	    PUNCH(A, 21 * SZ_1K, SZ_1K), PUNCH(A, 23 * SZ_1K, SZ_1K),
	    PUNCH(A, 25 * SZ_1K, SZ_1K), PUNCH(A, 27 * SZ_1K, SZ_1K),
	    PUNCH(A, 29 * SZ_1K, SZ_1K), PUNCH(A, 31 * SZ_1K, SZ_1K),
	    PUNCH(B, SZ_1K, SZ_1K), PUNCH(B, 3 * SZ_1K, SZ_1K),
	    PUNCH(B, 5 * SZ_1K, SZ_1K), PUNCH(B, 7 * SZ_1K, SZ_1K),
	    PUNCH(B, 9 * SZ_1K, SZ_1K), PUNCH(B, 11 * SZ_1K, SZ_1K),
	    FSYNC(A) } },
};

static const char * const cr_file_names[CR_FILES] = { "a", "b" };

struct cr_fs {
	const char *name;
	struct ext4_kunit_mkfs_params mkfs;
	const char *opts;
};

#define CR_MKFS_1K	{ .block_size = 1024, .blocks_count = 4096, \
			  .journal_blocks = 1024 }
#define CR_MKFS_4K	{ .block_size = 4096, .blocks_count = 2048, \
			  .journal_blocks = 1024 }

/*
 * With fast commits: the journal needs room for their area as well. A
 * small area (5 fast commit blocks) fills within a scenario.
 */
#define CR_MKFS_1K_FC	{ .block_size = 1024, .blocks_count = 4096, \
			  .journal_blocks = 1536, .feature_fast_commit = true, \
			  .fc_blocks = 6 }
#define CR_MKFS_4K_FC	{ .block_size = 4096, .blocks_count = 4096, \
			  .journal_blocks = 1536, .feature_fast_commit = true, \
			  .fc_blocks = 6 }

static const struct cr_fs cr_fs[] = {
	{ "1k da", CR_MKFS_1K, "buffered_iomap,delalloc,commit=600" },
	{ "1k nd", CR_MKFS_1K, "buffered_iomap,nodelalloc,commit=600" },
	{ "4k da", CR_MKFS_4K, "buffered_iomap,delalloc,commit=600" },
	{ "4k nd", CR_MKFS_4K, "buffered_iomap,nodelalloc,commit=600" },
	{ "1k nd fc", CR_MKFS_1K_FC, "buffered_iomap,nodelalloc,commit=600" },
	{ "4k da fc", CR_MKFS_4K_FC, "buffered_iomap,delalloc,commit=600" },
};

struct cr_param {
	const struct cr_scenario *sc;
	const struct cr_fs *fs;
};

static struct cr_param cr_params[ARRAY_SIZE(cr_scenarios) * ARRAY_SIZE(cr_fs)];

static const void *cr_gen_params(struct kunit *test, const void *prev,
				 char *desc)
{
	const struct cr_param *p = prev ? (const struct cr_param *)prev + 1 :
					  cr_params;
	unsigned int i;

	if (!prev) {
		for (i = 0; i < ARRAY_SIZE(cr_params); i++) {
			cr_params[i].sc = &cr_scenarios[i / ARRAY_SIZE(cr_fs)];
			cr_params[i].fs = &cr_fs[i % ARRAY_SIZE(cr_fs)];
		}
	}
	if (p >= cr_params + ARRAY_SIZE(cr_params))
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s: %s", p->fs->name,
		 p->sc->name);
	return p;
}

/* What the program gave a file: its size and bytes after each change. */
struct cr_file {
	struct file *file;
	int nr;
	loff_t size[CR_MAX_MOMENTS];
	u8 *data[CR_MAX_MOMENTS];
};

/* A completed fsync, fdatasync or msync of [start, end) at @moment. */
struct cr_sync {
	int file;
	int moment;
	loff_t start, end;
	bool whole;
	int log_pos;
};

struct cr_ctx {
	struct kunit *test;
	const struct cr_param *p;
	struct ext4_kunit_fs *fs;
	struct gendisk *image;
	struct cr_file files[CR_FILES];
	struct cr_sync syncs[CR_MAX_STEPS];
	int nr_syncs;
	unsigned long mapped[CR_FILES];
	/* The state being checked, for messages. */
	char state[96];
	u8 *buf;
	unsigned long *lost;
	unsigned int checked;
	bool failed;
};

static atomic_t cr_total_states = ATOMIC_INIT(0);
/* Of those, the states of the file systems with fast commits. */
static atomic_t cr_fc_states = ATOMIC_INIT(0);
static atomic_t cr_fc_commits = ATOMIC_INIT(0);

/* The bit of a value in a set of allowed values; -1 if never written. */
static int cr_vbit(u8 v)
{
	if (v < 16)
		return v;
	if (v >= CR_VAL(0) && v < CR_VAL(48))
		return 16 + v - CR_VAL(0);
	return -1;
}

static void cr_describe(u64 set, char *buf, size_t len)
{
	size_t n = 0;
	int bit;

	buf[0] = '\0';
	for (bit = 0; bit < 64 && n < len; bit++) {
		if (!(set & BIT_ULL(bit)))
			continue;
		if (bit == 0)
			n += scnprintf(buf + n, len - n, "%s0", n ? ", " : "");
		else if (bit < 16)
			n += scnprintf(buf + n, len - n, "%ssetup %d",
				       n ? ", " : "", bit - 1);
		else
			n += scnprintf(buf + n, len - n, "%sstep %d",
				       n ? ", " : "", bit - 16);
	}
}

/* Start a new moment of @f: a copy of the last one, to be changed. */
static u8 *cr_new_moment(struct cr_ctx *c, struct cr_file *f)
{
	struct kunit *test = c->test;
	u8 *data;

	KUNIT_ASSERT_LT(test, f->nr, CR_MAX_MOMENTS);
	data = kunit_kmalloc(test, CR_MAX_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	if (f->nr) {
		memcpy(data, f->data[f->nr - 1], CR_MAX_SIZE);
		f->size[f->nr] = f->size[f->nr - 1];
	} else {
		memset(data, 0, CR_MAX_SIZE);
		f->size[0] = 0;
	}
	f->data[f->nr] = data;
	return data;
}

static loff_t cr_size(const struct cr_file *f)
{
	return f->nr ? f->size[f->nr - 1] : 0;
}

static void cr_set_size(struct cr_file *f, loff_t size)
{
	u8 *data = f->data[f->nr];

	/* Bytes beyond EOF are zeroes when they come back. */
	if (size < f->size[f->nr])
		memset(data + size, 0, f->size[f->nr] - size);
	f->size[f->nr] = size;
}

/*
 * Run one step on the live file system and apply it to the model. Sync
 * steps are recorded with the length of the log when they returned.
 */
static void cr_run_step(struct cr_ctx *c, const struct cr_step *s, u8 val,
			bool logged)
{
	struct kunit *test = c->test;
	struct cr_file *f = &c->files[s->file];
	struct file *file = f->file;
	loff_t pos = s->pos, end = s->pos + s->len;
	unsigned long addr;
	struct cr_sync *sync;
	ssize_t ret;
	u8 *data;
	int err;

	KUNIT_ASSERT_TRUE_MSG(test, IS_ALIGNED(s->pos, CR_GRAIN) &&
			      IS_ALIGNED(s->len, CR_GRAIN) &&
			      end <= CR_MAX_SIZE, "bad step");
	switch (s->op) {
	case CR_WRITE:
	case CR_MMAP_WRITE:
		data = kunit_kmalloc(test, s->len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, data);
		memset(data, val, s->len);
		if (s->op == CR_WRITE) {
			ret = kernel_write(file, data, s->len, &pos);
			KUNIT_ASSERT_EQ_MSG(test, ret, s->len,
					    "write of %lld at %lld", s->len,
					    s->pos);
		} else {
			KUNIT_ASSERT_LE_MSG(test, end, cr_size(f),
					    "mmap write beyond EOF");
			if (!c->mapped[s->file]) {
				addr = kunit_vm_mmap(test, file, 0, CR_MAX_SIZE,
						     PROT_READ | PROT_WRITE,
						     MAP_SHARED, 0);
				KUNIT_ASSERT_TRUE_MSG(test, addr &&
						      addr < TASK_SIZE,
						      "mmap failed");
				c->mapped[s->file] = addr;
			}
			addr = c->mapped[s->file] + s->pos;
			KUNIT_ASSERT_EQ_MSG(test,
					    copy_to_user((void __user *)addr,
							 data, s->len), 0,
					    "store at %lld faulted", s->pos);
		}
		kunit_kfree(test, data);
		data = cr_new_moment(c, f);
		memset(data + s->pos, val, s->len);
		if (end > f->size[f->nr])
			f->size[f->nr] = end;
		f->nr++;
		return;
	case CR_TRUNCATE:
		err = vfs_truncate(&file->f_path, s->pos);
		KUNIT_ASSERT_EQ_MSG(test, err, 0, "truncate to %lld", s->pos);
		cr_new_moment(c, f);
		cr_set_size(f, s->pos);
		f->nr++;
		return;
	case CR_FALLOC:
	case CR_PUNCH:
	case CR_ZERO:
		err = vfs_fallocate(file, s->op == CR_FALLOC ? 0 :
				    s->op == CR_PUNCH ?
				    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
				    FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				    s->pos, s->len);
		KUNIT_ASSERT_EQ_MSG(test, err, 0, "%s [%lld, %lld)",
				    cr_op_names[s->op], s->pos, end);
		data = cr_new_moment(c, f);
		if (s->op == CR_FALLOC) {
			if (end > f->size[f->nr])
				f->size[f->nr] = end;
		} else if (s->pos < f->size[f->nr]) {
			memset(data + s->pos, 0,
			       min(end, f->size[f->nr]) - s->pos);
		}
		f->nr++;
		return;
	case CR_FSYNC:
	case CR_FDATASYNC:
	case CR_MSYNC:
		if (s->op == CR_MSYNC)
			err = vfs_fsync_range(file, s->pos, end - 1, 1);
		else
			err = vfs_fsync(file, s->op == CR_FDATASYNC);
		KUNIT_ASSERT_EQ_MSG(test, err, 0, "%s", cr_op_names[s->op]);
		if (!logged)
			return;
		KUNIT_ASSERT_LT(test, c->nr_syncs, CR_MAX_STEPS);
		sync = &c->syncs[c->nr_syncs++];
		sync->file = s->file;
		sync->moment = f->nr - 1;
		sync->whole = s->op != CR_MSYNC;
		sync->start = sync->whole ? 0 : s->pos;
		sync->end = sync->whole ? LLONG_MAX : end;
		sync->log_pos = kunit_ramdisk_log_len(c->fs->disk);
		KUNIT_ASSERT_GE(test, sync->log_pos, 0);
		return;
	case CR_WB_HELD: {
		/* Only file data goes beyond the metadata mkfs wrote. */
		unsigned int spb = c->fs->sb->s_blocksize >> SECTOR_SHIFT;
		struct kunit_ramdisk_rule rule = {
			.ops = KUNIT_RAMDISK_WRITE,
			.sector = c->fs->layout.first_free_block * spb,
			.action = KUNIT_RAMDISK_HOLD,
		};
		int id;

		rule.nr_sectors = get_capacity(c->fs->disk) - rule.sector;
		id = kunit_ramdisk_add_rule(c->fs->disk, &rule);
		KUNIT_ASSERT_GE(test, id, 0);
		err = filemap_fdatawrite(file->f_mapping);
		KUNIT_ASSERT_EQ_MSG(test, err, 0, "writeback");
		/* The writes it held stay held. */
		KUNIT_ASSERT_GT_MSG(test, kunit_ramdisk_remove_rule(c->fs->disk,
								    id), 0,
				    "writeback wrote nothing");
		return;
	}
	case CR_RELEASE:
		KUNIT_ASSERT_GT_MSG(test,
				    kunit_ramdisk_complete_held(c->fs->disk,
								BLK_STS_OK),
				    0, "no write was held");
		return;
	}
	KUNIT_FAIL(test, "unknown step %u", s->op);
}

/*
 * Blocks an extent tree node holds: the data blocks of its extents, or the
 * blocks of the nodes below it and those nodes themselves; -EIO for a
 * node that cannot be read or is not one.
 */
static s64 cr_tree_blocks(struct inode *inode, struct ext4_extent_header *eh,
			  int depth)
{
	struct ext4_extent_idx *ix = EXT_FIRST_INDEX(eh);
	struct ext4_extent *ex = EXT_FIRST_EXTENT(eh);
	int i, entries = le16_to_cpu(eh->eh_entries);
	s64 blocks = 0, below;

	if (eh->eh_magic != EXT4_EXT_MAGIC ||
	    le16_to_cpu(eh->eh_depth) != depth)
		return -EIO;
	for (i = 0; i < entries; i++) {
		struct buffer_head *bh;

		if (!depth) {
			blocks += ext4_ext_get_actual_len(ex + i);
			continue;
		}
		bh = sb_bread(inode->i_sb, ext4_idx_pblock(ix + i));
		if (!bh)
			return -EIO;
		below = cr_tree_blocks(inode, ext_block_hdr(bh), depth - 1);
		brelse(bh);
		if (below < 0)
			return below;
		blocks += below + 1;
	}
	return blocks;
}

/* i_blocks must be what the extent tree of the inode holds. */
static void cr_check_blocks(struct cr_ctx *c, struct inode *inode,
			    const char *name)
{
	struct ext4_inode_info *ei = EXT4_I(inode);
	struct ext4_extent_header *eh;
	s64 blocks;

	down_read(&ei->i_data_sem);
	eh = (struct ext4_extent_header *)ei->i_data;
	blocks = cr_tree_blocks(inode, eh, le16_to_cpu(eh->eh_depth));
	up_read(&ei->i_data_sem);
	if (blocks < 0) {
		KUNIT_FAIL(c->test, "%s: %s: bad extent tree: %lld", c->state,
			   name, blocks);
		c->failed = true;
		return;
	}
	blocks <<= inode->i_blkbits - SECTOR_SHIFT;
	if (inode->i_blocks != blocks) {
		KUNIT_FAIL(c->test, "%s: %s: i_blocks %llu, its extent tree holds %lld",
			   c->state, name, (u64)inode->i_blocks, blocks);
		c->failed = true;
	}
}

/*
 * The values byte @b of @f may have in a crash state whose size was set
 * at moment @m_s, given that it was synced at moment @m_f.
 */
static u64 cr_allowed(const struct cr_file *f, loff_t b, int m_s, int m_f)
{
	int m, cut = -1;
	u64 set = 0;

	for (m = m_s; m >= 0; m--) {
		if (f->size[m] <= b) {
			cut = m;
			break;
		}
	}
	for (m = max(m_f, cut + 1); m < f->nr; m++)
		set |= BIT_ULL(f->size[m] > b ? cr_vbit(f->data[m][b]) : 0);
	return set;
}

static void cr_check_file(struct cr_ctx *c, struct vfsmount *mnt, int i,
			  unsigned int n)
{
	const struct cr_file *f = &c->files[i];
	const char *name = cr_file_names[i];
	struct kunit *test = c->test;
	int k, m, m_fs = 0, m_s = -1;
	struct inode *inode;
	struct file *file;
	loff_t size, b, pos = 0;
	char what[200];
	size_t len;
	ssize_t ret;

	file = file_open_root_mnt(mnt, name, O_RDONLY | O_LARGEFILE, 0);
	if (IS_ERR(file)) {
		KUNIT_FAIL(test, "%s: cannot open %s: %ld", c->state, name,
			   PTR_ERR(file));
		c->failed = true;
		return;
	}
	inode = file_inode(file);
	size = i_size_read(inode);

	for (k = 0; k < c->nr_syncs; k++) {
		const struct cr_sync *s = &c->syncs[k];

		if (s->file == i && s->whole && s->log_pos <= n)
			m_fs = max(m_fs, s->moment);
	}
	for (m = m_fs; m < f->nr; m++) {
		if (f->size[m] == size) {
			m_s = m;
			break;
		}
	}
	if (m_s < 0 || size > CR_MAX_SIZE) {
		KUNIT_FAIL(test, "%s: %s: i_size %lld: %s (moment %d, size %lld)",
			   c->state, name, size,
			   "no size the file had since its last fsync", m_fs,
			   f->size[m_fs]);
		c->failed = true;
		goto out;
	}

	ret = kernel_read(file, c->buf, size, &pos);
	if (ret != size) {
		KUNIT_FAIL(test, "%s: %s: read of %lld bytes gave %zd",
			   c->state, name, size, ret);
		c->failed = true;
		goto out;
	}
	for (b = 0; b < size; b += CR_GRAIN) {
		int m_f = m_fs;
		u64 set;
		loff_t j;

		for (k = 0; k < c->nr_syncs; k++) {
			const struct cr_sync *s = &c->syncs[k];

			if (s->file == i && s->log_pos <= n &&
			    b >= s->start && b < s->end)
				m_f = max(m_f, s->moment);
		}
		set = cr_allowed(f, b, m_s, m_f);
		for (j = b; j < min(b + CR_GRAIN, size); j++) {
			int bit = cr_vbit(c->buf[j]);

			if (bit >= 0 && (set & BIT_ULL(bit)))
				continue;
			cr_describe(set, what, sizeof(what));
			len = strlen(what);
			scnprintf(what + len, sizeof(what) - len,
				  " (synced at moment %d, size from moment %d)",
				  m_f, m_s);
			KUNIT_FAIL(test,
				   "%s: %s (i_size %lld): byte %lld reads %#x%s, allowed: %s",
				   c->state, name, size, j, c->buf[j],
				   c->buf[j] == CR_STALE ? " (stale)" : "",
				   what);
			c->failed = true;
			goto out;
		}
	}
	cr_check_blocks(c, inode, name);
out:
	fput(file);
}

/* Build, mount and check one crash state: the cut after @n log entries. */
static void cr_check_state(struct cr_ctx *c, unsigned int n, int nr_lost)
{
	struct kunit *test = c->test;
	struct ext4_sb_info *sbi;
	struct vfsmount *mnt;
	char source[32];
	int err, i, len;

	len = scnprintf(c->state, sizeof(c->state), "cut after %u", n);
	if (nr_lost)
		scnprintf(c->state + len, sizeof(c->state) - len,
			  ", lost writes %*pbl", n, c->lost);

	err = kunit_ramdisk_crash_image(c->image, c->fs->disk, n,
					nr_lost ? c->lost : NULL);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "%s: crash image", c->state);
	snprintf(source, sizeof(source), "kunit-crash-%u",
		 MINOR(disk_devt(c->image)));
	mnt = ext4_test_mount_dev(disk_devt(c->image), source, c->p->fs->opts);
	if (IS_ERR(mnt)) {
		KUNIT_FAIL(test, "%s: the image does not mount: %ld", c->state,
			   PTR_ERR(mnt));
		c->failed = true;
		return;
	}
	sbi = EXT4_SB(mnt->mnt_sb);
	for (i = 0; i < CR_FILES && !c->failed; i++)
		cr_check_file(c, mnt, i, n);
	if (sbi->s_mount_state & EXT4_ERROR_FS) {
		KUNIT_FAIL(test, "%s: ext4 recorded an error", c->state);
		c->failed = true;
	}
	flush_delayed_fput();
	mntput(mnt);
	flush_delayed_fput();
	c->checked++;
}

/*
 * Every crash state of the log: the cut after each write (a flush adds no
 * state), with the writes since the last flush lost in every combination,
 * or a seeded sample of them, but never the write just before the cut.
 */
static void cr_check_states(struct cr_ctx *c, int nr_entries)
{
	unsigned int vol[64], stride = max(crash_stride, 1U), idx = 0;
	struct rnd_state rnd;
	int n, i, k, nv;

	prandom_seed_state(&rnd, crash_seed);
	cr_check_state(c, 0, 0);
	for (n = 1; n <= nr_entries && !c->failed; n++) {
		const struct kunit_ramdisk_log_entry *e;
		unsigned int subsets;
		u32 mask;

		e = kunit_ramdisk_log_entry(c->fs->disk, n - 1);
		if (e->flush)
			continue;
		nv = 0;
		for (i = n - 1; i-- > 0;) {
			e = kunit_ramdisk_log_entry(c->fs->disk, i);
			if (e->flush)
				break;
			if (!e->fua && nv < ARRAY_SIZE(vol))
				vol[nv++] = i;
		}
		nv = min(nv, 31);
		subsets = nv <= CR_ALL_SUBSETS_MAX ? 1U << nv : CR_SAMPLES;
		for (k = 0; k < subsets && !c->failed; k++) {
			int lost = 0;

			if (nv <= CR_ALL_SUBSETS_MAX)
				mask = k;
			else
				mask = k ? prandom_u32_state(&rnd) &
					   (BIT(nv) - 1) : 0;
			if (++idx % stride && !(n == nr_entries && !k))
				continue;
			bitmap_zero(c->lost, n);
			for (i = 0; i < nv; i++) {
				if (mask & BIT(i)) {
					__set_bit(vol[i], c->lost);
					lost++;
				}
			}
			cr_check_state(c, n, lost);
		}
	}
}

static void crash_test(struct kunit *test)
{
	const struct cr_param *p = test->param_value;
	const struct cr_scenario *sc = p->sc;
	unsigned long fc;
	unsigned int spb;
	struct cr_ctx *c;
	int i, n, err;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->test = test;
	c->p = p;
	c->buf = kunit_kmalloc(test, CR_MAX_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->buf);

	c->fs = ext4_kunit_fs_setup(test, &p->fs->mkfs, p->fs->opts);
	spb = c->fs->sb->s_blocksize >> SECTOR_SHIFT;
	err = kunit_ramdisk_fill(c->fs->disk,
				 c->fs->layout.first_free_block * spb,
				 get_capacity(c->fs->disk) -
				 c->fs->layout.first_free_block * spb,
				 CR_STALE);
	KUNIT_ASSERT_EQ(test, err, 0);
	for (i = 0; i < CR_FILES; i++) {
		struct cr_file *f = &c->files[i];

		f->file = ext4_kunit_create_file(test, c->fs->mnt,
						 cr_file_names[i]);
		KUNIT_ASSERT_TRUE(test, ext4_inode_buffered_iomap(file_inode(f->file)));
	}
	for (i = 0; sc->setup[i].op; i++)
		cr_run_step(c, &sc->setup[i], CR_SETUP_VAL(i), false);

	/* Moment 0 of each file: what it holds now, all of it on disk. */
	for (i = 0; i < CR_FILES; i++) {
		struct cr_file *f = &c->files[i];
		u8 *last = f->nr ? f->data[f->nr - 1] : NULL;
		loff_t size = f->nr ? f->size[f->nr - 1] : 0;

		f->nr = 0;
		cr_new_moment(c, f);
		if (last)
			memcpy(f->data[0], last, CR_MAX_SIZE);
		f->size[0] = size;
		f->nr = 1;
	}
	down_read(&c->fs->sb->s_umount);
	err = sync_filesystem(c->fs->sb);
	up_read(&c->fs->sb->s_umount);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, kunit_ramdisk_log_start(c->fs->disk), 0);

	for (i = 0; sc->steps[i].op; i++)
		cr_run_step(c, &sc->steps[i], CR_VAL(i), true);
	n = kunit_ramdisk_log_len(c->fs->disk);
	KUNIT_ASSERT_GT_MSG(test, n, 0, "write log");
	kunit_ramdisk_log_stop(c->fs->disk);
	fc = c->fs->sbi->s_fc_stats.fc_num_commits;

	c->image = kunit_ramdisk_create(test, get_capacity(c->fs->disk));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c->image);
	c->lost = kunit_kzalloc(test, BITS_TO_LONGS(n) * sizeof(long),
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->lost);

	cr_check_states(c, n);
	atomic_add(c->checked, &cr_total_states);
	if (p->fs->mkfs.feature_fast_commit) {
		atomic_add(c->checked, &cr_fc_states);
		atomic_add(fc, &cr_fc_commits);
	}
	kunit_info(test, "%u crash states checked, %d log entries, %lu fast commits, seed %lu, stride %u\n",
		   c->checked, n, fc, crash_seed, max(crash_stride, 1U));
}

static void crash_suite_exit(struct kunit_suite *suite)
{
	pr_info("ext4_iomap_crash: %d crash states checked in all, %d of them with fast commits (%d fast commits)\n",
		atomic_read(&cr_total_states), atomic_read(&cr_fc_states),
		atomic_read(&cr_fc_commits));
}

static struct kunit_case ext4_iomap_crash_test_cases[] = {
	KUNIT_CASE_PARAM(crash_test, cr_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_crash_test_suite = {
	.name = "ext4_iomap_crash",
	.suite_exit = crash_suite_exit,
	.test_cases = ext4_iomap_crash_test_cases,
};

kunit_test_suites(&ext4_iomap_crash_test_suite);

MODULE_DESCRIPTION("KUnit crash consistency tests of the ext4 iomap buffered I/O path");
MODULE_LICENSE("GPL");
