// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of races on ext4's iomap buffered I/O path: the suite
 * ext4_iomap_race, on the fixture and helpers of iomap-write-test.c
 * (iomap-write-test.h).
 *
 * Each race is made deterministic by where the other side waits, never
 * by timing: the disk holds the I/O, or the test holds i_data_sem, and
 * the test polls, one jiffy at a time and with a bound, for the other
 * thread to be blocked before it goes on. Writeback against truncate,
 * punch hole and zero range; writeback whose extent lookup went stale;
 * a delalloc write racing writeback of the same range.
 */

#include <kunit/ramdisk.h>
#include <kunit/static_stub.h>
#include <kunit/test-bug.h>
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/fileattr.h>
#include <linux/folio_batch.h>
#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/jbd2.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/percpu_counter.h>
#include <linux/quotaops.h>
#include <linux/sched/debug.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/writeback.h>

#include "ext4.h"
#include "ext4_extents.h"
#include "kunit-fixture.h"
#include "iomap-write-test.h"

/*
 * Races with writeback in flight, made deterministic: 8 blocks are
 * written, one at a time, and their writeback is started with the disk holding the data
 * writes, then a truncate, punch or zero range runs in a thread of its
 * own. Once that thread blocks (on the writeback it has to wait for, or
 * for truncate once it has cut i_size), the held writes complete. The
 * operation must not have freed or converted blocks under the I/O, the
 * completion must not convert a hole (which would allocate it) nor move
 * i_disksize beyond the new i_size, and afterwards the file must be
 * exactly what the operation says, on disk too.  The "near full" rows
 * leave 8 clusters free once the 8 blocks are allocated (with fewer,
 * ext4_nonda_switch() starts writeback while the blocks are written, and
 * nothing is left in flight): a zero range over allocated blocks and
 * partially covered folios needs no space, so it must not fail with
 * -ENOSPC there either.
 */
enum iw_race_op { RACE_TRUNCATE, RACE_PUNCH, RACE_ZERO };

struct race_row {
	const char *desc;
	const struct iw_fs *fs;
	enum iw_race_op op;
	loff_t pos, len;
	/* After the operation and an fsync. */
	struct iw_es es[IW_MAX_ES];
	s64 free;
	loff_t size;
	struct iw_bytes data[2];
	/* Fill the file system first, leaving 8 + 8 clusters free. */
	bool full;
};

static const struct race_row race_rows[] = {
	{ "1k da: truncate to 1000", &iw_fs_1k, RACE_TRUNCATE, 1000, 0,
	  { WR(0, 1) }, -1, 1000, { { 0, 1000, 0x5a } } },
	{ "1k nd: truncate to 1000", &iw_fs_1k_nd, RACE_TRUNCATE, 1000, 0,
	  { WR(0, 1) }, -1, 1000, { { 0, 1000, 0x5a } } },
	{ "1k da: punch 1024..7168", &iw_fs_1k, RACE_PUNCH, KB(1), KB(6),
	  { WR(0, 1), HO(1, 6), WR(7, 1), HO(8, END) }, -2, KB(8),
	  { { 0, KB(1), 0x5a }, { KB(7), KB(8), 0x5a } } },
	{ "1k nd: punch 1500..6500", &iw_fs_1k_nd, RACE_PUNCH, 1500, 5000,
	  { WR(0, 2), HO(2, 4), WR(6, 2), HO(8, END) }, -4, KB(8),
	  { { 0, 1500, 0x5a }, { 6500, KB(8), 0x5a } } },
	/* A whole folio under writeback in the middle of the range. */
	{ "4k da: punch block 1", &iw_fs_4k, RACE_PUNCH, KB(4), KB(4),
	  { WR(0, 1), HO(1, 1), WR(2, 6), HO(8, END) }, -7, KB(32),
	  { { 0, KB(4), 0x5a }, { KB(8), KB(32), 0x5a } } },
	{ "4k nd: punch blocks 2-5", &iw_fs_4k_nd, RACE_PUNCH, KB(8), KB(16),
	  { WR(0, 2), HO(2, 4), WR(6, 2), HO(8, END) }, -4, KB(32),
	  { { 0, KB(8), 0x5a }, { KB(24), KB(32), 0x5a } } },
	{ "4k da: zero range blocks 2-5", &iw_fs_4k, RACE_ZERO, KB(8), KB(16),
	  { WR(0, 2), UW(2, 4), WR(6, 2), HO(8, END) }, -8, KB(32),
	  { { 0, KB(8), 0x5a }, { KB(24), KB(32), 0x5a } } },
	{ "1k da: zero range 1024..7168", &iw_fs_1k, RACE_ZERO, KB(1), KB(6),
	  { WR(0, 1), UW(1, 6), WR(7, 1), HO(8, END) }, -8, KB(8),
	  { { 0, KB(1), 0x5a }, { KB(7), KB(8), 0x5a } } },
	{ "4k da: zero range blocks 1-6, near full", &iw_fs_4k, RACE_ZERO, KB(4), KB(24),
	  { WR(0, 1), UW(1, 6), WR(7, 1), HO(8, END) }, -8, KB(32),
	  { { 0, KB(4), 0x5a }, { KB(28), KB(32), 0x5a } }, true },
	/* Blocks 1 and 6 are zeroed in the page cache, under writeback. */
	{ "1k nd: zero range 1500..6500, near full", &iw_fs_1k_nd, RACE_ZERO, 1500, 5000,
	  { WR(0, 2), UW(2, 4), WR(6, 2), HO(8, END) }, -8, KB(8),
	  { { 0, 1500, 0x5a }, { 6500, KB(8), 0x5a } }, true },
	{ "1k da: zero range 1500..6500, near full", &iw_fs_1k, RACE_ZERO, 1500, 5000,
	  { WR(0, 2), UW(2, 4), WR(6, 2), HO(8, END) }, -8, KB(8),
	  { { 0, 1500, 0x5a }, { 6500, KB(8), 0x5a } }, true },
};

