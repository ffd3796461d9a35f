// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ext4's iomap buffered I/O path when space runs out: the
 * suite ext4_iomap_enospc, on the fixture and helpers of
 * iomap-write-test.c (iomap-write-test.h), which enforce the same state
 * after every step (the extent status tree, the reservation counters, the
 * data read back).
 *
 * ENOSPC is made by really filling the file system. What is checked: a
 * write that does not fit fails without leaking its reservation, or
 * writes what fits; the retry through ext4_should_retry_alloc() frees
 * space for real (blocks freed by a transaction that has not committed
 * yet) and through a static stub; delayed allocation is switched off near
 * full; writeback's allocation and the unwritten conversion at I/O
 * completion never fail for blocks the write was granted, also right
 * after an unlink freed them; a new quota structure finds its blocks.
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

/**
 * iw_retry_stub() - Stands in for ext4_should_retry_alloc().
 * @sb: The super block.
 * @retries: Unused; the stub keeps its own count in the case.
 *
 * Counts the calls; on the first, makes c->retry_frees more clusters
 * available by lowering s_resv_clusters.
 *
 * Return: 1 (retry) if it made space available, else 0.
 */
static int iw_retry_stub(struct super_block *sb, int *retries)
{
	struct kunit *test = kunit_get_current_test();
	struct iw_ctx *c = test->priv;

	c->retry_calls++;
	if (c->retry_frees) {
		atomic64_sub(c->retry_frees, &EXT4_SB(sb)->s_resv_clusters);
		c->retry_frees = 0;
		return 1;
	}
	return 0;
}

/*
 * One ENOSPC case: a 3-block write at 0 to an empty file with @headroom
 * clusters left; with @stub, ext4_should_retry_alloc() is replaced by a
 * stub that makes @retry_frees more clusters available on its first call
 * and says "retry", and says "no" after that. Everything that is mapped
 * is copied.
 */
struct enospc_row {
	const char *desc;
	const struct iw_fs *fs;
	s64 headroom;
	bool stub;
	s64 retry_frees;
	/* As iomap_page_mkwrite() calls the ops. */
	bool fault;
	/* Expected. */
	int ret;
	int retry_calls;
	u16 type;
	loff_t map_len;
	struct iw_es es[IW_MAX_ES];
	unsigned int reserved;
	s64 dirty, free;
};

static const struct enospc_row enospc_rows[] = {
	{ "da: 3 clusters left, 3 asked", &iw_fs_1k, 3,
	  .type = IOMAP_DELALLOC, .map_len = KB(3),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 3, .dirty = 3 },
	/*
	 * What does not fit as a whole is reserved in smaller parts, down to
	 * a block: the write copies what fits (3 -> 1 block here; iomap maps
	 * the rest again, see enospc_short_write_test).
	 */
	{ "da: 2 clusters left, 3 asked", &iw_fs_1k, 2,
	  .type = IOMAP_DELALLOC, .map_len = KB(1),
	  .es = { DA(0, 1), HO(1, END) }, .reserved = 1, .dirty = 1 },
	{ "da: full, no journal to wait for", &iw_fs_1k, 0, .ret = -ENOSPC,
	  .es = { HO(0, END) } },
	{ "da: full, journal, nothing being freed", &iw_fs_1k_jnl, 0,
	  .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "da: full, retry frees 3", &iw_fs_1k, 0, true, 3,
	  .retry_calls = 1, .type = IOMAP_DELALLOC, .map_len = KB(3),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 3, .dirty = 3 },
	/*
	 * A write fault needs the whole folio and does not punch what it
	 * reserved when it fails: it reserves all or nothing.
	 */
	{ "da fault: 2 clusters left, 3 asked", &iw_fs_1k, 2, .fault = true,
	  .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "da: full, retry frees 2", &iw_fs_1k, 0, true, 2,
	  .retry_calls = 2, .type = IOMAP_DELALLOC, .map_len = KB(1),
	  .es = { DA(0, 1), HO(1, END) }, .reserved = 1, .dirty = 1 },
	{ "nd: 3 clusters left, 3 asked", &iw_fs_1k_nd, 3,
	  .type = IOMAP_UNWRITTEN, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3 },
	{ "nd: 1 cluster left, 3 asked", &iw_fs_1k_nd, 1,
	  .type = IOMAP_UNWRITTEN, .map_len = KB(1),
	  .es = { UW(0, 1), HO(1, END) }, .free = -1 },
	{ "nd: full", &iw_fs_1k_nd, 0, .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "nd: full, journal, nothing being freed", &iw_fs_1k_jnl_nd, 0,
	  .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "nd: full, retry frees 3", &iw_fs_1k_nd, 0, true, 3,
	  .retry_calls = 1, .type = IOMAP_UNWRITTEN, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3 },
	{ "nd: full, retry frees nothing", &iw_fs_1k_nd, 0, true, 0,
	  .ret = -ENOSPC, .retry_calls = 1, .es = { HO(0, END) } },
	{ "4k bigalloc da: 0 clusters left", &iw_fs_4k_big, 0, .ret = -ENOSPC,
	  .es = { HO(0, END) } },
	{ "4k bigalloc da: 1 cluster left, 3 blocks asked", &iw_fs_4k_big, 1,
	  .type = IOMAP_DELALLOC, .map_len = KB(12),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 1, .dirty = 1 },
};

