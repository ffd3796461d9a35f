// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ext4's iomap buffered I/O path under disk and file
 * system errors: the suite ext4_iomap_error, on the fixture and helpers of
 * iomap-write-test.c (iomap-write-test.h).
 *
 * The in-memory disk fails chosen sectors or holds writes in flight
 * (kunit/ramdisk.h). What is checked: a failed data write is reported by
 * fsync and leaves no extent claiming data that never reached the disk; a
 * failed extent tree read fails the operation with the error and changes
 * nothing; an aborted journal or a shut down file system refuses writes;
 * writes held in flight are not lost or duplicated by what runs
 * meanwhile; an old writeback error does not fail a later truncate.
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
 * A write error in writeback: the data was written into the page cache
 * (on delalloc mounts, writeback allocated its blocks, unwritten) and the
 * disk fails the write. Nothing may be converted and i_disksize may not
 * move, so that the blocks never read back as what the disk holds there;
 * fsync reports -EIO once on the file, then 0 (errseq); after the page
 * cache is dropped the range reads zeros, and after truncating to zero
 * every counter is at its baseline.
 */
struct wberr_row {
	const char *desc;
	const struct iw_fs *fs;
	loff_t falloc_len;
	loff_t pos, len;
	/* After the failed fsync. */
	struct iw_es es[IW_MAX_ES];
	s64 free;
};

static const struct wberr_row wberr_rows[] = {
	{ "1k da: delalloc", &iw_fs_1k, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, -3 },
	{ "1k nd: unwritten", &iw_fs_1k_nd, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, -3 },
	{ "1k da: into fallocated", &iw_fs_1k, KB(4), KB(1), KB(2),
	  { UW(0, 4), HO(4, END) }, 0 },
	{ "4k da: delalloc", &iw_fs_4k, 0, 0, KB(8),
	  { UW(0, 2), HO(2, END) }, -2 },
	{ "4k nd: unwritten", &iw_fs_4k_nd, 0, 0, KB(8),
	  { UW(0, 2), HO(2, END) }, -2 },
	{ "1k bigalloc da: delalloc", &iw_fs_1k_big, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, -1 },
};

KUNIT_ARRAY_PARAM_DESC(wberr_rows, wberr_rows, desc);

static void wb_error_test(struct kunit *test)
{
	const struct wberr_row *r = test->param_value;
	struct iw_state st = { .es = r->es, .free = r->free };
	struct iw_ctx *c;
	int id;

	c = iw_setup(test, r->fs, "file");
	iw_fill_stale(c);
	iw_start(c, &(struct iw_start){ .falloc_len = r->falloc_len });
	st.disksize = EXT4_I(c->inode)->i_disksize;
	iw_write(test, c->file, r->pos, r->len);
	st.size = i_size_read(c->inode);

	id = iw_data_rule(c, KUNIT_RAMDISK_FAIL, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), -EIO,
			    "fsync with the data write failing");
	KUNIT_EXPECT_GT_MSG(test, kunit_ramdisk_rule_hits(c->fs->disk, id), 0,
			    "data writes failed");
	iw_check(c, "after the failed fsync", &st);
	iw_check_disk_extents(c, "after the failed fsync", r->es);
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), 0,
			    "second fsync: the error is reported once");
	kunit_ramdisk_remove_rule(c->fs->disk, id);

	iw_check_read_back(c, "after the failed fsync", 0, 0, 0);
	iw_cleanup_check(c);
}

/*
 * Writeback that fails before any I/O is submitted: the file has five
 * extents, so its extent tree has a leaf block, and the leaf is dropped
 * from the cache and cannot be read when writeback allocates the delayed
 * block at 20. ->writeback_range fails, the folio is cleaned without
 * being written, so its delayed extent and reservation must be released
 * (or they would never be written back nor given back), fsync reports
 * -EIO once, and nothing else changes.
 */