KUNIT_ARRAY_PARAM_DESC(race_rows, race_rows, desc);

struct iw_race {
	struct iw_ctx *c;
	const struct race_row *r;
	struct completion done;
	int ret;
};

/*
 * Wait until @task sleeps uninterruptibly (blocked on a lock or on I/O) or
 * has signalled @done: for a state, not for a time; one jiffy between
 * looks, ten seconds at most.
 */
static void iw_wait_blocked(struct task_struct *task, struct completion *done)
{
	int i;

	for (i = 0; i < 10 * HZ && !completion_done(done) &&
	     READ_ONCE(task->__state) != TASK_UNINTERRUPTIBLE; i++)
		schedule_timeout_uninterruptible(1);
}

static int iw_race_fn(void *data)
{
	struct iw_race *race = data;
	const struct race_row *r = race->r;
	struct file *file = race->c->file;

	switch (r->op) {
	case RACE_TRUNCATE:
		race->ret = vfs_truncate(&file->f_path, r->pos);
		break;
	case RACE_PUNCH:
		race->ret = vfs_fallocate(file, PUNCH, r->pos, r->len);
		break;
	case RACE_ZERO:
		race->ret = vfs_fallocate(file, FALLOC_FL_ZERO_RANGE |
					  FALLOC_FL_KEEP_SIZE, r->pos, r->len);
		break;
	}
	complete(&race->done);
	return 0;
}

/* Writeback of the first page, from a thread of its own. */
static int iw_writeback_fn(void *data)
{
	struct iw_race *race = data;

	race->ret = filemap_fdatawrite_range(race->c->inode->i_mapping, 0,
					     PAGE_SIZE - 1);
	complete(&race->done);
	return 0;
}