KUNIT_ARRAY_PARAM_DESC(enospc_rows, enospc_rows, desc);

static void enospc_row_test(struct kunit *test)
{
	const struct enospc_row *r = test->param_value;
	struct iw_state st = { .es = r->es, .reserved = r->reserved,
			       .dirty = r->dirty, .free = r->free };
	loff_t len = 3LL * r->fs->mkfs.block_size;
	struct iw_ctx *c;
	struct iomap iomap;
	int ret;

	c = iw_setup(test, r->fs, "file");
	iw_fill(c, r->headroom, r->retry_frees);
	iw_start(c, &(struct iw_start){});
	if (r->stub) {
		c->retry_frees = r->retry_frees;
		kunit_activate_static_stub(test, ext4_should_retry_alloc,
					   iw_retry_stub);
	}

	/* All that is mapped is copied: ->iomap_end has nothing to undo. */
	ret = iw_drive_flags(c, iw_ops(r->fs), 0, len, ALL_MAPPED,
			     IOMAP_WRITE | (r->fault ? IOMAP_FAULT : 0), &iomap);
	KUNIT_EXPECT_EQ_MSG(test, ret, r->ret, "->iomap_begin");
	if (r->stub) {
		kunit_deactivate_static_stub(test, ext4_should_retry_alloc);
		KUNIT_EXPECT_EQ_MSG(test, c->retry_calls, r->retry_calls,
				    "ext4_should_retry_alloc() calls");
	}
	if (!ret) {
		KUNIT_EXPECT_EQ(test, iomap.type, r->type);
		KUNIT_EXPECT_TRUE(test, iomap.flags & IOMAP_F_NEW);
		KUNIT_EXPECT_EQ(test, iomap.length, r->map_len);
	}
	if (!ret) {
		st.size = r->map_len;
		st.dirty_pages = BIT(DIV_ROUND_UP(r->map_len, IW_UNIT)) - 1;
	}
	iw_check(c, ret ? "after ENOSPC" : "after the write", &st);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_cleanup_check(c);
}

/*
 * A real retry: blocks freed by a transaction that has not committed yet
 * cannot be allocated, ext4_should_retry_alloc() sees them pending, forces
 * the commit, and the allocation succeeds on the next try.
 */
static void enospc_retry_commit_test(struct kunit *test)
{
	struct iw_state st = {
		.es = (const struct iw_es[]){ UW(0, 3), HO(3, END), {} },
		.free = 8 - 3,
	};
	struct ext4_sb_info *sbi;
	struct file *filler;
	struct iomap iomap;
	struct iw_ctx *c;
	tid_t committed;
	int ret;

	c = iw_setup(test, &iw_fs_1k_jnl_nd, "file");
	sbi = c->fs->sbi;
	iw_fill(c, 0, 0);
	iw_start(c, &(struct iw_start){});

	/* Free 8 blocks in the running transaction. */
	filler = iw_open(c, "filler");
	ret = vfs_truncate(&filler->f_path,
			   i_size_read(file_inode(filler)) - KB(8));
	iw_close(filler);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_GT_MSG(test, atomic_read(&sbi->s_mb_free_pending), 0,
			    "the freed blocks are not pending a commit");
	committed = READ_ONCE(sbi->s_journal->j_commit_sequence);

	KUNIT_ASSERT_EQ(test, iw_drive(c, &ext4_iomap_buffered_write_ops, 0,
				       KB(3), 0, &iomap), 0);
	KUNIT_EXPECT_NE_MSG(test, READ_ONCE(sbi->s_journal->j_commit_sequence),
			    committed, "no commit was forced");
	KUNIT_EXPECT_EQ(test, atomic_read(&sbi->s_mb_free_pending), 0);
	KUNIT_EXPECT_EQ(test, iomap.type, IOMAP_UNWRITTEN);
	KUNIT_EXPECT_EQ(test, iomap.length, KB(3));
	iw_check(c, "after the retried allocation", &st);

	/* The 8 blocks of the filler stay free after the cleanup. */
	c->zero.free_clusters += 8;
	iw_cleanup_check(c);
}