static void wb_map_error_test(struct kunit *test)
{
	static const struct iw_es es[] = {
		WR(0, 1), HO(1, 1), WR(2, 1), HO(3, 1), WR(4, 1), HO(5, 1),
		WR(6, 1), HO(7, 1), WR(8, 1), HO(9, 11),
		/* Cached by the lookup at the end of the folio of block 20. */
		HO(round_up(21, P4), END), {}
	};
	struct iw_state st = { .es = es, .size = KB(84), .disksize = KB(36) };
	struct kunit_ramdisk_rule rule = {
		.ops = KUNIT_RAMDISK_READ, .nr_sectors = 8,
		.action = KUNIT_RAMDISK_FAIL, .status = BLK_STS_IOERR,
	};
	struct ext4_extent_header *eh;
	struct iw_ctx *c;
	int i, id;

	c = iw_setup(test, &iw_fs_4k, "file");
	iw_start(c, &(struct iw_start){});
	for (i = 0; i <= 8; i += 2)
		iw_write(test, c->file, KB(4) * i, KB(4));
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	eh = (struct ext4_extent_header *)EXT4_I(c->inode)->i_data;
	KUNIT_ASSERT_EQ_MSG(test, le16_to_cpu(eh->eh_depth), 1,
			    "extent tree depth");
	ext4_kunit_read_counters(c->inode, &c->base);

	iw_write(test, c->file, KB(80), KB(4));
	rule.sector = ext4_idx_pblock(EXT_FIRST_INDEX(eh)) << 3;
	KUNIT_ASSERT_EQ(test, sync_blockdev(c->fs->sb->s_bdev), 0);
	invalidate_bdev(c->fs->sb->s_bdev);
	id = kunit_ramdisk_add_rule(c->fs->disk, &rule);
	KUNIT_ASSERT_GE(test, id, 0);
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), -EIO,
			    "fsync with the extent tree leaf unreadable");
	KUNIT_EXPECT_GT_MSG(test, kunit_ramdisk_remove_rule(c->fs->disk, id), 0,
			    "reads of the leaf failed");
	/* The tree as cached now, then the leaf read again. */
	iw_check(c, "after the failed writeback", &st);
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), 0, "second fsync");
	iw_cleanup_check(c);
}

/*
 * The case expects ext4 to have recorded a file system error (an extent
 * tree that cannot be read, an aborted journal): check that it did and
 * clear the flag, so that the unmount of the fixture, which fails a case
 * on any error ext4 recorded, does not count it.
 */
static void iw_expect_fs_error(struct iw_ctx *c, const char *when)
{
	struct ext4_sb_info *sbi = c->fs->sbi;

	KUNIT_EXPECT_TRUE_MSG(c->test, sbi->s_mount_state & EXT4_ERROR_FS,
			      "%s: ext4 recorded no error", when);
	sbi->s_mount_state &= ~EXT4_ERROR_FS;
}

/*
 * Mapping lookups that fail: the file of wb_map_error_test (five extents,
 * so a leaf block), grown to 64 KiB by truncate, its leaf dropped from the
 * buffer cache and its extent status tree emptied, and every read of the
 * leaf failing.  A read or a write in the hole from block 9 on must look
 * the leaf up through ->iomap_begin (the read path's, or the write path's
 * with and without delalloc), fail with -EIO and change nothing: no block
 * allocated or reserved, i_size as it was, no dirty page cache, no error
 * recorded.  Once the disk reads again the data and the hole read back
 * (the folio of a failed read stays in the page cache, not uptodate, and
 * is read again) and the counters are back at their baseline after
 * truncate.  A truncate into the hole sets the new size first; removing
 * the blocks beyond it then needs the leaf: -EIO, the new i_size, and a
 * file system error recorded, as for any extent tree read error in
 * ext4_truncate().
 */
enum leaf_op { LEAF_READ, LEAF_WRITE, LEAF_TRUNCATE };

struct leaf_row {
	const char *desc;
	const struct iw_fs *fs;
	enum leaf_op op;
	/* i_size and i_disksize after the failure; an ext4 error recorded. */
	loff_t size;
	bool fs_error;
};