static void race_test(struct kunit *test)
{
	const struct race_row *r = test->param_value;
	struct iw_state st = { .es = r->es, .free = r->free, .size = r->size,
			       .disksize = r->size };
	struct task_struct *task;
	struct iw_race race = { .r = r };
	loff_t bs = r->fs->mkfs.block_size;
	int i, n, id;

	race.c = iw_setup(test, r->fs, "file");
	iw_fill_stale(race.c);
	if (r->full)
		iw_fill(race.c, 8 + 8, 0);
	iw_start(race.c, &(struct iw_start){});
	init_completion(&race.done);
	/* A block at a time: folios no larger than a page. */
	for (i = 0; i < 8; i++)
		iw_write(test, race.c->file, i * bs, bs);

	id = iw_data_rule(race.c, KUNIT_RAMDISK_HOLD, BLK_STS_OK);
	KUNIT_ASSERT_EQ(test, filemap_fdatawrite(race.c->inode->i_mapping), 0);
	KUNIT_ASSERT_GT_MSG(test, kunit_ramdisk_nr_held(race.c->fs->disk), 0,
			    "data writes in flight");
	for (i = 0; i < 8; i++) {
		struct folio *folio;

		folio = filemap_get_folio(race.c->inode->i_mapping,
					  (i * bs) >> PAGE_SHIFT);
		KUNIT_ASSERT_FALSE(test, IS_ERR(folio));
		n = folio_test_writeback(folio);
		folio_put(folio);
		KUNIT_ASSERT_TRUE_MSG(test, n,
				      "block %d was written back before the disk held its write",
				      i);
	}

	task = kthread_run(iw_race_fn, &race, "iw-race");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	/* The held writes are all the operation can wait for. */
	iw_wait_blocked(task, &race.done);
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&race.done),
			       "the operation did not wait for the writeback in flight");
	/* Hold only the writeback started above. */
	kunit_ramdisk_remove_rule(race.c->fs->disk, id);
	n = kunit_ramdisk_complete_held(race.c->fs->disk, BLK_STS_OK);
	KUNIT_EXPECT_GT(test, n, 0);
	wait_for_completion(&race.done);
	KUNIT_ASSERT_EQ_MSG(test, race.ret, 0, "the operation");

	KUNIT_ASSERT_EQ(test, vfs_fsync(race.c->file, 0), 0);
	iw_check(race.c, "after the operation and fsync", &st);
	iw_check_disk_extents(race.c, "after the operation and fsync", r->es);
	KUNIT_EXPECT_EQ_MSG(test, race.c->inode->i_blocks,
			    (blkcnt_t)-r->free * r->fs->mkfs.block_size >>
			    SECTOR_SHIFT, "i_blocks");
	iw_check_read_back_ranges(race.c, "after the operation", r->data,
				  r->data[1].end ? 2 : 1);
	iw_cleanup_check(race.c);
}

/*
 * A punch over folios that writeback may map while the punch frees their
 * blocks.  A 1k file of 8 blocks, written and synced, then overwritten
 * as a whole (its two folios dirty); the test holds i_data_sem, which
 * the punch of 1500..5000 needs to remove the extents, and the disk holds
 * writes to blocks 2-3, the ones the punch frees.  Once the punch is
 * blocked, writeback of the first folio starts in a thread of its own,
 * then i_data_sem goes.  However the implementation treats the folios at
 * the edges (written back by the punch, or left dirty with their blocks
 * kept from writeback), the punch must not return while a write to the
 * blocks it freed is still in flight: those blocks may be another file's
 * by the time the write lands.  Afterwards the file is exactly what the
 * punch says.
 */