/*
 * Near full, a write through ->write_iter stops using delayed allocation
 * (ext4_nonda_switch()): the new blocks are allocated unwritten, with no
 * reservation.
 */
static void nonda_switch_test(struct kunit *test)
{
	struct iw_state st = {
		.es = (const struct iw_es[]){ WR(0, 1), HO(1, 1), UW(2, 1),
					      HO(3, END), {} },
		.size = KB(3), .disksize = KB(1), .dirty_pages = PG(0),
	};
	struct ext4_kunit_counters first;
	struct file *other, *filler;
	struct ext4_sb_info *sbi;
	struct iw_ctx *c;
	s64 free;

	c = iw_setup(test, &iw_fs_1k, "file");
	sbi = c->fs->sbi;
	other = ext4_kunit_create_file(test, c->fs->mnt, "other");
	filler = ext4_kunit_create_file(test, c->fs->mnt, "filler");
	ext4_kunit_read_counters(c->inode, &first);

	/* Plenty of space: delalloc. */
	iw_write(test, c->file, 0, KB(1));
	KUNIT_EXPECT_EQ(test, EXT4_I(c->inode)->i_reserved_data_blocks, 1);
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);

	/*
	 * Leave 600 clusters free and dirty 500 of them in one write (the
	 * switch is decided once per write call): free is then below 150%
	 * of dirty.
	 */
	free = percpu_counter_sum(&sbi->s_freeclusters_counter);
	KUNIT_ASSERT_EQ(test, vfs_fallocate(filler, 0, 0, KB(free - 600)), 0);
	iw_write(test, other, 0, KB(500));
	KUNIT_ASSERT_EQ(test, EXT4_I(file_inode(other))->i_reserved_data_blocks,
			500);

	/* This write pushes the other file's data out and allocates. */
	iw_start(c, &(struct iw_start){});
	iw_write(test, c->file, KB(2), KB(1));
	KUNIT_EXPECT_EQ_MSG(test,
			    EXT4_I(file_inode(other))->i_reserved_data_blocks,
			    0, "delalloc of the other file was not written");
	c->base.dirty_clusters -= 500;
	c->base.free_clusters -= 500;
	st.free = -1;
	iw_check(c, "after a write near full", &st);

	KUNIT_ASSERT_EQ(test, vfs_truncate(&other->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&filler->f_path, 0), 0);
	c->zero = first;
	iw_cleanup_check(c);
}

/*
 * Writeback near ENOSPC.  A delalloc write that returned has its space
 * reserved, so writeback must not fail for lack of space: when the space
 * left is only there because another file's blocks were freed in a
 * transaction that has not committed yet (they count as free at once,
 * mballoc hands them out only after the commit), writeback must wait for
 * that commit rather than lose the data.  When the space is really gone
 * the write itself fails (or comes up short), and what it did write is
 * written back.
 *
 * The file system is filled to @headroom free clusters, @freed clusters
 * of the filler are then truncated away (commit=600: the transaction does
 * not commit by itself), and one write of @len bytes at 0 follows, then
 * fsync.  Expected: the write returns @ret, fsync 0, the mapped extents
 * (holes aside) @es, no reservation or dirty cluster left, the free
 * clusters down by what was written, the data read back after the page
 * cache is dropped, and every counter at its baseline after a truncate.
 */
struct wb_enospc_row {
	const char *desc;
	const struct iw_fs *fs;
	s64 headroom, freed;
	loff_t len;
	/* Expected. */
	ssize_t ret;
	struct iw_es es[IW_MAX_ES];
};

static const struct wb_enospc_row wb_enospc_rows[] = {
	{ "1k da: 3 blocks freed, not committed, 3 written", &iw_fs_1k_jnl,
	  0, 3, KB(3), KB(3), { WR(0, 3) } },
	{ "4k da: 3 blocks freed, not committed, 3 written", &iw_fs_4k_jnl,
	  0, 3, KB(12), KB(12), { WR(0, 3) } },
	{ "1k da: 1 free, 2 freed, not committed, 3 written", &iw_fs_1k_jnl,
	  1, 2, KB(3), KB(3), { WR(0, 3) } },
	/* The third block fails at write time; writeback writes two. */
	{ "1k da: 2 freed, not committed, 3 asked: short write", &iw_fs_1k_jnl,
	  0, 2, KB(3), KB(2), { WR(0, 2) } },
	{ "1k da: nothing free: the write fails", &iw_fs_1k_jnl, 0, 0, KB(3),
	  -ENOSPC, {} },
};