static const struct leaf_row leaf_rows[] = {
	{ "4k da: read in the hole", &iw_fs_4k, LEAF_READ, KB(64) },
	{ "4k nd: read in the hole", &iw_fs_4k_nd, LEAF_READ, KB(64) },
	{ "4k da: write in the hole", &iw_fs_4k, LEAF_WRITE, KB(64) },
	{ "4k nd: write in the hole", &iw_fs_4k_nd, LEAF_WRITE, KB(64) },
	{ "4k da: truncate into the hole", &iw_fs_4k, LEAF_TRUNCATE,
	  KB(48) + 1000, true },
	{ "4k nd: truncate into the hole", &iw_fs_4k_nd, LEAF_TRUNCATE,
	  KB(48) + 1000, true },
};

KUNIT_ARRAY_PARAM_DESC(leaf_rows, leaf_rows, desc);

static void leaf_error_test(struct kunit *test)
{
	static const struct iw_es none[] = { {} };
	const struct leaf_row *r = test->param_value;
	struct iw_state st = { .es = none, .size = r->size,
			       .disksize = r->size };
	struct kunit_ramdisk_rule rule = {
		.ops = KUNIT_RAMDISK_READ, .nr_sectors = 8,
		.action = KUNIT_RAMDISK_FAIL, .status = BLK_STS_IOERR,
	};
	struct iw_bytes bytes[5];
	struct ext4_extent_header *eh;
	struct iw_ctx *c;
	loff_t pos = KB(48);
	ssize_t ret;
	char *buf;
	int i, id;

	c = iw_setup(test, r->fs, "file");
	iw_start(c, &(struct iw_start){});
	for (i = 0; i <= 8; i += 2)
		iw_write(test, c->file, KB(4) * i, KB(4));
	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, KB(64)), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	eh = (struct ext4_extent_header *)EXT4_I(c->inode)->i_data;
	KUNIT_ASSERT_EQ_MSG(test, le16_to_cpu(eh->eh_depth), 1,
			    "extent tree depth");
	buf = kunit_kzalloc(test, KB(4), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	rule.sector = ext4_idx_pblock(EXT_FIRST_INDEX(eh)) <<
		      (c->inode->i_blkbits - SECTOR_SHIFT);
	KUNIT_ASSERT_EQ(test, sync_blockdev(c->fs->sb->s_bdev), 0);
	invalidate_bdev(c->fs->sb->s_bdev);
	down_write(&EXT4_I(c->inode)->i_data_sem);
	ext4_es_remove_extent(c->inode, 0, EXT_MAX_BLOCKS);
	up_write(&EXT4_I(c->inode)->i_data_sem);
	ext4_kunit_read_counters(c->inode, &c->base);
	id = kunit_ramdisk_add_rule(c->fs->disk, &rule);
	KUNIT_ASSERT_GE(test, id, 0);

	switch (r->op) {
	case LEAF_READ:
		ret = kernel_read(c->file, buf, KB(4), &pos);
		break;
	case LEAF_WRITE:
		ret = kernel_write(c->file, buf, KB(4), &pos);
		break;
	case LEAF_TRUNCATE:
		ret = vfs_truncate(&c->file->f_path, r->size);
		break;
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, -EIO, "with the leaf unreadable");
	KUNIT_EXPECT_GT_MSG(test, kunit_ramdisk_remove_rule(c->fs->disk, id), 0,
			    "reads of the leaf failed");
	iw_check(c, "after the failed lookup", &st);
	if (r->fs_error)
		iw_expect_fs_error(c, "after the failed truncate");

	/* Blocks 0, 2, 4, 6 and 8 hold the data, the rest reads zeros. */
	for (i = 0; i < 5; i++)
		bytes[i] = (struct iw_bytes){ KB(8) * i, KB(8) * i + KB(4), 0x5a };
	if (r->op == LEAF_READ)
		iw_expect_bytes(c, "once the leaf reads again", bytes, 5);
	else
		iw_check_read_back_ranges(c, "once the leaf reads again",
					  bytes, 5);
	iw_cleanup_check(c);
}

/*
 * A write that needs a transaction once the journal has aborted (a
 * journal I/O error): ->iomap_begin without delalloc starts a handle to
 * allocate beyond EOF, ext4_journal_start() refuses it and the write
 * fails with -EROFS, allocating and changing nothing.
 */