static void punch_wb_race_test(struct kunit *test)
{
	static const struct race_row punch = { .desc = "punch 1500..5000",
		.op = RACE_PUNCH, .pos = 1500, .len = 3500 };
	static const struct iw_es synced[] = { WR(0, 2), HO(2, 2), WR(4, 4),
					       HO(8, END), {} };
	const struct iw_fs *fs = *(const struct iw_fs * const *)test->param_value;
	struct iw_state st = { .es = synced, .free = -6, .size = KB(8),
			       .disksize = KB(8) };
	struct kunit_ramdisk_rule rule = {
		.ops = KUNIT_RAMDISK_WRITE, .nr_sectors = 2 * (KB(1) >> SECTOR_SHIFT),
		.action = KUNIT_RAMDISK_HOLD, .status = BLK_STS_OK,
	};
	struct iw_race race = { .r = &punch }, wb = { .r = &punch };
	struct ext4_kunit_es es[IW_MAX_ES];
	struct task_struct *task, *wb_task;
	struct rw_semaphore *sem;
	bool returned;
	loff_t pos;
	int id;

	race.c = iw_setup(test, fs, "file");
	wb.c = race.c;
	sem = &EXT4_I(race.c->inode)->i_data_sem;
	iw_start(race.c, &(struct iw_start){});
	iw_write(test, race.c->file, 0, KB(8));
	KUNIT_ASSERT_EQ(test, vfs_fsync(race.c->file, 0), 0);
	KUNIT_ASSERT_EQ(test, ext4_kunit_es_snapshot(race.c->inode, es, IW_MAX_ES),
			2);
	KUNIT_ASSERT_EQ_MSG(test, es[0].len, 8, "8 blocks in one extent");
	/*
	 * Folios dirtied as a whole: uptodate and clean without per-block
	 * state (as reclaim or a cache drop that could not evict them
	 * leaves them), then overwritten entirely.
	 */
	for (pos = 0; pos < KB(8); pos += PAGE_SIZE) {
		struct folio *folio;

		folio = filemap_lock_folio(race.c->inode->i_mapping,
					   pos >> PAGE_SHIFT);
		KUNIT_ASSERT_FALSE(test, IS_ERR(folio));
		KUNIT_EXPECT_TRUE(test, filemap_release_folio(folio, GFP_KERNEL));
		folio_unlock(folio);
		folio_put(folio);
	}
	iw_write(test, race.c->file, 0, KB(8));

	rule.sector = (es[0].pblk + 2) * (KB(1) >> SECTOR_SHIFT);
	id = kunit_ramdisk_add_rule(race.c->fs->disk, &rule);
	KUNIT_ASSERT_GE(test, id, 0);
	init_completion(&race.done);
	init_completion(&wb.done);
	down_write(sem);
	task = kthread_run(iw_race_fn, &race, "iw-punch");
	if (IS_ERR(task)) {
		up_write(sem);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(task));
	}
	iw_wait_blocked(task, &race.done);
	wb_task = kthread_run(iw_writeback_fn, &wb, "iw-wb");
	if (!IS_ERR(wb_task))
		iw_wait_blocked(wb_task, &wb.done);
	up_write(sem);
	if (IS_ERR(wb_task)) {
		wait_for_completion(&race.done);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(wb_task));
	}

	/*
	 * A punch that waits for the held write never returns here; one that
	 * does not returns at once.  The second is what is looked for.
	 */
	returned = wait_for_completion_timeout(&race.done, HZ);
	if (returned) {
		/* Taken by the wait: for the one below. */
		complete(&race.done);
		KUNIT_EXPECT_EQ_MSG(test, kunit_ramdisk_nr_held(race.c->fs->disk), 0,
				    "the punch returned while a write to the blocks it freed was in flight");
	}
	kunit_ramdisk_remove_rule(race.c->fs->disk, id);
	kunit_ramdisk_complete_held(race.c->fs->disk, BLK_STS_OK);
	/* The threads use this frame: say what hangs, then wait for them. */
	if (!wait_for_completion_timeout(&race.done, 10 * HZ)) {
		KUNIT_FAIL(test, "the punch has not finished after 10 s");
		sched_show_task(task);
		wait_for_completion(&race.done);
	}
	if (!wait_for_completion_timeout(&wb.done, 10 * HZ)) {
		KUNIT_FAIL(test, "the writeback has not finished after 10 s");
		sched_show_task(wb_task);
		wait_for_completion(&wb.done);
	}
	KUNIT_ASSERT_EQ_MSG(test, race.ret, 0, "the punch");

	KUNIT_ASSERT_EQ(test, vfs_fsync(race.c->file, 0), 0);
	iw_check(race.c, "after the punch and fsync", &st);
	iw_check_read_back_ranges(race.c, "after the punch",
				  (struct iw_bytes[]){ { 0, 1500, 0x5a },
						       { 5000, KB(8), 0x5a } }, 2);
	iw_cleanup_check(race.c);
}

/*
 * The start of wb_stale_lookup_test and wb_replaced_lookup_test: a 1k file
 * of 8 KiB, page 0 dirty (blocks 0-3 delayed), blocks 4-7 reserved by a
 * write into page 1 that has not copied anything yet, and writeback of
 * page 0 started in @race's thread, which has looked blocks 0-7 up and
 * waits for i_data_sem.  Returns with i_data_sem held for write; the case
 * changes the tree, releases it and waits for @race->done.
 */
static struct iw_ctx *iw_wb_lookup_held(struct kunit *test,
					struct iw_race *race)
{
	struct iomap iomap = {}, srcmap = {};
	struct ext4_inode_info *ei;
	struct task_struct *task;
	struct iw_ctx *c;
	int ret;

	c = iw_setup(test, &iw_fs_1k, "file");
	ei = EXT4_I(c->inode);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, KB(8)), 0);
	iw_start(c, &(struct iw_start){ .dirty_len = KB(4) });
	race->c = c;
	init_completion(&race->done);

	/* A write into page 1 has reserved blocks 4-7. */
	inode_lock(c->inode);
	ret = ext4_iomap_buffered_da_write_ops.iomap_begin(c->inode, KB(4),
							   KB(4), IOMAP_WRITE,
							   &iomap, &srcmap);
	inode_unlock(c->inode);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_ASSERT_TRUE(test, iomap.flags & IOMAP_F_NEW);

	down_write(&ei->i_data_sem);
	task = kthread_run(iw_writeback_fn, race, "iw-writeback");
	if (IS_ERR(task))
		up_write(&ei->i_data_sem);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	/* i_data_sem is all writeback can wait for. */
	iw_wait_blocked(task, &race->done);
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&race->done),
			       "writeback did not wait for i_data_sem");
	return c;
}