KUNIT_ARRAY_PARAM_DESC(wb_enospc_rows, wb_enospc_rows, desc);

/* unlink(2) of @name in the root directory of the case's file system. */
static int iw_unlink(struct iw_ctx *c, const char *name)
{
	struct dentry *root = c->fs->mnt->mnt_root, *dentry;
	int ret;

	ret = mnt_want_write(c->fs->mnt);
	if (ret)
		return ret;
	dentry = start_removing(&nop_mnt_idmap, root, &QSTR(name));
	if (IS_ERR(dentry)) {
		ret = PTR_ERR(dentry);
	} else {
		ret = vfs_unlink(&nop_mnt_idmap, d_inode(root), dentry, NULL);
		end_removing(dentry);
	}
	mnt_drop_write(c->fs->mnt);
	return ret;
}

static void wb_enospc_test(struct kunit *test)
{
	const struct wb_enospc_row *r = test->param_value;
	loff_t written = max_t(ssize_t, r->ret, 0);
	s64 blocks = written / r->fs->mkfs.block_size;
	struct ext4_sb_info *sbi;
	struct file *filler;
	struct iw_ctx *c;
	loff_t pos = 0;
	ssize_t ret;
	u8 *buf;

	c = iw_setup(test, r->fs, "file");
	sbi = c->fs->sbi;
	iw_fill(c, r->headroom, 0);
	iw_start(c, &(struct iw_start){});
	if (r->freed) {
		filler = iw_open(c, "filler");
		ret = vfs_truncate(&filler->f_path,
				   i_size_read(file_inode(filler)) -
				   (EXT4_C2B(sbi, r->freed) << c->inode->i_blkbits));
		iw_close(filler);
		KUNIT_ASSERT_EQ(test, ret, 0);
		KUNIT_ASSERT_GT_MSG(test, atomic_read(&sbi->s_mb_free_pending),
				    0, "the freed blocks are not pending a commit");
		c->zero.free_clusters += r->freed;
		ext4_kunit_read_counters(c->inode, &c->base);
	}

	buf = kunit_kmalloc(test, r->len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x5a, r->len);
	ret = kernel_write(c->file, buf, r->len, &pos);
	KUNIT_EXPECT_EQ_MSG(test, ret, r->ret, "write of %lld bytes", r->len);
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), 0,
			    "fsync: writeback lost data the write accepted");

	iw_expect_mapped(c, "after fsync", r->es);
	iw_check_counters(c, "after fsync", 0, 0, -EXT4_B2C(sbi, blocks));
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(c->inode), written,
			    "after fsync: i_size");
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(c->inode)->i_disksize, written,
			    "after fsync: i_disksize");
	iw_check_read_back(c, "after fsync", 0, written, 0x5a);
	iw_cleanup_check(c);
}

/*
 * A new owner's quota structures on a file system with no free block but
 * those an unlink freed in the running transaction: chown needs quota
 * tree blocks for the new user and group, and must get them (the commit
 * that makes the freed blocks allocatable may have to be forced).  When
 * the space is really gone, chown fails with -ENOSPC and changes nothing;
 * in neither case may ext4 record an error of the file system (the
 * fixture's unmount fails the case if it did).
 */
struct quota_grow_row {
	const char *desc;
	/* Clusters a file allocates, commits and unlinks before the chown. */
	s64 freed;
};

static const struct quota_grow_row quota_grow_rows[] = {
	{ "1k nd: 16 clusters freed, not committed", 16 },
	{ "1k nd: no space", 0 },
};

KUNIT_ARRAY_PARAM_DESC(quota_grow_rows, quota_grow_rows, desc);