static void aborted_journal_test(struct kunit *test)
{
	static const struct iw_es none[] = { {} };
	struct iw_state st = { .es = none };
	struct iw_ctx *c;
	loff_t pos = 0;
	ssize_t ret;
	char *buf;

	c = iw_setup(test, &iw_fs_1k_jnl_nd, "file");
	iw_start(c, &(struct iw_start){});
	buf = kunit_kzalloc(test, KB(4), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL_MSG(test, c->fs->sbi->s_journal, "no journal");
	jbd2_journal_abort(c->fs->sbi->s_journal, -EIO);
	ret = kernel_write(c->file, buf, KB(4), &pos);
	KUNIT_EXPECT_EQ_MSG(test, ret, -EROFS, "write with the journal aborted");
	iw_check(c, "after the refused write", &st);
	iw_expect_fs_error(c, "after the journal aborted");
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks, 0, "i_blocks");
}

/*
 * The data write held in flight by the disk: writeback allocated the
 * blocks unwritten (in the extent status tree and on disk) and i_disksize
 * has not moved. Completing the write converts exactly the range written
 * back and moves i_disksize to the end of the data, not beyond i_size.
 */
struct inflight_row {
	const char *desc;
	const struct iw_fs *fs;
	int falloc_mode;
	loff_t falloc_len;
	loff_t pos, len;
	/* While the write is in flight, and after it completed. */
	struct iw_es held[IW_MAX_ES];
	struct iw_es done[IW_MAX_ES];
	s64 free;
};

static const struct inflight_row inflight_rows[] = {
	{ "1k da: 3000 bytes", &iw_fs_1k, 0, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, { WR(0, 3), HO(3, END) }, -3 },
	{ "1k nd: 3000 bytes", &iw_fs_1k_nd, 0, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, { WR(0, 3), HO(3, END) }, -3 },
	{ "4k da: 5000 bytes", &iw_fs_4k, 0, 0, 0, 5000,
	  { UW(0, 2), HO(2, END) }, { WR(0, 2), HO(2, END) }, -2 },
	{ "1k bigalloc da: 3000 bytes", &iw_fs_1k_big, 0, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, { WR(0, 3), HO(3, END) }, -1 },
	{ "1k da: 1600 bytes into 8 preallocated beyond EOF", &iw_fs_1k,
	  FALLOC_FL_KEEP_SIZE, KB(8), 2000, 1600,
	  { UW(0, 8), HO(8, END) }, { UW(0, 1), WR(1, 3), UW(4, 4), HO(8, END) },
	  -8 },
};

KUNIT_ARRAY_PARAM_DESC(inflight_rows, inflight_rows, desc);

static void wb_inflight_test(struct kunit *test)
{
	const struct inflight_row *r = test->param_value;
	struct iw_state st = { .es = r->held, .free = r->free };
	struct address_space *mapping;
	struct folio *folio;
	struct iw_ctx *c;

	c = iw_setup(test, r->fs, "file");
	mapping = c->inode->i_mapping;
	iw_fill_stale(c);
	iw_start(c, &(struct iw_start){});
	if (r->falloc_len)
		KUNIT_ASSERT_EQ(test, vfs_fallocate(c->file, r->falloc_mode, 0,
						    r->falloc_len), 0);
	iw_write(test, c->file, r->pos, r->len);
	st.size = i_size_read(c->inode);
	KUNIT_ASSERT_EQ(test, st.size, r->pos + r->len);

	iw_data_rule(c, KUNIT_RAMDISK_HOLD, BLK_STS_OK);
	KUNIT_ASSERT_EQ(test, filemap_fdatawrite(mapping), 0);
	KUNIT_EXPECT_GT_MSG(test, kunit_ramdisk_nr_held(c->fs->disk), 0,
			    "data writes in flight");
	iw_check(c, "data write in flight", &st);
	iw_check_disk_extents(c, "data write in flight", r->held);
	folio = filemap_get_folio(mapping, r->pos >> PAGE_SHIFT);
	KUNIT_ASSERT_FALSE(test, IS_ERR(folio));
	KUNIT_EXPECT_TRUE_MSG(test, folio_test_writeback(folio),
			      "folio under writeback");
	folio_put(folio);

	KUNIT_EXPECT_GT(test, kunit_ramdisk_complete_held(c->fs->disk,
							  BLK_STS_OK), 0);
	KUNIT_EXPECT_EQ(test, filemap_fdatawait(mapping), 0);
	st.es = r->done;
	st.disksize = st.size;
	iw_check(c, "data write completed", &st);
	iw_check_disk_extents(c, "data write completed", r->done);
	iw_check_read_back(c, "data write completed", r->pos, r->pos + r->len,
			   0x5a);
	iw_cleanup_check(c);
}