/*
 * Writeback looks the delayed extent up without i_data_sem, as far as
 * i_size, while it holds the lock of one folio only. Here writeback of
 * page 0 finds blocks 0-7 delayed (0-3 dirty in page 0, 4-7 reserved by a
 * write into page 1 that has not copied anything yet) and then waits for
 * i_data_sem, which the test holds; meanwhile the delayed extent of
 * blocks 4-7 is removed and its reservation given back, as the failed
 * write's ->iomap_end (or a truncate or punch beyond page 0) does, under
 * i_data_sem. Writeback must allocate blocks 0-3 only: allocating 0-7
 * against the reservation that is gone leaves four blocks allocated that
 * no data covers and that i_blocks, the quota and the free cluster count
 * were never charged for (what e2fsck reports as "i_blocks is X, should
 * be Y").
 */
static void wb_stale_lookup_test(struct kunit *test)
{
	static const struct iw_es es[] = { WR(0, 4), HO(8, END), {} };
	struct iw_state st = { .es = es, .dirty = -4, .free = -4,
			       .size = KB(8), .disksize = KB(8) };
	struct iw_race race = {};
	struct iw_ctx *c;

	c = iw_wb_lookup_held(test, &race);
	ext4_es_remove_extent(c->inode, 4, 4);
	up_write(&EXT4_I(c->inode)->i_data_sem);
	wait_for_completion(&race.done);
	KUNIT_EXPECT_EQ(test, race.ret, 0);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_check(c, "after writeback and fsync", &st);
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks, 8,
			    "i_blocks: 4 blocks of data");
	iw_cleanup_check(c);
}

/*
 * As wb_stale_lookup_test, but the delayed extent writeback looked up is
 * replaced rather than removed while writeback waits for i_data_sem:
 * another allocation of the whole delayed extent (as a racing writeback
 * of page 1 would do) turns blocks 0-7 into an unwritten extent, against
 * the reservation.  Writeback must look again and write page 0 into the
 * blocks now allocated, not allocate a second time: blocks 0-3 written
 * with the data, 4-7 unwritten (reserved by a write that never copied),
 * both reservations consumed exactly once, 8 blocks charged, the data read
 * back.
 */
static void wb_replaced_lookup_test(struct kunit *test)
{
	static const struct iw_es es[] = { WR(0, 4), UW(4, 4), {} };
	struct ext4_map_blocks map = { .m_lblk = 0, .m_len = 8,
				       .m_flags = EXT4_MAP_DELAYED };
	struct iw_race race = {};
	struct iw_ctx *c;
	int ret;

	c = iw_wb_lookup_held(test, &race);
	/* No journal on this file system: no handle needed. */
	ret = ext4_map_create_blocks(NULL, c->inode, &map,
				     EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT);
	up_write(&EXT4_I(c->inode)->i_data_sem);
	KUNIT_EXPECT_EQ_MSG(test, ret, 8, "the other allocation");
	wait_for_completion(&race.done);
	KUNIT_EXPECT_EQ(test, race.ret, 0);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_expect_mapped(c, "after writeback and fsync", es);
	iw_check_counters(c, "after writeback and fsync", 0, -4, -8);
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks, 16,
			    "i_blocks: 8 blocks allocated");
	iw_check_read_back(c, "after writeback and fsync", 0, KB(4), 0x5a);
	iw_cleanup_check(c);
}