static void quota_grow_test(struct kunit *test)
{
	const struct quota_grow_row *r = test->param_value;
	const u32 id = 0x01000001;	/* a new top byte: new tree blocks */
	struct iattr attr = { .ia_valid = ATTR_UID | ATTR_GID };
	struct ext4_sb_info *sbi;
	struct dquot *dquot __maybe_unused;
	struct iw_ctx *c;
	struct file *f;
	int ret;

	if (!IS_ENABLED(CONFIG_QUOTA) || !IS_ENABLED(CONFIG_QFMT_V2))
		kunit_skip(test, "needs CONFIG_QUOTA and CONFIG_QFMT_V2");
	c = iw_setup(test, &iw_fs_1k_jnl_quota_nd, "file");
	sbi = c->fs->sbi;
	iw_fill(c, r->freed, 0);
	if (r->freed) {
		f = iw_open(c, "victim");
		ret = vfs_fallocate(f, 0, 0, EXT4_C2B(sbi, r->freed) <<
				    c->inode->i_blkbits);
		if (!ret)
			ret = vfs_fsync(f, 0);
		iw_close(f);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "allocating the victim");
		KUNIT_ASSERT_EQ(test, iw_unlink(c, "victim"), 0);
		KUNIT_ASSERT_EQ_MSG(test, atomic_read(&sbi->s_mb_free_pending),
				    r->freed, "freed, pending a commit");
	}
	KUNIT_ASSERT_EQ(test, percpu_counter_sum(&sbi->s_freeclusters_counter),
			r->freed);

	attr.ia_vfsuid = VFSUIDT_INIT(make_kuid(&init_user_ns, id));
	attr.ia_vfsgid = VFSGIDT_INIT(make_kgid(&init_user_ns, id));
	inode_lock(c->inode);
	ret = notify_change(&nop_mnt_idmap, c->file->f_path.dentry, &attr, NULL);
	inode_unlock(c->inode);
	if (!r->freed) {
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOSPC, "chown with no space");
		KUNIT_EXPECT_TRUE_MSG(test, uid_eq(c->inode->i_uid, GLOBAL_ROOT_UID),
				      "the owner changed by a failed chown");
		return;
	}
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "chown");
	KUNIT_EXPECT_EQ(test, from_kuid(&init_user_ns, c->inode->i_uid), id);
#ifdef CONFIG_QUOTA
	/* The new owner is charged the file's inode. */
	dquot = dqget(c->fs->sb, make_kqid_uid(c->inode->i_uid));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dquot);
	KUNIT_EXPECT_EQ_MSG(test, dquot->dq_dqb.dqb_curinodes, 1,
			    "inodes charged to the new owner");
	dqput(dquot);
#endif
}

/*
 * The unwritten extent conversion at writeback completion near ENOSPC.
 * Converting part of an unwritten extent splits it, and when the inode's
 * extent tree is full the split needs a new tree block.  With the only
 * free blocks freed by a transaction that has not committed yet, that
 * allocation must wait for the commit rather than fail: a failed
 * conversion leaves the written data behind an unwritten extent, which
 * reads back as zeroes.
 *
 * nodelalloc, 1k blocks: three one-block extents written and synced at
 * blocks 0, 2 and 4, then 8 blocks written at block 10 (one unwritten
 * extent: four in all, as many as the inode holds); the file system is
 * then filled, 2 blocks of the filler freed in the running transaction,
 * and only the page of blocks 12-15 written back.  On 4 KiB pages that
 * splits the extent in three; on larger pages the folio covers the
 * whole extent and no split is needed, which the case checks just the
 * same.
 */
static void conv_enospc_test(struct kunit *test)
{
	static const struct iw_es synced[] = {
		WR(0, 1), WR(2, 1), WR(4, 1), WR(10, 8), {}
	};
	struct ext4_sb_info *sbi;
	struct file *filler;
	struct iw_ctx *c;
	loff_t start;
	int ret, i;

	c = iw_setup(test, &iw_fs_1k_jnl_nd, "file");
	sbi = c->fs->sbi;
	iw_start(c, &(struct iw_start){});
	for (i = 0; i <= 4; i += 2)
		iw_write(test, c->file, KB(i), KB(1));
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_write(test, c->file, KB(10), KB(8));
	KUNIT_ASSERT_EQ(test, EXT4_I(c->inode)->i_disksize, KB(5));

	iw_fill(c, 0, 0);
	filler = iw_open(c, "filler");
	ret = vfs_truncate(&filler->f_path,
			   i_size_read(file_inode(filler)) - KB(2));
	iw_close(filler);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_GT_MSG(test, atomic_read(&sbi->s_mb_free_pending), 0,
			    "the freed blocks are not pending a commit");

	start = round_down(KB(12), PAGE_SIZE);
	KUNIT_EXPECT_EQ_MSG(test,
			    filemap_write_and_wait_range(c->inode->i_mapping,
							 start, start + PAGE_SIZE - 1),
			    0, "writeback of the page of block 12");
	KUNIT_EXPECT_EQ_MSG(test, vfs_fsync(c->file, 0), 0,
			    "fsync: data written back but not converted");
	iw_expect_mapped(c, "after fsync", synced);
	iw_check_read_back_ranges(c, "after fsync", (const struct iw_bytes[]){
		{ 0, KB(1), 0x5a }, { KB(2), KB(3), 0x5a },
		{ KB(4), KB(5), 0x5a }, { KB(10), KB(18), 0x5a } }, 4);
	/* The filler stays: what is free in the end is the 2 + 11 blocks. */
	c->zero.free_clusters = 2 + 11;
	iw_cleanup_check(c);
}