/*
 * An old writeback error must not break a later truncate or extending
 * write. Blocks 0-3 are written and synced, then block 8's writeback fails
 * in the background (nobody has reported the error yet). Truncating to
 * 1000 bytes must succeed and remove blocks 1-8, a write beyond the new
 * EOF must succeed, the truncated range must read back as zeros, and the
 * error is still there for fsync to report, once.
 */
static void stale_error_test(struct kunit *test)
{
	const struct iw_fs *fs = *(const struct iw_fs **)test->param_value;
	static const struct iw_es es[] = {
		WR(0, 1), HO(1, 1), WR(2, 2), HO(4, END), {}
	};
	static const struct iw_bytes data[] = {
		{ 0, 1000, 0x5a }, { 3000, 3100, 0x5a },
	};
	struct iw_state st = { .es = es, .free = 1, .size = 3100,
			       .disksize = 3100 };
	struct address_space *mapping;
	struct iw_ctx *c;
	loff_t pos = 0;
	u8 *buf;
	int id;

	c = iw_setup(test, fs, "file");
	mapping = c->inode->i_mapping;
	iw_fill_stale(c);
	iw_start(c, &(struct iw_start){ 0, KB(4) });
	iw_write(test, c->file, KB(8), KB(1));
	id = iw_data_rule(c, KUNIT_RAMDISK_FAIL, BLK_STS_IOERR);
	KUNIT_ASSERT_EQ(test, filemap_fdatawrite(mapping), 0);
	filemap_fdatawait_keep_errors(mapping);
	KUNIT_EXPECT_GT_MSG(test, kunit_ramdisk_remove_rule(c->fs->disk, id), 0,
			    "data writes failed");

	KUNIT_EXPECT_EQ_MSG(test, vfs_truncate(&c->file->f_path, 1000), 0,
			    "truncate to 1000 after an old writeback error");
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks, 2,
			    "i_blocks after the truncate");
	buf = kunit_kmalloc(test, 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x5a, 100);
	pos = 3000;
	KUNIT_EXPECT_EQ_MSG(test, kernel_write(c->file, buf, 100, &pos), 100,
			    "write beyond EOF after an old writeback error");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), -EIO,
			    "fsync reports the old error");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), 0,
			    "second fsync");
	iw_check(c, "after truncate, write and fsync", &st);

	iw_check_read_back_ranges(c, "after truncate and write", data,
				  ARRAY_SIZE(data));
	iw_cleanup_check(c);
}

static const struct iw_fs *stale_error_fs[] = { &iw_fs_1k, &iw_fs_1k_nd };

KUNIT_ARRAY_PARAM(stale_error, stale_error_fs, iw_fs_desc);

static struct kunit_case ext4_iomap_error_test_cases[] = {
	KUNIT_CASE_PARAM(wb_error_test, wberr_rows_gen_params),
	KUNIT_CASE(wb_map_error_test),
	KUNIT_CASE_PARAM(leaf_error_test, leaf_rows_gen_params),
	KUNIT_CASE(aborted_journal_test),
	KUNIT_CASE_PARAM(wb_inflight_test, inflight_rows_gen_params),
	KUNIT_CASE_PARAM(stale_error_test, stale_error_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_error_test_suite = {
	.name = "ext4_iomap_error",
	.test_cases = ext4_iomap_error_test_cases,
};

kunit_test_suites(&ext4_iomap_error_test_suite);