/*
 * Writeback caches the mapping it looked up for one folio and uses it
 * for the next ones while their range is inside it; ->writeback_range()
 * must check the extent status cookie (ext4_iomap_valid()) too, since
 * between two folios writeback holds no lock of the inode. Writeback
 * looks dirty folios up in batches of FOLIO_BATCH_SIZE (N) and looks for
 * more past a full batch only when it is done with it. The file has N + 1
 * pages: page 0 written and synced, pages 1-N fallocated (one unwritten
 * extent), pages 0 to N - 1 rewritten (dirty, one folio each), page N
 * not cached. Writeback maps page 1 with the unwritten extent as far as
 * page N, writes back pages 1 to N - 2 with it and waits for the lock of
 * page N - 1, which the test holds; meanwhile a truncate to N pages frees
 * page N's blocks and a write gives page N new, dirty data (a delayed
 * extent, or a new unwritten one without delalloc), which the same
 * writeback finds after the batch. Used for page N, the cached mapping
 * would write the new data into the freed blocks and leave the delayed
 * extent and its reservation behind (or the new extent unwritten): the
 * data reads back as zeros after the page cache is dropped. Every block
 * must end up written, nothing reserved, and page N's data on disk. The
 * file systems have a journal that commits only when asked to, so that
 * the freed blocks cannot be allocated again for page N (which would
 * hide the stale mapping).
 */
static const struct iw_fs *stale_map_fs[] = { &iw_fs_4k_jnl, &iw_fs_4k_jnl_nd,
					      &iw_fs_1k_jnl, &iw_fs_1k_jnl_nd };

static void iw_stale_map_desc(const struct iw_fs **fs, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s %s",
		 (*fs)->mkfs.block_size == 1024 ? "1k" : "4k",
		 (*fs)->delalloc ? "da" : "nd");
}

KUNIT_ARRAY_PARAM(stale_map, stale_map_fs, iw_stale_map_desc);

/*
 * Writeback of the whole file as background writeback does it
 * (WB_SYNC_NONE: it takes every folio that is dirty when it looks, not
 * only those tagged when it started), from a thread of its own:
 * filemap_flush(), which is do_writepages() over the whole file with no
 * limit on the folios (do_writepages() is not exported to the module the
 * suites are with CONFIG_EXT4_KUNIT_TESTS=m).
 */
static int iw_writeback_all_fn(void *data)
{
	struct iw_race *race = data;

	race->ret = filemap_flush(race->c->inode->i_mapping);
	complete(&race->done);
	return 0;
}

static void wb_stale_map_test(struct kunit *test)
{
	const struct iw_fs *fs = *(const struct iw_fs **)test->param_value;
	const loff_t n = FOLIO_BATCH_SIZE;
	ext4_lblk_t bpp = PAGE_SIZE / fs->mkfs.block_size;
	/* Page 0's block is not next to the fallocated ones: the journal. */
	struct iw_es es[] = { WR(0, bpp), WR(bpp, (n - 1) * bpp),
			      WR(n * bpp, bpp), HO((n + 1) * bpp, END), {} };
	struct iw_state st = { .es = es, .size = (n + 1) * PAGE_SIZE,
			       .disksize = (n + 1) * PAGE_SIZE };
	struct iw_bytes data = { 0, (n + 1) * PAGE_SIZE, 0x5a };
	struct extent_status last, new;
	struct iw_start start;
	struct folio *before, *held;
	struct task_struct *task;
	struct iw_race race = {};
	struct iw_ctx *c;
	int i;

	c = iw_setup(test, fs, "file");
	start = (struct iw_start){ .synced_len = PAGE_SIZE,
				   .falloc_pos = PAGE_SIZE,
				   .falloc_len = n * PAGE_SIZE };
	iw_start(c, &start);
	for (i = 0; i < n; i++)
		iw_write(test, c->file, i * PAGE_SIZE, PAGE_SIZE);
	race.c = c;
	init_completion(&race.done);

	before = filemap_get_folio(c->inode->i_mapping, n - 2);
	KUNIT_ASSERT_FALSE(test, IS_ERR(before));
	held = filemap_lock_folio(c->inode->i_mapping, n - 1);
	if (IS_ERR(held))
		folio_put(before);
	KUNIT_ASSERT_FALSE(test, IS_ERR(held));
	task = kthread_run(iw_writeback_all_fn, &race, "iw-writeback");
	if (IS_ERR(task)) {
		folio_unlock(held);
		folio_put(held);
		folio_put(before);
	}
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	/* Page N - 2 under writeback: page N - 1 is next. */
	for (i = 0; i < 10 * HZ && !folio_test_writeback(before); i++)
		schedule_timeout_uninterruptible(1);
	iw_wait_blocked(task, &race.done);
	KUNIT_EXPECT_TRUE_MSG(test, folio_test_writeback(before),
			      "writeback did not get to page %lld", n - 2);
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&race.done),
			       "writeback did not wait for the lock of page %lld",
			       n - 1);
	folio_put(before);

	KUNIT_EXPECT_EQ(test, vfs_truncate(&c->file->f_path, n * PAGE_SIZE), 0);
	iw_write(test, c->file, n * PAGE_SIZE, PAGE_SIZE);
	folio_unlock(held);
	folio_put(held);
	wait_for_completion(&race.done);
	KUNIT_EXPECT_EQ(test, race.ret, 0);
	KUNIT_EXPECT_FALSE_MSG(test,
			       mapping_tagged(c->inode->i_mapping,
					      PAGECACHE_TAG_DIRTY),
			       "writeback left dirty pages");

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	/*
	 * Page N's new blocks can follow the others only if the journal
	 * committed the truncate early (the freed blocks are free again
	 * then): one extent.
	 */
	KUNIT_ASSERT_TRUE(test, ext4_es_lookup_extent(c->inode, n * bpp - 1,
						      NULL, &last, NULL));
	KUNIT_ASSERT_TRUE(test, ext4_es_lookup_extent(c->inode, n * bpp,
						      NULL, &new, NULL));
	if (ext4_es_pblock(&new) ==
	    ext4_es_pblock(&last) + n * bpp - last.es_lblk) {
		es[1].len += bpp;
		es[2] = es[3];
		es[3] = es[4];
	}
	iw_check(c, "after writeback and fsync", &st);
	iw_check_disk_extents(c, "after writeback and fsync", es);
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks,
			    (blkcnt_t)(n + 1) * PAGE_SIZE >> SECTOR_SHIFT,
			    "i_blocks: every page's data");
	iw_check_read_back_ranges(c, "after writeback", &data, 1);
	iw_cleanup_check(c);
}