/*
 * Unlink and eviction of an inode with dirty delayed data near ENOSPC:
 * everything it reserved and everything it had allocated comes back,
 * exactly once, whether the last reference goes before writeback, while
 * it is in flight, or after the name went with the file closed.  The
 * victim has @synced blocks written and synced, then @dirty more blocks
 * written and left dirty, on a file system with @headroom clusters free
 * beyond them.  Checked: while the victim lives, its reservation (and the
 * quota reservation with it) and i_blocks; after its eviction, the file
 * system's dirty and free cluster counters at their values from before
 * the victim was created; then a write of all that free space to another
 * file succeeds and is written back (fsync 0), so that none of it is
 * counted free without being allocatable.
 */
enum iw_unlink_how {
	UNLINK_OPEN,		/* unlink with the file open, then close */
	UNLINK_WRITEBACK,	/* start writeback, unlink, close at once */
	UNLINK_CLOSED,		/* close, then unlink */
};

struct unlink_row {
	const char *desc;
	const struct iw_fs *fs;
	s64 headroom;
	unsigned int synced, dirty;
	enum iw_unlink_how how;
};

static const struct unlink_row unlink_rows[] = {
	{ "1k da: dirty, unlinked open", &iw_fs_1k_jnl, 8, 4, 6, UNLINK_OPEN },
	{ "1k da: dirty, writeback started, unlinked", &iw_fs_1k_jnl, 8, 4, 6,
	  UNLINK_WRITEBACK },
	{ "1k da: dirty, closed, unlinked", &iw_fs_1k_jnl, 8, 4, 6,
	  UNLINK_CLOSED },
	{ "4k da: dirty, unlinked open", &iw_fs_4k_jnl, 8, 2, 5, UNLINK_OPEN },
	{ "4k da: dirty, writeback started, unlinked", &iw_fs_4k_jnl, 8, 2, 5,
	  UNLINK_WRITEBACK },
	{ "1k nd: dirty, unlinked open", &iw_fs_1k_jnl_nd, 8, 4, 6,
	  UNLINK_OPEN },
	{ "4k nd: dirty, writeback started, unlinked", &iw_fs_4k_jnl_nd, 8, 2,
	  5, UNLINK_WRITEBACK },
};

KUNIT_ARRAY_PARAM_DESC(unlink_rows, unlink_rows, desc);

static void unlink_dirty_test(struct kunit *test)
{
	const struct unlink_row *r = test->param_value;
	struct ext4_kunit_counters before, now;
	unsigned int bsize = r->fs->mkfs.block_size;
	unsigned int all = r->synced + r->dirty;
	struct inode *vinode;
	struct file *victim;
	struct iw_ctx *c;
	s64 quota;
	int ret;

	c = iw_setup(test, r->fs, "file");
	iw_fill(c, r->headroom + all, 0);
	ext4_kunit_read_counters(c->inode, &before);

	victim = iw_open(c, "victim");
	vinode = file_inode(victim);
	iw_write(test, victim, 0, (loff_t)r->synced * bsize);
	KUNIT_ASSERT_EQ(test, vfs_fsync(victim, 0), 0);
	iw_write(test, victim, (loff_t)r->synced * bsize,
		 (loff_t)r->dirty * bsize);

	/*
	 * While it lives, every block it was given is either allocated
	 * (i_blocks, taken from the free clusters) or reserved (delayed
	 * allocation: i_reserved_data_blocks, the quota reservation and the
	 * dirty clusters), whichever the write chose: near full on an SMP
	 * kernel, fewer free clusters than EXT4_FREECLUSTERS_WATERMARK make
	 * it allocate (ext4_nonda_switch()).
	 */
	ext4_kunit_read_counters(vinode, &now);
	quota = IS_ENABLED(CONFIG_QUOTA) ?
		(s64)now.reserved_data_blocks * bsize : 0;
	KUNIT_EXPECT_EQ_MSG(test, (u64)vinode->i_blocks / (bsize >> 9) +
			    now.reserved_data_blocks, (u64)all,
			    "victim: blocks allocated (i_blocks) + reserved");
	KUNIT_EXPECT_EQ_MSG(test, now.reserved_quota, quota,
			    "victim: quota reservation (bytes)");
	KUNIT_EXPECT_EQ_MSG(test, now.dirty_clusters - before.dirty_clusters,
			    (s64)now.reserved_data_blocks,
			    "victim written: dirty clusters delta");
	KUNIT_EXPECT_EQ_MSG(test, now.free_clusters - before.free_clusters,
			    -(s64)(vinode->i_blocks / (bsize >> 9)),
			    "victim written: free clusters delta");
	if (!r->fs->delalloc)
		KUNIT_EXPECT_EQ_MSG(test, now.reserved_data_blocks, 0,
				    "victim: reserved without delalloc");

	switch (r->how) {
	case UNLINK_WRITEBACK:
		KUNIT_ASSERT_EQ(test, filemap_fdatawrite(vinode->i_mapping),
				0);
		fallthrough;
	case UNLINK_OPEN:
		KUNIT_ASSERT_EQ(test, iw_unlink(c, "victim"), 0);
		iw_close(victim);
		break;
	case UNLINK_CLOSED:
		iw_close(victim);
		KUNIT_ASSERT_EQ(test, iw_unlink(c, "victim"), 0);
		break;
	}
	/* The inode is gone once nothing holds it. */
	ext4_kunit_read_counters(c->inode, &now);
	KUNIT_EXPECT_EQ_MSG(test, now.dirty_clusters, before.dirty_clusters,
			    "after eviction: dirty clusters");
	KUNIT_EXPECT_EQ_MSG(test, now.free_clusters, before.free_clusters,
			    "after eviction: free clusters");

	/* All of the free space is there to be written, and written back. */
	c->zero = before;
	iw_start(c, &(struct iw_start){});
	iw_write(test, c->file, 0, (loff_t)(r->headroom + all) * bsize);
	ret = vfs_fsync(c->file, 0);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "fsync of the space the victim freed");
	iw_check_counters(c, "after fsync", 0, 0, -(r->headroom + all));
	iw_check_read_back(c, "after fsync", 0,
			   (loff_t)(r->headroom + all) * bsize, 0x5a);
	iw_cleanup_check(c);
}

/*
 * A write fault near full: once free space is low enough that writes stop
 * using delayed allocation (ext4_nonda_switch()), so do faults through a
 * shared mapping; the fault's blocks are allocated, with no reservation
 * left behind, the data is written back by fsync and reads back, and every
 * counter comes back to its baseline.  Checked like nonda_switch_test:
 * 700 clusters free, 500 of them reserved by another file's dirty data,
 * which the switch pushes out first; what is left beyond the reserved
 * pool (s_resv_clusters, 40 here) still holds the faulting folio's blocks
 * on 64 KiB pages (64 of them).
 */
static void mmap_nonda_test(struct kunit *test)
{
	static const struct iw_es faulted[] = { UW(0, P1), {} };
	static const struct iw_es synced[] = { WR(0, P1), {} };
	const size_t n = 333;
	char data[333];
	struct ext4_kunit_counters first;
	struct file *other, *filler;
	struct ext4_sb_info *sbi;
	unsigned long addr;
	struct iw_ctx *c;
	s64 free;

	c = iw_setup(test, &iw_fs_1k, "file");
	sbi = c->fs->sbi;
	other = ext4_kunit_create_file(test, c->fs->mnt, "other");
	filler = ext4_kunit_create_file(test, c->fs->mnt, "filler");
	ext4_kunit_read_counters(c->inode, &first);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, PAGE_SIZE), 0);

	free = percpu_counter_sum(&sbi->s_freeclusters_counter);
	KUNIT_ASSERT_EQ(test, vfs_fallocate(filler, 0, 0, KB(free - 700)), 0);
	iw_write(test, other, 0, KB(500));
	KUNIT_ASSERT_EQ(test, EXT4_I(file_inode(other))->i_reserved_data_blocks,
			500);

	memset(data, 0x5a, n);
	iw_start(c, &(struct iw_start){});
	addr = iw_mmap(c, PAGE_SIZE);
	KUNIT_ASSERT_EQ_MSG(test, copy_to_user((void __user *)(addr + 100),
					       data, n), 0, "fault at 100");
	KUNIT_EXPECT_EQ_MSG(test,
			    EXT4_I(file_inode(other))->i_reserved_data_blocks,
			    0, "delalloc of the other file was not written");
	c->base.dirty_clusters -= 500;
	c->base.free_clusters -= 500;
	/*
	 * The folio's blocks are allocated (unwritten until written back),
	 * nothing is reserved.
	 */
	iw_expect_mapped(c, "after the fault", faulted);
	iw_check_counters(c, "after the fault", 0, 0, -P1);
	KUNIT_EXPECT_EQ(test, c->inode->i_blocks, (blkcnt_t)P1 * 2);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_expect_mapped(c, "after fsync", synced);
	iw_check_counters(c, "after fsync", 0, 0, -P1);
	iw_check_read_back(c, "after fsync", 100, 100 + n, 0x5a);

	KUNIT_ASSERT_EQ(test, vfs_truncate(&other->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&filler->f_path, 0), 0);
	c->zero = first;
	iw_cleanup_check(c);
}