/*
 * Two delayed allocation mappings of one hole at once, as a write (under
 * i_rwsem) and a write fault (which does not take it) make them, both
 * waiting for i_data_sem, which the test holds.  Each found the hole
 * cached in the extent status tree; ext4_da_map_blocks() looks the tree
 * up again under i_data_sem in write mode before it reserves, so the
 * mapping that gets the lock second must find the first one's delayed
 * extent and map that: one block reserved, and only one mapping reports
 * it as new (IOMAP_F_NEW, which lets its ->iomap_end punch it).  In the
 * last rows the cached hole is dropped while the write waits, as the
 * extent status shrinker drops holes: the write must look the extent tree
 * up again and reserve the block; and if, meanwhile, the block was
 * allocated (as fallocate does, under i_data_sem in write mode) and the
 * shrinker dropped the extent that cached, it must map that unwritten
 * extent and reserve nothing.
 */
struct da_race_row {
	const char *desc;
	const struct iw_fs *fs;
	bool drop_hole;
	bool alloc;
};

static const struct da_race_row da_race_rows[] = {
	{ "1k: write and write fault", &iw_fs_1k },
	{ "4k: write and write fault", &iw_fs_4k },
	{ "1k: write, cached hole dropped", &iw_fs_1k, true },
	{ "1k: write, block allocated, its cached extent dropped", &iw_fs_1k,
	  true, true },
};

KUNIT_ARRAY_PARAM_DESC(da_race_rows, da_race_rows, desc);

struct iw_da_map {
	struct iw_ctx *c;
	bool fault;
	struct iomap iomap;
	struct completion done;
	int ret;
};

/* ->iomap_begin of block 4, as a write or as a write fault does it. */
static int iw_da_map_fn(void *data)
{
	struct iw_da_map *m = data;
	struct inode *inode = m->c->inode;
	loff_t bs = i_blocksize(inode);
	struct iomap srcmap = {};

	if (m->fault) {
		filemap_invalidate_lock_shared(inode->i_mapping);
		m->ret = ext4_iomap_buffered_da_write_ops.iomap_begin(inode,
				4 * bs, bs, IOMAP_WRITE | IOMAP_FAULT,
				&m->iomap, &srcmap);
		filemap_invalidate_unlock_shared(inode->i_mapping);
	} else {
		inode_lock(inode);
		m->ret = ext4_iomap_buffered_da_write_ops.iomap_begin(inode,
				4 * bs, bs, IOMAP_WRITE, &m->iomap, &srcmap);
		inode_unlock(inode);
	}
	complete(&m->done);
	return 0;
}