/*
 * A write larger than the free space copies what fits and returns that
 * short count, as on the buffer_head path: through the delalloc ops
 * directly (the reservation of a hole is made in smaller parts when it
 * does not fit as a whole) and through ->write_iter (which near full may
 * also switch to allocating without delalloc). @headroom clusters are
 * free; the write asks for 3 clusters more.
 */
struct short_row {
	const char *desc;
	const struct iw_fs *fs;
	s64 headroom;
	bool write_iter;
};

static const struct short_row short_rows[] = {
	{ "1k da ops: 5 clusters free, 8 asked", &iw_fs_1k, 5 },
	{ "1k write(2): 5 clusters free, 8 asked", &iw_fs_1k, 5, true },
	{ "1k nd write(2): 5 clusters free, 8 asked", &iw_fs_1k_nd, 5, true },
	{ "4k da ops: 3 clusters free, 6 asked", &iw_fs_4k, 3 },
	{ "1k bigalloc da ops: 2 clusters free, 5 asked", &iw_fs_1k_big, 2 },
};

KUNIT_ARRAY_PARAM_DESC(short_rows, short_rows, desc);

static void enospc_short_write_test(struct kunit *test)
{
	const struct short_row *r = test->param_value;
	loff_t cluster;
	struct ext4_kunit_counters now;
	struct iw_ctx *c;
	loff_t fits, len;
	ssize_t ret;
	char *buf;

	c = iw_setup(test, r->fs, "file");
	cluster = (loff_t)r->fs->mkfs.block_size *
		  (r->fs->mkfs.cluster_ratio ?: 1);
	fits = r->headroom * cluster;
	len = fits + 3 * cluster;
	iw_fill(c, r->headroom, 0);
	iw_start(c, &(struct iw_start){});

	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x5a, len);
	if (r->write_iter) {
		loff_t pos = 0;

		ret = kernel_write(c->file, buf, len, &pos);
	} else {
		struct kvec kvec = { .iov_base = buf, .iov_len = len };
		struct iov_iter iter;
		struct kiocb kiocb;

		iov_iter_kvec(&iter, ITER_SOURCE, &kvec, 1, len);
		init_sync_kiocb(&kiocb, c->file);
		sb_start_write(c->inode->i_sb);
		inode_lock(c->inode);
		ret = iomap_file_buffered_write(&kiocb, &iter,
						&ext4_iomap_buffered_da_write_ops,
						&ext4_iomap_write_ops, NULL);
		inode_unlock(c->inode);
		sb_end_write(c->inode->i_sb);
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, fits, "write of %lld bytes returned",
			    len);
	KUNIT_EXPECT_EQ(test, i_size_read(c->inode), fits);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	ext4_kunit_read_counters(c->inode, &now);
	KUNIT_EXPECT_EQ_MSG(test, now.free_clusters, 0,
			    "free clusters after fsync");
	KUNIT_EXPECT_EQ(test, now.reserved_data_blocks, 0);
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks,
			    fits >> SECTOR_SHIFT, "i_blocks after fsync");
	iw_check_read_back(c, "after fsync", 0, fits, 0x5a);
	iw_cleanup_check(c);
}

static struct kunit_case ext4_iomap_enospc_test_cases[] = {
	KUNIT_CASE_PARAM(enospc_row_test, enospc_rows_gen_params),
	KUNIT_CASE(enospc_retry_commit_test),
	KUNIT_CASE(nonda_switch_test),
	KUNIT_CASE_PARAM(wb_enospc_test, wb_enospc_rows_gen_params),
	KUNIT_CASE(conv_enospc_test),
	KUNIT_CASE_PARAM(quota_grow_test, quota_grow_rows_gen_params),
	KUNIT_CASE_PARAM(unlink_dirty_test, unlink_rows_gen_params),
	KUNIT_CASE(mmap_nonda_test),
	KUNIT_CASE_PARAM(enospc_short_write_test, short_rows_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_enospc_test_suite = {
	.name = "ext4_iomap_enospc",
	.test_cases = ext4_iomap_enospc_test_cases,
};

kunit_test_suites(&ext4_iomap_enospc_test_suite);