static void da_race_test(struct kunit *test)
{
	static const struct iw_es hole[] = { HO(0, END), {} };
	static const struct iw_es es[] = { HO(0, 4), DA(4, 1), HO(5, END), {} };
	static const struct iw_es es_alloc[] = { UW(4, 1), {} };
	const struct da_race_row *r = test->param_value;
	loff_t bs = r->fs->mkfs.block_size;
	struct iw_state st = { .es = hole, .size = 8 * bs,
			       .disksize = 8 * bs };
	struct iomap iomap = {}, srcmap = {};
	int i, ret, n = r->drop_hole ? 1 : 2, nnew = 0;
	struct task_struct *task;
	struct iw_da_map m[2];
	struct iw_ctx *c;

	c = iw_setup(test, r->fs, "file");
	/* Eight blocks of hole within i_size: a fault may map block 4. */
	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, 8 * bs), 0);
	iw_start(c, &(struct iw_start){});
	/* A read mapping caches the hole. */
	ret = ext4_iomap_buffered_read_ops.iomap_begin(c->inode, 4 * bs, bs, 0,
						       &iomap, &srcmap);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, iomap.type, IOMAP_HOLE);
	iw_check(c, "before the mappings", &st);

	down_write(&EXT4_I(c->inode)->i_data_sem);
	for (i = 0; i < n; i++) {
		m[i] = (struct iw_da_map){ .c = c, .fault = i == 1 };
		init_completion(&m[i].done);
		task = kthread_run(iw_da_map_fn, &m[i], "iw-da-map");
		if (IS_ERR(task)) {
			n = i;
			break;
		}
		iw_wait_blocked(task, &m[i].done);
		KUNIT_EXPECT_FALSE_MSG(test, completion_done(&m[i].done),
				       "mapping %d did not wait for i_data_sem",
				       i);
	}
	if (r->alloc) {
		struct ext4_map_blocks map = { .m_lblk = 4, .m_len = 1 };

		/* No journal on this file system: no handle needed. */
		ret = ext4_map_create_blocks(NULL, c->inode, &map,
					     EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT);
		KUNIT_EXPECT_EQ_MSG(test, ret, 1, "allocating block 4");
	}
	if (r->drop_hole)
		ext4_es_remove_extent(c->inode, 0, EXT_MAX_BLOCKS);
	up_write(&EXT4_I(c->inode)->i_data_sem);
	for (i = 0; i < n; i++)
		wait_for_completion(&m[i].done);
	KUNIT_ASSERT_EQ_MSG(test, n, r->drop_hole ? 1 : 2, "threads started");

	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, m[i].ret, 0, "mapping %d", i);
		KUNIT_EXPECT_EQ_MSG(test, m[i].iomap.type,
				    r->alloc ? IOMAP_UNWRITTEN : IOMAP_DELALLOC,
				    "mapping %d", i);
		KUNIT_EXPECT_EQ_MSG(test, m[i].iomap.offset, 4 * bs,
				    "mapping %d", i);
		KUNIT_EXPECT_EQ_MSG(test, m[i].iomap.length, bs,
				    "mapping %d", i);
		nnew += !!(m[i].iomap.flags & IOMAP_F_NEW);
	}
	KUNIT_EXPECT_EQ_MSG(test, nnew, !r->alloc,
			    "mappings reporting a new reservation");
	if (r->alloc) {
		st.es = es_alloc;
		st.free = -1;
	} else {
		st.es = es;
		st.reserved = 1;
		st.dirty = 1;
	}
	iw_check(c, "after the mappings", &st);
	iw_cleanup_check(c);
}

static const struct iw_fs *punch_wb_fs[] = { &iw_fs_1k, &iw_fs_1k_nd };

KUNIT_ARRAY_PARAM(punch_wb, punch_wb_fs, iw_fs_desc);

static struct kunit_case ext4_iomap_race_test_cases[] = {
	KUNIT_CASE_PARAM(race_test, race_rows_gen_params),
	KUNIT_CASE_PARAM(punch_wb_race_test, punch_wb_gen_params),
	KUNIT_CASE(wb_stale_lookup_test),
	KUNIT_CASE(wb_replaced_lookup_test),
	KUNIT_CASE_PARAM(wb_stale_map_test, stale_map_gen_params),
	KUNIT_CASE_PARAM(da_race_test, da_race_rows_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_race_test_suite = {
	.name = "ext4_iomap_race",
	.test_cases = ext4_iomap_race_test_cases,
};

kunit_test_suites(&ext4_iomap_race_test_suite);
