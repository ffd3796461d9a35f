// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of ext4's iomap buffered write path: the ->iomap_begin and
 * ->iomap_end of ext4_iomap_buffered_da_write_ops (delayed allocation) and
 * ext4_iomap_buffered_write_ops (blocks allocated unwritten), and the
 * ->iomap_valid of ext4_iomap_write_ops, on a real ext4 formatted and
 * mounted in memory (kunit-fixture.c) with the "buffered_iomap" option.
 *
 * What is enforced, after every step of every case:
 *  - the inode's whole extent status tree: each entry's first block,
 *    length and status (delayed, unwritten, written, hole), nothing more
 *    and nothing less;
 *  - i_reserved_data_blocks, and the quota reservation that goes with it
 *    (tracked by the VFS even when quota is off, if CONFIG_QUOTA is set);
 *  - the dirty and free cluster counters of the file system, as exact
 *    deltas from the state just before the write;
 *  - i_size, i_disksize and which pages of the file are dirty;
 *  - i_es_seq moves exactly when a delayed, unwritten or written entry
 *    of the tree was added, changed or removed (caching a hole is not a
 *    change);
 *  - after fsync, the extents are written and the only space still used
 *    is the data's, and after truncating the file to zero every counter
 *    is back where it was before the case wrote anything: a leaked or
 *    doubly released reservation fails the case.
 *
 * The write_rows table drives ->iomap_begin and ->iomap_end directly, the
 * way iomap_iter() does, and copies in between exactly as many bytes as
 * the row says, through iomap's own write loop on a mapping replayed from
 * ->iomap_begin; rows marked "user" go through the file's ->write_iter
 * with a user buffer whose tail is not mapped, so that the copy comes up
 * short for real.
 *
 * This file holds the helpers every case uses (iomap-write-test.h
 * declares them) and the suite ext4_iomap_write: the write rows, writes
 * through a shared mapping, fallocate, the validity cookie, the calls
 * ->iomap_begin must refuse, the choice of path and a failed mount. The
 * suites ext4_iomap_enospc (iomap-enospc-test.c: a full file system),
 * ext4_iomap_error (iomap-error-test.c: disk and journal errors) and
 * ext4_iomap_race (iomap-race-test.c) check the same state on their
 * topics: a failure's suite name gives its file.
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

const struct iw_fs iw_fs_1k = { { 1024, 2048 }, true };
const struct iw_fs iw_fs_1k_nd = { { 1024, 2048 }, false };
const struct iw_fs iw_fs_4k = { { 4096, 4096 }, true };
const struct iw_fs iw_fs_4k_nd = { { 4096, 4096 }, false };
/*
 * Bigalloc: 16 blocks a cluster, 1024 clusters, so that free space stays
 * above EXT4_FREECLUSTERS_WATERMARK (128 clusters per possible CPU on SMP)
 * and writes through ->write_iter keep using delalloc.
 */
const struct iw_fs iw_fs_1k_big = { { 1024, 16384, 16 }, true };
const struct iw_fs iw_fs_4k_big = { { 4096, 16384, 16 }, true };
/* With a journal that commits only when asked to. */
#define JNL_1K	{ .block_size = 1024, .blocks_count = 4096, \
		  .journal_blocks = 1024 }
const struct iw_fs iw_fs_1k_jnl = { JNL_1K, true, "commit=600" };
const struct iw_fs iw_fs_1k_jnl_nd = { JNL_1K, false, "commit=600" };
#define JNL_4K	{ .block_size = 4096, .blocks_count = 4096, \
		  .journal_blocks = 1024 }
const struct iw_fs iw_fs_4k_jnl = { JNL_4K, true, "commit=600" };
const struct iw_fs iw_fs_4k_jnl_nd = { JNL_4K, false, "commit=600" };
/* With quota accounting (empty quota files). */
const struct iw_fs iw_fs_1k_jnl_quota_nd = {
	{ .block_size = 1024, .blocks_count = 4096, .journal_blocks = 1024,
	  .feature_quota = true }, false, "commit=600" };

/**
 * iw_setup() - Mount a fresh file system and create a file on it.
 * @test: The test case.
 * @fs: The file system to make.
 * @name: File name.
 *
 * Return: The case's context, also in test->priv; the file uses iomap.
 */
struct iw_ctx *iw_setup(struct kunit *test, const struct iw_fs *fs,
			const char *name)
{
	struct iw_ctx *c;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->test = test;
	snprintf(c->opts, sizeof(c->opts), "buffered_iomap,%s%s%s",
		 fs->delalloc ? "delalloc" : "nodelalloc",
		 fs->extra_opts ? "," : "", fs->extra_opts ?: "");
	c->fs = ext4_kunit_fs_setup(test, &fs->mkfs, c->opts);
	c->file = ext4_kunit_create_file(test, c->fs->mnt, name);
	c->inode = file_inode(c->file);
	KUNIT_ASSERT_TRUE_MSG(test, ext4_inode_buffered_iomap(c->inode),
			      "ino %llu does not use iomap", c->inode->i_ino);
	test->priv = c;
	return c;
}

/**
 * iw_write() - Write through the file's ->write_iter.
 * @test: The test case; a short or failed write aborts it.
 * @file: The file.
 * @pos: File position.
 * @len: Bytes to write (a pattern).
 */
void iw_write(struct kunit *test, struct file *file, loff_t pos,
	      loff_t len)
{
	ssize_t ret;
	char *buf;

	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x5a, len);
	ret = kernel_write(file, buf, len, &pos);
	KUNIT_ASSERT_EQ_MSG(test, ret, len, "write of %lld bytes at %lld",
			    len, pos);
	kunit_kfree(test, buf);
}

/**
 * iw_start() - Set up a start state and take the baselines.
 * @c: The case; c->zero is read before anything is written, c->base
 *	after the start state, just before the write under test.
 * @s: The start state.
 */
void iw_start(struct iw_ctx *c, const struct iw_start *s)
{
	struct kunit *test = c->test;

	ext4_kunit_read_counters(c->inode, &c->zero);
	if (s->synced_len) {
		iw_write(test, c->file, s->synced_pos, s->synced_len);
		KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	}
	if (s->falloc_len)
		KUNIT_ASSERT_EQ(test, vfs_fallocate(c->file, 0, s->falloc_pos,
						    s->falloc_len), 0);
	if (s->dirty_len)
		iw_write(test, c->file, s->dirty_pos, s->dirty_len);
	if (s->begun_len) {
		struct iomap iomap = {}, srcmap = {};
		int ret;

		inode_lock(c->inode);
		ret = ext4_iomap_buffered_da_write_ops.iomap_begin(c->inode,
				s->begun_pos, s->begun_len, IOMAP_WRITE,
				&iomap, &srcmap);
		inode_unlock(c->inode);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "setup ->iomap_begin");
		KUNIT_ASSERT_EQ(test, iomap.type, IOMAP_DELALLOC);
	}
	ext4_kunit_read_counters(c->inode, &c->base);
}

static unsigned long iw_dirty_units(struct inode *inode)
{
	unsigned long mask = 0;
	unsigned int i;

	for (i = 0; i < IW_NR_UNITS; i++) {
		struct folio *folio;

		folio = filemap_get_folio(inode->i_mapping,
					  ((loff_t)i * IW_UNIT) >> PAGE_SHIFT);
		if (IS_ERR(folio))
			continue;
		if (folio_test_dirty(folio))
			mask |= BIT(i);
		folio_put(folio);
	}
	return mask;
}

/* @units widened to whole pages: a page with any unit set gets all set. */
static unsigned long iw_page_units(unsigned long units)
{
	const unsigned int per_page = PAGE_SIZE / IW_UNIT;
	const unsigned long page = per_page >= BITS_PER_LONG ? ~0UL :
				   BIT(per_page) - 1;
	unsigned long mask = 0;
	unsigned int i;

	for (i = 0; i < IW_NR_UNITS; i += per_page)
		if (units & (page << i))
			mask |= page << i;
	return mask;
}

/**
 * iw_check() - Check everything struct iw_state describes.
 * @c: The case.
 * @when: Step name for the messages.
 * @st: The expected state; counters are deltas from c->base.
 *
 * Every mismatch is reported with the field, expected and found values.
 */
void iw_check(struct iw_ctx *c, const char *when,
	      const struct iw_state *st)
{
	struct ext4_kunit_es es[IW_MAX_ES];
	struct kunit *test = c->test;
	struct inode *inode = c->inode;
	struct ext4_kunit_counters now;
	unsigned long pages;
	s64 quota;
	int n;

	for (n = 0; n < IW_MAX_ES && st->es[n].status; n++) {
		es[n].lblk = st->es[n].lblk;
		es[n].len = st->es[n].len ?: EXT_MAX_BLOCKS - st->es[n].lblk;
		es[n].status = st->es[n].status;
		es[n].pblk = (es[n].status == EXTENT_STATUS_WRITTEN ||
			      es[n].status == EXTENT_STATUS_UNWRITTEN) ?
			     EXT4_KUNIT_ANY_PBLK : 0;
	}
	ext4_kunit_expect_es(test, when, inode, es, n);

	ext4_kunit_read_counters(inode, &now);
	KUNIT_EXPECT_EQ_MSG(test, now.reserved_data_blocks, st->reserved,
			    "%s: i_reserved_data_blocks", when);
	/* The VFS tracks the quota reservation only with CONFIG_QUOTA. */
	quota = IS_ENABLED(CONFIG_QUOTA) ?
		(s64)st->reserved * EXT4_C2B(c->fs->sbi, 1) *
		i_blocksize(inode) : 0;
	KUNIT_EXPECT_EQ_MSG(test, now.reserved_quota, quota,
			    "%s: quota reservation (bytes)", when);
	KUNIT_EXPECT_EQ_MSG(test, now.dirty_clusters - c->base.dirty_clusters,
			    st->dirty, "%s: dirty clusters delta", when);
	KUNIT_EXPECT_EQ_MSG(test, now.free_clusters - c->base.free_clusters,
			    st->free, "%s: free clusters delta", when);
	KUNIT_EXPECT_EQ_MSG(test, i_size_read(inode), st->size,
			    "%s: i_size", when);
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(inode)->i_disksize, st->disksize,
			    "%s: i_disksize", when);
	pages = iw_dirty_units(inode);
	KUNIT_EXPECT_EQ_MSG(test, pages, iw_page_units(st->dirty_pages),
			    "%s: dirty 4k units of the file (%lu KiB pages): expected %#lx, found %#lx",
			    when, PAGE_SIZE / SZ_1K,
			    iw_page_units(st->dirty_pages), pages);
}

/* The tree without holes, which are only cached lookups. */
static int iw_mapped_es(struct inode *inode, struct ext4_kunit_es *es)
{
	struct ext4_kunit_es all[IW_MAX_ES * 2];
	int n, i, k = 0;

	n = ext4_kunit_es_snapshot(inode, all, ARRAY_SIZE(all));
	for (i = 0; i < min_t(int, n, ARRAY_SIZE(all)); i++)
		if (all[i].status != EXTENT_STATUS_HOLE)
			es[k++] = all[i];
	return k;
}

struct iw_seq {
	u64 seq;
	int nr;
	struct ext4_kunit_es es[IW_MAX_ES * 2];
};

static void iw_seq_mark(struct inode *inode, struct iw_seq *s)
{
	s->seq = READ_ONCE(EXT4_I(inode)->i_es_seq);
	s->nr = iw_mapped_es(inode, s->es);
}

/**
 * iw_seq_check() - Check that i_es_seq moved exactly when the tree changed.
 * @c: The case.
 * @when: Step name for the message.
 * @s: i_es_seq and the tree (without holes) from iw_seq_mark() before the
 *	step.
 */
static void iw_seq_check(struct iw_ctx *c, const char *when,
			 const struct iw_seq *s)
{
	struct iw_seq now;
	bool changed;

	iw_seq_mark(c->inode, &now);
	changed = now.nr != s->nr ||
		  memcmp(now.es, s->es, sizeof(now.es[0]) * now.nr);
	KUNIT_EXPECT_EQ_MSG(c->test, now.seq != s->seq, changed,
			    "%s: i_es_seq %llu -> %llu, tree %s", when, s->seq,
			    now.seq, changed ? "changed" : "unchanged");
}

/* ->iomap_begin for the copy: hand back the mapping under test. */
static int iw_replay_begin(struct inode *inode, loff_t pos, loff_t length,
			   unsigned int flags, struct iomap *iomap,
			   struct iomap *srcmap)
{
	struct kunit *test = kunit_get_current_test();
	struct iw_ctx *c = test->priv;

	if (pos < c->replay.offset ||
	    pos >= c->replay.offset + c->replay.length)
		return -EIO;
	*iomap = c->replay;
	return 0;
}

static const struct iomap_ops iw_replay_ops = {
	.iomap_begin = iw_replay_begin,
};

/**
 * iw_copy() - Copy @len bytes into the page cache at @pos.
 * @c: The case; c->replay is the mapping to copy through.
 * @pos: File position.
 * @len: Bytes; all of them are copied.
 *
 * iomap's own write loop does the work (folio lookup, zeroing of partial
 * blocks, per-block dirty and uptodate state, i_size), so the page cache
 * ends up exactly as after a write that copied @len bytes.
 */
static void iw_copy(struct iw_ctx *c, loff_t pos, size_t len)
{
	struct kunit *test = c->test;
	struct iov_iter iter;
	struct kiocb kiocb;
	struct kvec kvec;
	ssize_t ret;

	if (!len)
		return;
	kvec.iov_base = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kvec.iov_base);
	memset(kvec.iov_base, 0xa5, len);
	kvec.iov_len = len;
	iov_iter_kvec(&iter, ITER_SOURCE, &kvec, 1, len);
	init_sync_kiocb(&kiocb, c->file);
	kiocb.ki_pos = pos;
	ret = iomap_file_buffered_write(&kiocb, &iter, &iw_replay_ops, NULL,
					NULL);
	KUNIT_EXPECT_EQ_MSG(test, ret, len, "copy into the page cache");
	kunit_kfree(test, kvec.iov_base);
}

const struct iomap_ops *iw_ops(const struct iw_fs *fs)
{
	return fs->delalloc ? &ext4_iomap_buffered_da_write_ops :
			      &ext4_iomap_buffered_write_ops;
}

/**
 * iw_drive_flags() - One pass of iomap_iter() over a write (iw_drive():
 * with IOMAP_WRITE).
 * @c: The case.
 * @ops: ext4_iomap_buffered_da_write_ops or ext4_iomap_buffered_write_ops.
 * @pos: File position of the write.
 * @len: Its length.
 * @copied: Bytes to copy after ->iomap_begin, or ALL_MAPPED.
 * @flags: IOMAP_WRITE, or IOMAP_WRITE | IOMAP_FAULT as iomap_page_mkwrite()
 *	passes.
 * @iomap: Gets the mapping ->iomap_begin returned.
 *
 * Under i_rwsem and freeze protection, as ->write_iter holds them:
 * ->iomap_begin, the copy (iw_copy()), then ->iomap_end with the length
 * trimmed to the mapping and the bytes copied, as iomap_iter() passes
 * them. i_es_seq is checked across both calls with iw_seq_check().
 *
 * Return: ->iomap_begin's result; nothing else is done if it failed.
 */
int iw_drive_flags(struct iw_ctx *c, const struct iomap_ops *ops,
		   loff_t pos, loff_t len, loff_t copied,
		   unsigned int flags, struct iomap *iomap)
{
	struct kunit *test = c->test;
	struct inode *inode = c->inode;
	struct iomap srcmap = { .type = IOMAP_HOLE };
	struct iw_seq seq;
	loff_t mapped;
	int ret;

	memset(iomap, 0, sizeof(*iomap));
	sb_start_write(inode->i_sb);
	inode_lock(inode);

	iw_seq_mark(inode, &seq);
	ret = ops->iomap_begin(inode, pos, len, flags, iomap, &srcmap);
	iw_seq_check(c, "->iomap_begin", &seq);
	if (ret)
		goto out;

	mapped = min_t(loff_t, len, iomap->offset + iomap->length - pos);
	if (copied == ALL_MAPPED)
		copied = mapped;
	KUNIT_EXPECT_LE_MSG(test, copied, mapped,
			    "row copies beyond the mapping [%lld, +%lld)",
			    iomap->offset, iomap->length);
	c->replay = *iomap;
	iw_copy(c, pos, min(copied, mapped));

	if (ops->iomap_end) {
		iw_seq_mark(inode, &seq);
		KUNIT_EXPECT_EQ(test, ops->iomap_end(inode, pos, mapped,
						     min(copied, mapped),
						     flags, iomap), 0);
		iw_seq_check(c, "->iomap_end", &seq);
	}
out:
	inode_unlock(inode);
	sb_end_write(inode->i_sb);
	return ret;
}

int iw_drive(struct iw_ctx *c, const struct iomap_ops *ops,
	     loff_t pos, loff_t len, loff_t copied, struct iomap *iomap)
{
	return iw_drive_flags(c, ops, pos, len, copied, IOMAP_WRITE, iomap);
}

/**
 * iw_cleanup_check() - Truncate to zero, sync, and check nothing is left.
 * @c: The case.
 *
 * The extent status tree must be empty, no block or reservation left, and
 * the dirty and free cluster counters back at c->zero: this is what
 * catches a leaked or doubly released reservation.
 */
void iw_cleanup_check(struct iw_ctx *c)
{
	static const struct iw_es none[] = { {} };
	struct kunit *test = c->test;
	struct iw_state st = { .es = none };

	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	c->base = c->zero;
	iw_check(c, "after truncate to 0", &st);
	KUNIT_EXPECT_EQ_MSG(test, c->inode->i_blocks, 0,
			    "i_blocks after truncate to 0");
}

/*
 * One write: start state, ->iomap_begin over [pos, pos + len), @copied
 * bytes copied, ->iomap_end (with IOMAP_FAULT too for "fault" rows, as
 * iomap_page_mkwrite() calls them); or, for "user" rows, one write(2) of
 * @len bytes from a user buffer of which only @copied bytes can be read.
 * Then the expected mapping, state after the write, after fsync, and
 * after truncating to zero.
 */
struct write_row {
	const char *desc;
	const struct iw_fs *fs;
	struct iw_start start;
	loff_t pos, len, copied;
	bool user;
	bool fault;
	/* ->iomap_begin's mapping, or the user write's return value. */
	u16 type;
	bool new;
	loff_t map_pos, map_len;
	ssize_t ret;
	/*
	 * After the write; i_disksize is still what it was before unless
	 * @disksize is set.
	 */
	struct iw_es es[IW_MAX_ES];
	unsigned int reserved;
	s64 dirty, free;
	loff_t size, disksize;
	unsigned long pages;
	/* After fsync; reservations without page cache stay. */
	struct iw_es synced[IW_MAX_ES];
	s64 synced_free;
	unsigned int synced_reserved;
};

static const struct write_row write_rows[] = {
	/* 1k blocks, delalloc: into a hole of an empty file. */
	{ "1k da: hole, all copied", &iw_fs_1k, {}, 0, 3000, 3000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 3, .dirty = 3,
	  .size = 3000, .pages = PG(0),
	  .synced = { WR(0, 3), HO(3, END) }, .synced_free = -3 },
	{ "1k da: hole, nothing copied", &iw_fs_1k, {}, 0, 3000, 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { HO(3, END) },
	  .synced = { HO(3, END) } },
	{ "1k da: hole, 100 bytes of the first block", &iw_fs_1k, {}, 0, 3000, 100,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { DA(0, 1), HO(3, END) }, .reserved = 1, .dirty = 1,
	  .size = 100, .pages = PG(0),
	  .synced = { WR(0, 1), HO(3, END) }, .synced_free = -1 },
	{ "1k da: hole, up to a block boundary", &iw_fs_1k, {}, 0, 3000, 2048,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { DA(0, 2), HO(3, END) }, .reserved = 2, .dirty = 2,
	  .size = 2048, .pages = PG(0),
	  .synced = { WR(0, 2), HO(3, END) }, .synced_free = -2 },
	{ "1k da: hole, 8 blocks over two pages, all copied", &iw_fs_1k, {},
	  0, KB(8), KB(8),
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { DA(0, 8), HO(8, END) }, .reserved = 8, .dirty = 8,
	  .size = KB(8), .pages = PG(0) | PG(1),
	  .synced = { WR(0, 8), HO(8, END) }, .synced_free = -8 },
	{ "1k da: hole, 20 blocks, short in the sixth", &iw_fs_1k, {},
	  0, KB(20), 6000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(20),
	  .es = { DA(0, 6), HO(20, END) }, .reserved = 6, .dirty = 6,
	  .size = 6000, .pages = PG(0) | PG(1),
	  .synced = { WR(0, 6), HO(20, END) }, .synced_free = -6 },
	{ "1k da: hole, at 1500, short in a later block", &iw_fs_1k, {},
	  1500, 5000, 3000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(1),
	  .map_len = KB(6),
	  .es = { HO(0, 1), DA(1, 4), HO(7, END) }, .reserved = 4, .dirty = 4,
	  .size = 4500, .pages = PG(0) | PG(1),
	  .synced = { HO(0, 1), WR(1, 4), HO(7, END) }, .synced_free = -4 },
	/* Inside EOF, into a hole before written data. */
	{ "1k da: hole inside EOF, 1000 bytes", &iw_fs_1k, { KB(4), KB(1) },
	  0, KB(2), 1000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 1), HO(2, 2), WR(4, 1), HO(5, END) }, .reserved = 1,
	  .dirty = 1, .size = KB(5), .pages = PG(0),
	  .synced = { WR(0, 1), HO(2, 2), WR(4, 1), HO(5, END) },
	  .synced_free = -1 },
	/* Beyond EOF. */
	{ "1k da: beyond EOF, after a hole", &iw_fs_1k, { 0, KB(1) },
	  5000, 1000, 1000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(4),
	  .map_len = KB(2),
	  .es = { WR(0, 1), HO(1, 3), DA(4, 2), HO(6, END) }, .reserved = 2,
	  .dirty = 2, .size = 6000, .pages = PG(1),
	  .synced = { WR(0, 1), HO(1, 3), WR(4, 2), HO(6, END) },
	  .synced_free = -2 },
	{ "1k da: beyond EOF, nothing copied", &iw_fs_1k, { 0, KB(1) },
	  5000, 1000, 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(4),
	  .map_len = KB(2),
	  .es = { WR(0, 1), HO(1, 3), HO(6, END) }, .size = KB(1),
	  .synced = { WR(0, 1), HO(1, 3), HO(6, END) } },
	/* Delayed allocation that was there before the call. */
	{ "1k da: old delalloc, nothing copied", &iw_fs_1k,
	  { .dirty_len = KB(2) }, 0, KB(2), 0,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2, .size = KB(2),
	  .pages = PG(0),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -2 },
	{ "1k da: old delalloc, 10 bytes of the second block", &iw_fs_1k,
	  { .dirty_len = KB(2) }, KB(1), KB(1), 10,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = KB(1),
	  .map_len = KB(1),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2, .size = KB(2),
	  .pages = PG(0),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -2 },
	{ "1k da: delalloc of a write still copying, nothing copied", &iw_fs_1k,
	  { .begun_len = KB(2) }, 0, KB(2), 0,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2,
	  .synced = { DA(0, 2), HO(2, END) }, .synced_reserved = 2 },
	{ "1k da: across EOF, old delalloc then hole", &iw_fs_1k,
	  { .dirty_len = 1500 }, 1000, 3000, 1048,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2, .size = KB(2),
	  .pages = PG(0),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -2 },
	/*
	 * A write fault (iomap_page_mkwrite()) that reserved a folio's
	 * blocks and then failed: the reservation is not punched.
	 */
	{ "1k da: fault into a hole, nothing written", &iw_fs_1k, { KB(4), KB(1) },
	  0, KB(4), 0, .fault = true,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(4),
	  .es = { DA(0, 4), WR(4, 1), HO(5, END) }, .reserved = 4, .dirty = 4,
	  .size = KB(5),
	  .synced = { DA(0, 4), WR(4, 1), HO(5, END) }, .synced_reserved = 4 },
	/* Unwritten and written extents. */
	{ "1k da: into unwritten", &iw_fs_1k, { .falloc_len = KB(4) },
	  KB(1), KB(1), KB(1),
	  .type = IOMAP_UNWRITTEN, .new = false, .map_pos = KB(1),
	  .map_len = KB(1),
	  .es = { UW(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { UW(0, 1), WR(1, 1), UW(2, 2), HO(4, END) } },
	{ "1k da: into written, 100 bytes", &iw_fs_1k, { 0, KB(4) },
	  0, KB(4), 100,
	  .type = IOMAP_MAPPED, .new = false, .map_pos = 0, .map_len = KB(4),
	  .es = { WR(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 4), HO(4, END) } },

	/* 1k blocks, no delalloc: blocks are allocated unwritten. */
	{ "1k nd: hole, all copied", &iw_fs_1k_nd, {}, 0, 3000, 3000,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3, .size = 3000,
	  .pages = PG(0),
	  .synced = { WR(0, 3), HO(3, END) }, .synced_free = -3 },
	{ "1k nd: hole, nothing copied", &iw_fs_1k_nd, {}, 0, 3000, 0,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3,
	  .synced = { UW(0, 3), HO(3, END) }, .synced_free = -3 },
	{ "1k nd: hole, 100 bytes", &iw_fs_1k_nd, {}, 0, 3000, 100,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3, .size = 100,
	  .pages = PG(0),
	  .synced = { WR(0, 1), UW(1, 2), HO(3, END) }, .synced_free = -3 },
	{ "1k nd: hole inside EOF, 1000 bytes", &iw_fs_1k_nd, { KB(4), KB(1) },
	  0, KB(2), 1000,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(2),
	  .es = { UW(0, 2), HO(2, 2), WR(4, 1), HO(5, END) }, .free = -2,
	  .size = KB(5), .pages = PG(0),
	  .synced = { WR(0, 1), UW(1, 1), HO(2, 2), WR(4, 1), HO(5, END) },
	  .synced_free = -2 },
	{ "1k nd: fault into a hole, nothing written", &iw_fs_1k_nd,
	  { KB(4), KB(1) }, 0, KB(4), 0, .fault = true,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(4),
	  .es = { UW(0, 4), WR(4, 1), HO(5, END) }, .free = -4, .size = KB(5),
	  .synced = { UW(0, 4), WR(4, 1), HO(5, END) }, .synced_free = -4 },
	{ "1k nd: inside EOF, into written", &iw_fs_1k_nd, { 0, KB(4) },
	  100, 200, 200,
	  .type = IOMAP_MAPPED, .new = false, .map_pos = 0, .map_len = KB(1),
	  .es = { WR(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 4), HO(4, END) } },
	{ "1k nd: inside EOF, into unwritten", &iw_fs_1k_nd,
	  { .falloc_len = KB(4) }, 0, KB(4), KB(4),
	  .type = IOMAP_UNWRITTEN, .new = false, .map_pos = 0, .map_len = KB(4),
	  .es = { UW(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 4), HO(4, END) } },
	{ "1k nd: beyond EOF, after a hole", &iw_fs_1k_nd, { 0, KB(1) },
	  KB(2), KB(1), KB(1),
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = KB(2),
	  .map_len = KB(1),
	  .es = { WR(0, 1), HO(1, 1), UW(2, 1), HO(3, END) }, .free = -1,
	  .size = KB(3), .pages = PG(0),
	  .synced = { WR(0, 1), HO(1, 1), WR(2, 1), HO(3, END) },
	  .synced_free = -1 },

	/* 4k blocks. */
	{ "4k da: 3 blocks, short in the second", &iw_fs_4k, {},
	  0, KB(12), 5000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(12),
	  .es = { DA(0, 2), HO(3, END) }, .reserved = 2, .dirty = 2,
	  .size = 5000, .pages = PG(0) | PG(1),
	  .synced = { WR(0, 2), HO(3, END) }, .synced_free = -2 },
	{ "4k nd: 2 blocks, nothing copied", &iw_fs_4k_nd, {}, 0, KB(8), 0,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { UW(0, 2), HO(2, END) }, .free = -2,
	  .synced = { UW(0, 2), HO(2, END) }, .synced_free = -2 },

	/* Bigalloc, 16 blocks a cluster: reservations count clusters. */
	{ "4k bigalloc: hole, all copied", &iw_fs_4k_big, {}, 0, KB(8), KB(8),
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 1, .dirty = 1,
	  .size = KB(8), .pages = PG(0) | PG(1),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -1 },
	{ "4k bigalloc: hole, nothing copied", &iw_fs_4k_big, {}, 0, KB(8), 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { HO(2, END) },
	  .synced = { HO(2, END) } },
	{ "4k bigalloc: hole, first block only", &iw_fs_4k_big, {},
	  0, KB(8), KB(4),
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { DA(0, 1), HO(2, END) }, .reserved = 1, .dirty = 1,
	  .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 1), HO(2, END) }, .synced_free = -1 },
	{ "4k bigalloc: cluster already reserved, nothing copied", &iw_fs_4k_big,
	  { .dirty_len = KB(4) }, KB(8), KB(4), 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(8),
	  .map_len = KB(4),
	  .es = { DA(0, 1), HO(1, 1), HO(3, END) }, .reserved = 1,
	  .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 1), HO(1, 1), HO(3, END) }, .synced_free = -1 },
	{ "4k bigalloc: next cluster, nothing copied", &iw_fs_4k_big,
	  { .dirty_len = KB(4) }, KB(64), KB(4), 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(64),
	  .map_len = KB(4),
	  .es = { DA(0, 1), HO(1, 15), HO(17, END) }, .reserved = 1,
	  .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 1), HO(1, 15), HO(17, END) }, .synced_free = -1 },
	{ "1k bigalloc: 6 blocks, short in the second", &iw_fs_1k_big, {},
	  0, KB(6), 1500,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(6),
	  .es = { DA(0, 2), HO(6, END) }, .reserved = 1, .dirty = 1,
	  .size = 1500, .pages = PG(0),
	  .synced = { WR(0, 2), HO(6, END) }, .synced_free = -1 },

	/* write(2) from user memory that ends in an unmapped page. */
	{ "user, 1k da: 1500 of 4096 bytes readable", &iw_fs_1k, {},
	  0, KB(4), 1500, .user = true, .ret = 1500,
	  .es = { DA(0, 2), HO(4, END) }, .reserved = 2, .dirty = 2,
	  .size = 1500, .pages = PG(0),
	  .synced = { WR(0, 2), HO(4, END) }, .synced_free = -2 },
	{ "user, 1k da: nothing readable", &iw_fs_1k, {},
	  0, KB(4), 0, .user = true, .ret = -EFAULT,
	  .es = { HO(4, END) },
	  .synced = { HO(4, END) } },
	/*
	 * Without delalloc, the blocks allocated beyond the new EOF by a
	 * short extending write are truncated again; truncating zeroes the
	 * rest of the EOF block and writes it back first, which converts
	 * the blocks and moves i_disksize.
	 */
	{ "user, 1k nd: 1500 of 4096 bytes readable", &iw_fs_1k_nd, {},
	  0, KB(4), 1500, .user = true, .ret = 1500,
	  .es = { WR(0, 2) }, .free = -2, .size = 1500, .disksize = 1500,
	  .synced = { WR(0, 2) }, .synced_free = -2 },
	{ "user, 1k nd: nothing readable", &iw_fs_1k_nd, {},
	  0, KB(4), 0, .user = true, .ret = -EFAULT,
	  .es = {}, .synced = {} },
	{ "user, 1k nd: 100 bytes at 5000, after 1000 written", &iw_fs_1k_nd,
	  { 0, 1000 }, 5000, KB(4), 100, .user = true, .ret = 100,
	  .es = { WR(0, 1), HO(1, 3), WR(4, 1) }, .free = -1, .size = 5100,
	  .disksize = 5100,
	  .synced = { WR(0, 1), HO(1, 3), WR(4, 1) }, .synced_free = -1 },
	{ "user, 4k bigalloc: 100 of 8192 bytes at 4096", &iw_fs_4k_big, {},
	  KB(4), KB(8), 100, .user = true, .ret = 100,
	  .es = { HO(0, 1), DA(1, 1), HO(3, END) }, .reserved = 1, .dirty = 1,
	  .size = KB(4) + 100, .pages = PG(1),
	  .synced = { HO(0, 1), WR(1, 1), HO(3, END) }, .synced_free = -1 },
};

KUNIT_ARRAY_PARAM_DESC(write_rows, write_rows, desc);

static void write_row_test(struct kunit *test)
{
	const struct write_row *r = test->param_value;
	struct iw_state st = {
		.es = r->es, .reserved = r->reserved, .dirty = r->dirty,
		.free = r->free, .size = r->size, .dirty_pages = r->pages,
	};
	struct iw_ctx *c;
	struct iomap iomap;
	int ret;

	c = iw_setup(test, r->fs, "file");
	iw_start(c, &r->start);
	st.disksize = r->disksize ?: EXT4_I(c->inode)->i_disksize;

	if (r->user) {
		char __user *ubuf;
		ssize_t n;

		ubuf = ext4_kunit_user_buf(test, NULL, r->copied, PAGE_SIZE);
		n = ext4_kunit_write_user(c->file, ubuf, r->len, r->pos);
		KUNIT_EXPECT_EQ_MSG(test, n, r->ret, "write() returned");
	} else {
		ret = iw_drive_flags(c, iw_ops(r->fs), r->pos, r->len,
				     r->copied, IOMAP_WRITE |
				     (r->fault ? IOMAP_FAULT : 0), &iomap);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "->iomap_begin failed");
		KUNIT_EXPECT_EQ_MSG(test, iomap.type, r->type, "iomap type");
		KUNIT_EXPECT_EQ_MSG(test, !!(iomap.flags & IOMAP_F_NEW), r->new,
				    "IOMAP_F_NEW");
		KUNIT_EXPECT_EQ_MSG(test, iomap.offset, r->map_pos,
				    "iomap offset");
		KUNIT_EXPECT_EQ_MSG(test, iomap.length, r->map_len,
				    "iomap length");
	}
	iw_check(c, "after the write", &st);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	st.es = r->synced;
	st.reserved = r->synced_reserved;
	st.dirty = c->zero.dirty_clusters + r->synced_reserved -
		   c->base.dirty_clusters;
	st.free = r->synced_free;
	st.disksize = r->size;
	st.dirty_pages = 0;
	iw_check(c, "after fsync", &st);

	iw_cleanup_check(c);
}

/*
 * Real write faults: a shared writable mapping of a sparse file of two
 * pages and 1808 bytes (10000 bytes with 4 KiB pages), written at 100 (page
 * 0) and at 808 into page 2 (which ends at EOF) with copy_to_user() from
 * the test thread. ext4_page_mkwrite() goes through iomap_page_mkwrite():
 * the blocks of each faulting folio up to EOF are reserved (delalloc) or
 * allocated unwritten, and the folios are dirty. After fsync the data
 * reads back and the rest reads as zeros.  The rows are written for any
 * page size (P1, P4).
 */
#define MM_SIZE		(2 * PAGE_SIZE + 1808)
#define MM_POS2		(2 * PAGE_SIZE + 808)
/* Clusters of 16 blocks reserved for blocks [0, P4) and block 2 * P4. */
#define MM_BIG_CL	(DIV_ROUND_UP(P4, 16) + (2 * P4 / 16 > (P4 - 1) / 16))

struct mmap_row {
	const char *desc;
	const struct iw_fs *fs;
	struct iw_es es[IW_MAX_ES];
	unsigned int reserved;
	s64 dirty, free;
	struct iw_es synced[IW_MAX_ES];
	s64 synced_free;
};

static const struct mmap_row mmap_rows[] = {
	{ "1k da", &iw_fs_1k,
	  .es = { DA(0, P1), HO(P1, P1), DA(2 * P1, 2), HO(2 * P1 + 2, END) },
	  .reserved = P1 + 2, .dirty = P1 + 2,
	  .synced = { WR(0, P1), HO(P1, P1), WR(2 * P1, 2),
		      HO(2 * P1 + 2, END) },
	  .synced_free = -(P1 + 2) },
	{ "1k nd", &iw_fs_1k_nd,
	  .es = { UW(0, P1), HO(P1, P1), UW(2 * P1, 2), HO(2 * P1 + 2, END) },
	  .free = -(P1 + 2),
	  .synced = { WR(0, P1), HO(P1, P1), WR(2 * P1, 2),
		      HO(2 * P1 + 2, END) },
	  .synced_free = -(P1 + 2) },
	{ "4k da", &iw_fs_4k,
	  .es = { DA(0, P4), HO(P4, P4), DA(2 * P4, 1), HO(2 * P4 + 1, END) },
	  .reserved = P4 + 1, .dirty = P4 + 1,
	  .synced = { WR(0, P4), HO(P4, P4), WR(2 * P4, 1),
		      HO(2 * P4 + 1, END) },
	  .synced_free = -(P4 + 1) },
	{ "4k bigalloc", &iw_fs_4k_big,
	  .es = { DA(0, P4), HO(P4, P4), DA(2 * P4, 1), HO(2 * P4 + 1, END) },
	  .reserved = MM_BIG_CL, .dirty = MM_BIG_CL,
	  .synced = { WR(0, P4), HO(P4, P4), WR(2 * P4, 1),
		      HO(2 * P4 + 1, END) },
	  .synced_free = -MM_BIG_CL },
};

KUNIT_ARRAY_PARAM_DESC(mmap_rows, mmap_rows, desc);

static void mmap_write_test(struct kunit *test)
{
	const struct mmap_row *r = test->param_value;
	struct iw_state st = {
		.es = r->es, .reserved = r->reserved, .dirty = r->dirty,
		.free = r->free, .size = MM_SIZE, .disksize = MM_SIZE,
		.dirty_pages = PG(0) | PG(MM_POS2 / IW_UNIT),
	};
	static const char data[] = "written through a shared mapping";
	const size_t n = sizeof(data) - 1;
	unsigned long addr;
	struct iw_ctx *c;
	loff_t pos = 0;
	char *buf;
	size_t i;

	c = iw_setup(test, r->fs, "file");
	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, MM_SIZE), 0);
	iw_start(c, &(struct iw_start){});

	addr = iw_mmap(c, 3 * PAGE_SIZE);
	KUNIT_ASSERT_EQ_MSG(test, copy_to_user((void __user *)(addr + 100),
					       data, n), 0, "fault at 100");
	KUNIT_ASSERT_EQ_MSG(test, copy_to_user((void __user *)(addr + MM_POS2),
					       data, n), 0, "fault in page 2");
	iw_check(c, "after the faults", &st);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	st.es = r->synced;
	st.reserved = 0;
	st.dirty = 0;
	st.free = r->synced_free;
	st.disksize = MM_SIZE;
	st.dirty_pages = 0;
	iw_check(c, "after fsync", &st);

	buf = kunit_kzalloc(test, MM_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kernel_read(c->file, buf, MM_SIZE, &pos),
			(ssize_t)MM_SIZE);
	KUNIT_EXPECT_MEMEQ(test, buf + 100, data, n);
	KUNIT_EXPECT_MEMEQ(test, buf + MM_POS2, data, n);
	for (i = 0; i < MM_SIZE; i++) {
		if ((i >= 100 && i < 100 + n) ||
		    (i >= MM_POS2 && i < MM_POS2 + n))
			continue;
		if (buf[i]) {
			KUNIT_FAIL(test, "byte %zu reads %#x, not 0", i,
				   (u8)buf[i]);
			break;
		}
	}
	iw_cleanup_check(c);
}

/*
 * Punching a hole in an iomap inode whose data is still dirty in the
 * page cache: the blocks wholly inside the range lose their extents (and
 * delayed allocation reservation), the partial blocks at both ends are
 * zeroed through iomap, and the rest of the data stays dirty, is written
 * back (and nothing in the hole) and reads back.
 */
struct falloc_row {
	const char *desc;
	const struct iw_fs *fs;
	struct iw_start start;
	int mode;
	loff_t pos, len;
	/* After fallocate(). */
	struct iw_es es[IW_MAX_ES];
	unsigned int reserved;
	s64 dirty, free;
	loff_t disksize;
	unsigned long pages;
	/* After fsync. */
	struct iw_es synced[IW_MAX_ES];
	s64 synced_free;
	/*
	 * The range covers dirty folios in part: whether they are written
	 * back by the operation or stay dirty is the implementation's
	 * choice, so the state right after it is ours, not checked (the
	 * data is); punch_wb_race_test checks what the choice must ensure.
	 */
	bool edges;
};

static const struct falloc_row falloc_rows[] = {
	/*
	 * ext4_update_disksize_before_punch() moves i_disksize to the end of
	 * the range (capped at i_size) before anything is removed.
	 */
	/*
	 * Ours writes the folios that the range covers in part back (which
	 * allocates the delalloc and moves i_disksize) before the extents
	 * are removed; after the punch they would be clean, the es tree
	 * WR(0, 2), HO(2, 2), WR(4, 4), 8 dirty clusters fewer, 6 blocks
	 * allocated, i_disksize 8 KiB.
	 */
	{ "1k da: punch 1500..5000 of 8 dirty blocks", &iw_fs_1k,
	  { .dirty_len = KB(8) }, PUNCH, 1500, 3500,
	  .synced = { WR(0, 2), HO(2, 2), WR(4, 4), HO(8, END) },
	  .synced_free = -6, .edges = true },
	/*
	 * Zeroing the partial blocks in unwritten extents under dirty page
	 * cache makes iomap write the folios back first, which converts
	 * the extents and moves i_disksize to i_size: 2 blocks freed.
	 */
	{ "1k nd: punch 1500..5000 of 8 dirty blocks", &iw_fs_1k_nd,
	  { .dirty_len = KB(8) }, PUNCH, 1500, 3500,
	  .synced = { WR(0, 2), HO(2, 2), WR(4, 4), HO(8, END) },
	  .synced_free = 2, .edges = true },
	/*
	 * A whole page (a whole block with 4 KiB pages) of dirty data: no
	 * folio is covered in part, nothing is written back, the page's
	 * delalloc goes.
	 */
	{ "4k da: punch a whole dirty page", &iw_fs_4k,
	  { .dirty_len = 3 * PAGE_SIZE }, PUNCH, PAGE_SIZE, PAGE_SIZE,
	  .es = { DA(0, P4), HO(P4, P4), DA(2 * P4, P4), HO(3 * P4, END) },
	  .reserved = 2 * P4, .dirty = -P4, .disksize = 2 * PAGE_SIZE,
	  .pages = PG(0) | PG(2 * P4),
	  .synced = { WR(0, P4), HO(P4, P4), WR(2 * P4, P4), HO(3 * P4, END) },
	  .synced_free = -2 * P4 },
};

KUNIT_ARRAY_PARAM_DESC(falloc_rows, falloc_rows, desc);

static void falloc_test(struct kunit *test)
{
	const struct falloc_row *r = test->param_value;
	struct iw_state st = {
		.es = r->es, .reserved = r->reserved, .dirty = r->dirty,
		.free = r->free, .dirty_pages = r->pages,
	};
	struct iw_ctx *c;
	loff_t size;

	c = iw_setup(test, r->fs, "file");
	iw_start(c, &r->start);
	size = i_size_read(c->inode);
	st.size = size;
	st.disksize = r->disksize;

	KUNIT_ASSERT_EQ_MSG(test, vfs_fallocate(c->file, r->mode, r->pos,
						r->len), 0, "fallocate");
	if (!r->edges)
		iw_check(c, "after fallocate", &st);
	/* The start state wrote 0x5a everywhere; the range reads zeros. */
	iw_expect_bytes(c, "after fallocate",
			(struct iw_bytes[]){ { 0, r->pos, 0x5a },
					     { r->pos + r->len, size, 0x5a } }, 2);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	st.es = r->synced;
	st.reserved = 0;
	st.dirty = c->zero.dirty_clusters - c->base.dirty_clusters;
	st.free = r->synced_free;
	st.disksize = size;
	st.dirty_pages = 0;
	iw_check(c, "after fsync", &st);
	iw_check_read_back_ranges(c, "after fsync",
				  (struct iw_bytes[]){ { 0, r->pos, 0x5a },
						       { r->pos + r->len, size, 0x5a } },
				  2);
	iw_cleanup_check(c);
}

/*
 * The validity cookie: a mapping stays valid exactly until the extent
 * status tree of its inode changes.
 */
static bool iw_valid(struct iw_ctx *c, const struct iomap *iomap)
{
	return ext4_iomap_write_ops.iomap_valid(c->inode, iomap);
}

static void valid_delalloc_test(struct kunit *test)
{
	struct iomap a, b;
	struct iw_ctx *c;
	struct file *other;

	c = iw_setup(test, &iw_fs_1k, "file");
	other = ext4_kunit_create_file(test, c->fs->mnt, "other");
	iw_start(c, &(struct iw_start){});

	/* A fresh delalloc reservation is valid ... */
	KUNIT_ASSERT_EQ(test, iw_drive(c, &ext4_iomap_buffered_da_write_ops,
				       0, KB(1), KB(1), &a), 0);
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &a), "fresh mapping");

	/* ... a write to another inode leaves it so ... */
	iw_write(test, other, 0, KB(3));
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &a),
			      "after a write to another inode");
	KUNIT_ASSERT_EQ(test, vfs_fsync(other, 0), 0);
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &a),
			      "after writeback of another inode");

	/* ... and so does a lookup that changes nothing ... */
	KUNIT_ASSERT_EQ(test, iw_drive(c, &ext4_iomap_buffered_da_write_ops,
				       0, KB(1), 0, &b), 0);
	KUNIT_EXPECT_FALSE(test, b.flags & IOMAP_F_NEW);
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &a), "after a lookup");

	/* ... but a new reservation elsewhere in the file does not. */
	KUNIT_ASSERT_EQ(test, iw_drive(c, &ext4_iomap_buffered_da_write_ops,
				       KB(8), KB(1), KB(1), &b), 0);
	KUNIT_EXPECT_FALSE_MSG(test, iw_valid(c, &a),
			       "after a reservation at block 8");
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &b), "the new mapping");

	/* Writeback allocates the delayed blocks: stale. */
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	KUNIT_EXPECT_FALSE_MSG(test, iw_valid(c, &b), "after writeback");

	KUNIT_ASSERT_EQ(test, vfs_truncate(&other->f_path, 0), 0);
	iw_cleanup_check(c);
}

static void valid_unwritten_test(struct kunit *test)
{
	static const struct iw_start s = { .falloc_len = KB(4) };
	struct iomap a, b;
	struct iw_ctx *c;

	c = iw_setup(test, &iw_fs_1k_nd, "file");
	iw_start(c, &s);

	KUNIT_ASSERT_EQ(test, iw_drive(c, &ext4_iomap_buffered_write_ops,
				       0, KB(2), KB(2), &a), 0);
	KUNIT_EXPECT_EQ(test, a.type, IOMAP_UNWRITTEN);
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &a), "unwritten mapping");

	/* Writing data into the page cache changes no extent. */
	iw_write(test, c->file, KB(2), KB(1));
	KUNIT_EXPECT_TRUE_MSG(test, iw_valid(c, &a), "after a cached write");

	/* Conversion at I/O completion does. */
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	KUNIT_EXPECT_FALSE_MSG(test, iw_valid(c, &a), "after conversion");

	/*
	 * Truncate removes extents: a mapping from before is stale, even one
	 * of a block that stays (the cookie covers the whole inode).
	 */
	KUNIT_ASSERT_EQ(test, iw_drive(c, &ext4_iomap_buffered_write_ops,
				       0, KB(1), 0, &b), 0);
	KUNIT_EXPECT_EQ(test, b.type, IOMAP_MAPPED);
	KUNIT_EXPECT_TRUE(test, iw_valid(c, &b));
	KUNIT_ASSERT_EQ(test, vfs_truncate(&c->file->f_path, KB(1)), 0);
	KUNIT_EXPECT_FALSE_MSG(test, iw_valid(c, &b), "after truncate");
	iw_cleanup_check(c);
}

/*
 * ENOSPC. iw_fill() fills the file system for real: with the reserved
 * clusters tunable (/sys/fs/ext4/<dev>/reserved_clusters) at 0, a file
 * is fallocated until ext4 says -ENOSPC, then shortened to free exactly
 * @headroom + @spare clusters, contiguous, and committed. The tunable is
 * then set to @spare: @headroom clusters can be reserved or allocated,
 * and the @spare ones only once something lowers the tunable again (the
 * stub of ext4_should_retry_alloc() does, to make space appear at the
 * retry).
 */
struct file *iw_open(struct iw_ctx *c, const char *name)
{
	struct file *f;

	f = file_open_root_mnt(c->fs->mnt, name, O_CREAT | O_RDWR | O_LARGEFILE,
			       0644);
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(c->test, f, "cannot open %s", name);
	return f;
}

/* Close, so that ext4 drops the file's block preallocations. */
void iw_close(struct file *f)
{
	fput(f);
	flush_delayed_fput();
}

/* A shared writable mapping of the case's file from offset 0, @len bytes. */
unsigned long iw_mmap(struct iw_ctx *c, unsigned long len)
{
	struct kunit *test = c->test;
	unsigned long addr;

	addr = kunit_vm_mmap(test, c->file, 0, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "mmap of the file failed");
	KUNIT_ASSERT_LT_MSG(test, addr, TASK_SIZE, "mmap: error %ld",
			    (long)addr);
	return addr;
}

/**
 * iw_fill() - Fill the file system, leaving exact free space.
 * @c: The case.
 * @headroom: Clusters that can be reserved or allocated afterwards.
 * @spare: Further free clusters held back by s_resv_clusters.
 */
void iw_fill(struct iw_ctx *c, s64 headroom, s64 spare)
{
	struct ext4_sb_info *sbi = c->fs->sbi;
	struct kunit *test = c->test;
	u8 bits = c->inode->i_blkbits;
	struct file *filler;
	s64 chunk, free;
	loff_t size;
	int ret;

	atomic64_set(&sbi->s_resv_clusters, 0);
	filler = iw_open(c, "filler");
	for (chunk = 256; chunk; chunk /= 4) {
		do {
			size = i_size_read(file_inode(filler));
			ret = vfs_fallocate(filler, 0, size,
					    EXT4_C2B(sbi, chunk) << bits);
		} while (!ret);
		if (ret != -ENOSPC)
			iw_close(filler);
		KUNIT_ASSERT_EQ_MSG(test, ret, -ENOSPC, "filling up");
	}
	size = i_size_read(file_inode(filler));
	ret = vfs_truncate(&filler->f_path,
			   size - (EXT4_C2B(sbi, headroom + spare) << bits));
	if (!ret)
		ret = vfs_fsync(filler, 0);
	iw_close(filler);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "shortening the filler");

	free = percpu_counter_sum(&sbi->s_freeclusters_counter);
	KUNIT_ASSERT_EQ_MSG(test, free, headroom + spare,
			    "free clusters after filling up");
	atomic64_set(&sbi->s_resv_clusters, spare);
}

/*
 * Calls ->iomap_begin must refuse: the documented error, and no change to
 * the extent status tree or any counter.  The write mappings, and the
 * read and zero mappings of iomap inodes (which iomap calls with offsets
 * the VFS has already checked, and never on inline data: the refusals
 * are the only lines of theirs no other case runs).  Only what the
 * interface specifies: an inode without the extents flag, or the zero
 * mapping of an inline data inode, may be refused earlier, when the
 * implementation chooses the inode's path, so those are path_choice_test's
 * and reached the way a user reaches them.
 */
enum iw_bad {
	BAD_NO_WRITE_FLAG,
	BAD_INLINE_DATA,
	BAD_SHUTDOWN,
	BAD_EMERGENCY_RO,
	BAD_OFFSET,
};

/* Which ->iomap_begin: the write ops of the row's mount, or these. */
enum iw_bad_ops { BAD_OPS_WRITE, BAD_OPS_READ, BAD_OPS_ZERO };

struct bad_row {
	const char *desc;
	const struct iw_fs *fs;
	enum iw_bad bad;
	int ret;
	enum iw_bad_ops ops;
};

static const struct bad_row bad_rows[] = {
	{ "da: no IOMAP_WRITE", &iw_fs_1k, BAD_NO_WRITE_FLAG, -EINVAL },
	{ "da: inline data", &iw_fs_1k, BAD_INLINE_DATA, -ERANGE },
	{ "da: shut down", &iw_fs_1k, BAD_SHUTDOWN, -EIO },
	{ "da: emergency read-only", &iw_fs_1k, BAD_EMERGENCY_RO, -EROFS },
	{ "nd: no IOMAP_WRITE", &iw_fs_1k_nd, BAD_NO_WRITE_FLAG, -EINVAL },
	{ "nd: inline data", &iw_fs_1k_nd, BAD_INLINE_DATA, -ERANGE },
	{ "nd: shut down", &iw_fs_1k_nd, BAD_SHUTDOWN, -EIO },
	{ "nd: emergency read-only", &iw_fs_1k_nd, BAD_EMERGENCY_RO, -EROFS },
	/* A write at the first block past EXT4_MAX_LOGICAL_BLOCK. */
	{ "da: past the last logical block", &iw_fs_1k, BAD_OFFSET, -EINVAL },
	{ "nd: past the last logical block", &iw_fs_1k_nd, BAD_OFFSET, -EINVAL },
	{ "read: inline data", &iw_fs_1k, BAD_INLINE_DATA, -ERANGE, BAD_OPS_READ },
	{ "read: past the last logical block", &iw_fs_1k, BAD_OFFSET, -EINVAL,
	  BAD_OPS_READ },
	{ "zero: shut down", &iw_fs_1k, BAD_SHUTDOWN, -EIO, BAD_OPS_ZERO },
	{ "zero: emergency read-only", &iw_fs_1k, BAD_EMERGENCY_RO, -EROFS,
	  BAD_OPS_ZERO },
	{ "zero: past the last logical block", &iw_fs_1k_nd, BAD_OFFSET, -EINVAL,
	  BAD_OPS_ZERO },
};

KUNIT_ARRAY_PARAM_DESC(bad_rows, bad_rows, desc);

static void bad_row_test(struct kunit *test)
{
	static const struct iw_start s = { .dirty_len = KB(2) };
	const struct bad_row *r = test->param_value;
	struct ext4_kunit_es before[IW_MAX_ES], after[IW_MAX_ES];
	const struct iomap_ops *ops = iw_ops(r->fs);
	struct ext4_kunit_counters now;
	struct iomap iomap = {}, srcmap = {};
	unsigned int flags = IOMAP_WRITE;
	struct ext4_inode_info *ei;
	unsigned long *sflags;
	int nbefore, nafter, ret;
	loff_t pos = KB(1);
	struct iw_ctx *c;
	u64 seq, after_seq;
	u16 inline_off;

	c = iw_setup(test, r->fs, "file");
	iw_start(c, &s);
	ei = EXT4_I(c->inode);
	sflags = &c->fs->sbi->s_ext4_flags;
	inline_off = ei->i_inline_off;
	if (r->ops == BAD_OPS_READ) {
		ops = &ext4_iomap_buffered_read_ops;
		flags = 0;
	} else if (r->ops == BAD_OPS_ZERO) {
		ops = &ext4_iomap_buffered_zero_ops;
		flags = IOMAP_ZERO;
	}

	switch (r->bad) {
	case BAD_NO_WRITE_FLAG:
		flags = IOMAP_ZERO;
		break;
	case BAD_INLINE_DATA:
		ext4_set_inode_flag(c->inode, EXT4_INODE_INLINE_DATA);
		ei->i_inline_off = EXT4_GOOD_OLD_INODE_SIZE;
		break;
	case BAD_SHUTDOWN:
		set_bit(EXT4_FLAGS_SHUTDOWN, sflags);
		break;
	case BAD_EMERGENCY_RO:
		set_bit(EXT4_FLAGS_EMERGENCY_RO, sflags);
		break;
	case BAD_OFFSET:
		pos = (EXT4_MAX_LOGICAL_BLOCK + 1LL) << c->inode->i_blkbits;
		break;
	}

	nbefore = ext4_kunit_es_snapshot(c->inode, before, IW_MAX_ES);
	seq = READ_ONCE(ei->i_es_seq);
	inode_lock(c->inode);
	kunit_warning_suppress(test) {
		ret = ops->iomap_begin(c->inode, pos, KB(4), flags, &iomap,
				       &srcmap);
	}
	inode_unlock(c->inode);
	after_seq = READ_ONCE(ei->i_es_seq);
	nafter = ext4_kunit_es_snapshot(c->inode, after, IW_MAX_ES);
	ext4_kunit_read_counters(c->inode, &now);

	/* Undo the damage before anything can act on it. */
	clear_bit(EXT4_FLAGS_SHUTDOWN, sflags);
	clear_bit(EXT4_FLAGS_EMERGENCY_RO, sflags);
	ext4_clear_inode_flag(c->inode, EXT4_INODE_INLINE_DATA);
	ei->i_inline_off = inline_off;

	KUNIT_EXPECT_EQ(test, ret, r->ret);
	KUNIT_EXPECT_EQ_MSG(test, nafter, nbefore, "es entries");
	KUNIT_EXPECT_MEMEQ_MSG(test, after, before,
			       sizeof(before[0]) * min(nafter, nbefore),
			       "extent status tree changed");
	KUNIT_EXPECT_EQ_MSG(test, after_seq, seq, "i_es_seq moved");
	KUNIT_EXPECT_EQ(test, now.reserved_data_blocks,
			c->base.reserved_data_blocks);
	KUNIT_EXPECT_EQ(test, now.dirty_clusters, c->base.dirty_clusters);
	KUNIT_EXPECT_EQ(test, now.free_clusters, c->base.free_clusters);
	KUNIT_EXPECT_EQ(test, now.reserved_quota, c->base.reserved_quota);
	KUNIT_EXPECT_EQ(test, iomap.length, 0);
	iw_cleanup_check(c);
}

/*
 * Writeback past ->iomap_end: the disk fails or holds the data writes.
 *
 * The free space of the file system is filled with STALE before the case
 * writes anything, so a block that reaches a reader without its data
 * having been written shows up. The disk rules of kunit/ramdisk.h fail or
 * hold every write from the first block mkfs left free to the end of the
 * disk: only file data goes there on these file systems (no journal,
 * extents in the inode).
 */
#define STALE	0xee

void iw_fill_stale(struct iw_ctx *c)
{
	const struct ext4_kunit_fs *fs = c->fs;
	unsigned int spb = fs->sb->s_blocksize >> SECTOR_SHIFT;
	sector_t first = fs->layout.first_free_block * spb;

	int err;

	err = kunit_ramdisk_fill(fs->disk, first, get_capacity(fs->disk) - first,
				 STALE);
	KUNIT_ASSERT_EQ(c->test, err, 0);
}

int iw_data_rule(struct iw_ctx *c, enum kunit_ramdisk_action action,
		 blk_status_t status)
{
	const struct ext4_kunit_fs *fs = c->fs;
	unsigned int spb = fs->sb->s_blocksize >> SECTOR_SHIFT;
	struct kunit_ramdisk_rule rule = {
		.ops = KUNIT_RAMDISK_WRITE,
		.sector = fs->layout.first_free_block * spb,
		.action = action,
		.status = status,
	};
	int id;

	rule.nr_sectors = get_capacity(fs->disk) - rule.sector;
	id = kunit_ramdisk_add_rule(fs->disk, &rule);
	KUNIT_ASSERT_GE_MSG(c->test, id, 0, "disk rule");
	return id;
}

/*
 * The extents of the inode's extent tree (its root in the inode, depth 0
 * for every file here), as struct iw_es with UW for unwritten and WR for
 * written ones, compared with @expected (ending at an entry with no
 * status).
 */
void iw_check_disk_extents(struct iw_ctx *c, const char *when,
			   const struct iw_es *expected)
{
	struct ext4_inode_info *ei = EXT4_I(c->inode);
	struct kunit *test = c->test;
	struct ext4_extent_header *eh;
	struct ext4_extent *ex;
	int i, n, k = 0;

	down_read(&ei->i_data_sem);
	eh = (struct ext4_extent_header *)ei->i_data;
	KUNIT_ASSERT_EQ_MSG(test, le16_to_cpu(eh->eh_depth), 0,
			    "%s: extent tree depth", when);
	n = le16_to_cpu(eh->eh_entries);
	ex = EXT_FIRST_EXTENT(eh);
	for (i = 0; expected[i].status; i++) {
		unsigned int status;
		bool same;

		if (expected[i].status == EXTENT_STATUS_HOLE)
			continue;
		if (k >= n) {
			KUNIT_FAIL(test, "%s: on-disk extent %d: expected [%u, +%u) %s, found none",
				   when, k, expected[i].lblk, expected[i].len,
				   ext4_kunit_es_status_name(expected[i].status));
			k++;
			continue;
		}
		status = ext4_ext_is_unwritten(ex) ? EXTENT_STATUS_UNWRITTEN :
						     EXTENT_STATUS_WRITTEN;
		same = le32_to_cpu(ex->ee_block) == expected[i].lblk &&
		       ext4_ext_get_actual_len(ex) == expected[i].len &&
		       status == expected[i].status;
		KUNIT_EXPECT_TRUE_MSG(test, same,
				      "%s: on-disk extent %d: expected [%u, +%u) %s, found [%u, +%u) %s",
				      when, k, expected[i].lblk,
				      expected[i].len,
				      ext4_kunit_es_status_name(expected[i].status),
				      le32_to_cpu(ex->ee_block),
				      ext4_ext_get_actual_len(ex),
				      ext4_kunit_es_status_name(status));
		ex++;
		k++;
	}
	KUNIT_EXPECT_EQ_MSG(test, n, k, "%s: number of on-disk extents", when);
	up_read(&ei->i_data_sem);
}

/* A byte range of a file and what it must read back as. */
/*
 * Drop the page cache of the file, which must be clean, and read it back:
 * bytes in one of the @nr ranges of @data must read as that range says,
 * the rest up to i_size as zeros; never STALE. The folios are truncated
 * from the cache, not invalidated: invalidate_mapping_pages() skips a
 * folio that still sits in a per-CPU LRU batch (it holds a reference
 * there until the batch is drained, which depends on what else the CPU
 * did), and the debug kernel's runs then read the cached data back now
 * and then.
 */

void iw_check_read_back_ranges(struct iw_ctx *c, const char *when,
			       const struct iw_bytes *data, int nr)
{
	struct address_space *mapping = c->inode->i_mapping;

	KUNIT_EXPECT_FALSE_MSG(c->test,
			       mapping_tagged(mapping, PAGECACHE_TAG_DIRTY) ||
			       mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK),
			       "%s: dirty or writeback pages before the read back",
			       when);
	filemap_invalidate_lock(mapping);
	truncate_inode_pages(mapping, 0);
	filemap_invalidate_unlock(mapping);
	KUNIT_EXPECT_EQ_MSG(c->test, mapping->nrpages, 0,
			    "%s: page cache not dropped", when);
	iw_expect_bytes(c, when, data, nr);
}

/* Read the file up to i_size: bytes as in iw_check_read_back_ranges(). */
void iw_expect_bytes(struct iw_ctx *c, const char *when,
		     const struct iw_bytes *data, int nr)
{
	struct kunit *test = c->test;
	loff_t size = i_size_read(c->inode), pos = 0, i;
	u8 *buf;
	int k;

	buf = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kernel_read(c->file, buf, size, &pos), size);
	for (i = 0; i < size; i++) {
		u8 want = 0;

		for (k = 0; k < nr; k++)
			if (i >= data[k].start && i < data[k].end)
				want = data[k].val;
		if (buf[i] != want) {
			KUNIT_FAIL(test, "%s: byte %lld reads %#x%s, expected %#x",
				   when, i, buf[i],
				   buf[i] == STALE ? " (stale)" : "", want);
			break;
		}
	}
	kunit_kfree(test, buf);
}

void iw_check_read_back(struct iw_ctx *c, const char *when,
			loff_t data_start, loff_t data_end, u8 data)
{
	struct iw_bytes bytes = { data_start, data_end, data };

	iw_check_read_back_ranges(c, when, &bytes, 1);
}

/* Space counters only: @reserved, and deltas from c->base. */
void iw_check_counters(struct iw_ctx *c, const char *when,
		       unsigned int reserved, s64 dirty, s64 free)
{
	struct ext4_kunit_counters now;

	ext4_kunit_read_counters(c->inode, &now);
	KUNIT_EXPECT_EQ_MSG(c->test, now.reserved_data_blocks, reserved,
			    "%s: i_reserved_data_blocks", when);
	KUNIT_EXPECT_EQ_MSG(c->test, now.dirty_clusters - c->base.dirty_clusters,
			    dirty, "%s: dirty clusters delta", when);
	KUNIT_EXPECT_EQ_MSG(c->test, now.free_clusters - c->base.free_clusters,
			    free, "%s: free clusters delta", when);
}

/*
 * The mapped ranges of the inode must be @want: the extent status tree,
 * holes left out, with logically adjacent entries of the same status
 * counted as one (where the blocks landed on disk is not the case's
 * business).
 */
void iw_expect_mapped(struct iw_ctx *c, const char *when,
		      const struct iw_es *want)
{
	struct ext4_kunit_es es[IW_MAX_ES * 2];
	int n, i, k;

	n = iw_mapped_es(c->inode, es);
	for (i = 1, k = 0; i < n; i++) {
		if (es[i].status == es[k].status &&
		    es[i].lblk == es[k].lblk + es[k].len)
			es[k].len += es[i].len;
		else
			es[++k] = es[i];
	}
	n = n ? k + 1 : 0;
	for (i = 0; i < n || want[i].status; i++) {
		if (i >= n || !want[i].status || es[i].lblk != want[i].lblk ||
		    es[i].len != want[i].len || es[i].status != want[i].status) {
			KUNIT_FAIL(c->test,
				   "%s: extent %d: expected [%u, +%u) %s, found [%u, +%u) %s",
				   when, i, want[i].lblk, want[i].len,
				   want[i].status ?
				   ext4_kunit_es_status_name(want[i].status) : "none",
				   i < n ? es[i].lblk : 0, i < n ? es[i].len : 0,
				   i < n ? ext4_kunit_es_status_name(es[i].status) :
				   "none");
			return;
		}
	}
}

/*
 * Files the iomap path may leave out, reached as a user reaches them: a
 * file mapped by indirect blocks (its extents flag cleared on a mount
 * without buffered_iomap, as chattr -e does, then read in afresh by a
 * buffered_iomap mount), and a file with inline data on a file system
 * made with inline_data.  Whichever path an implementation gives them,
 * writes and truncates must do what they say: the bytes read back after
 * fsync, and the file keeps its kind of mapping.
 */
struct path_row {
	const char *desc;
	struct ext4_kunit_mkfs_params mkfs;
	const char *opts;
	bool inline_data;
};

static const struct path_row path_rows[] = {
	{ "1k da: indirect-mapped file", { 1024, 2048 },
	  "buffered_iomap,delalloc" },
	{ "1k nd: indirect-mapped file", { 1024, 2048 },
	  "buffered_iomap,nodelalloc" },
	{ "4k da: inline data file", { 4096, 4096, .feature_inline_data = true },
	  "buffered_iomap,delalloc", true },
	{ "1k nd: inline data file", { 1024, 2048, .feature_inline_data = true },
	  "buffered_iomap,nodelalloc", true },
};

KUNIT_ARRAY_PARAM_DESC(path_rows, path_rows, desc);

/* Clear the extents flag of an empty file, as chattr -e does. */
static void iw_ind_migrate(struct kunit *test, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct file_kattr fa = {};

	KUNIT_ASSERT_EQ(test, vfs_fileattr_get(dentry, &fa), 0);
	fileattr_fill_flags(&fa, fa.flags & ~FS_EXTENT_FL);
	KUNIT_ASSERT_EQ_MSG(test, vfs_fileattr_set(&nop_mnt_idmap, dentry, &fa),
			    0, "clearing the extents flag");
	KUNIT_ASSERT_FALSE(test, ext4_test_inode_flag(file_inode(file),
						      EXT4_INODE_EXTENTS));
}

static void path_choice_test(struct kunit *test)
{
	const struct path_row *r = test->param_value;
	loff_t bs = r->mkfs.block_size;
	/* What the writes and truncates below leave. */
	struct iw_bytes data[] = { { 0, 5 * bs - 300, 0x5a }, {} };
	int nr = r->inline_data ? 2 : 1;
	struct iw_ctx *c;
	struct file *f;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->test = test;
	c->fs = ext4_kunit_fs_setup(test, &r->mkfs,
				    r->inline_data ? r->opts : "nobuffered_iomap");
	f = ext4_kunit_create_file(test, c->fs->mnt, "file");
	if (!r->inline_data) {
		iw_ind_migrate(test, f);
		iw_write(test, f, 0, bs + 100);
		KUNIT_ASSERT_EQ(test, vfs_fsync(f, 0), 0);
		ext4_kunit_close_file(test, f);
		/* Every inode is read in afresh by the buffered_iomap mount. */
		ext4_kunit_umount_now(test, c->fs->mnt);
		c->fs->mnt = ext4_kunit_mount(test, c->fs->dev, r->opts);
		KUNIT_ASSERT_FALSE(test, IS_ERR(c->fs->mnt));
		c->fs->sb = c->fs->mnt->mnt_sb;
		c->fs->sbi = EXT4_SB(c->fs->sb);
		f = ext4_kunit_create_file(test, c->fs->mnt, "file");
		KUNIT_ASSERT_FALSE(test, ext4_test_inode_flag(file_inode(f),
							      EXT4_INODE_EXTENTS));
	} else {
		/*
		 * Not truncated while inline: a truncate down and up of the
		 * inline data, then a write that converts the file, loses
		 * that write's first block at writeback on the stock path
		 * of 7.3.4 too (docs/kunit.md).
		 */
		data[0].end = 60;
		/*
		 * Inline data where the implementation keeps small files in
		 * the inode (ours does: such files keep the buffer_head
		 * path); one that does not is as right, so not asserted.
		 */
		iw_write(test, f, 0, 60);
		data[1] = (struct iw_bytes){ bs / 2, 5 * bs - 300, 0x5a };
	}
	c->file = f;
	c->inode = file_inode(f);
	test->priv = c;

	/*
	 * Across block boundaries, past EOF; then down into a block (whose
	 * tail must be zeroed) and up again.
	 */
	iw_write(test, f, bs / 2, 5 * bs);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&f->f_path, 5 * bs - 300), 0);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&f->f_path, 7 * bs), 0);
	iw_expect_bytes(c, "before fsync", data, nr);
	KUNIT_ASSERT_EQ(test, vfs_fsync(f, 0), 0);
	iw_check_read_back_ranges(c, "after fsync", data, nr);
	KUNIT_EXPECT_EQ_MSG(test, ext4_test_inode_flag(c->inode,
						       EXT4_INODE_EXTENTS),
			    r->inline_data,
			    "extents flag (indirect-mapped files keep their mapping)");
}

/*
 * On a buffered_iomap mount of a file system with inline_data, a new
 * regular file may keep its data in the inode, and such a file keeps the
 * buffer_head path (ext4_init_buffered_iomap() leaves it out).  When a
 * delayed allocation write outgrows the inode, the conversion maps the
 * first block through ext4_da_map_blocks() while the inode still has its
 * inline data (it goes only at writeback): that must reserve the block
 * without looking the extent tree up (i_block holds data, not an extent
 * header), and so must the write's next blocks: each block reserved once,
 * the data read back after fsync, nothing left after truncate.
 */
struct inline_da_row {
	const char *desc;
	struct ext4_kunit_mkfs_params mkfs;
};

static const struct inline_da_row inline_da_rows[] = {
	{ "1k", { 1024, 2048, .feature_inline_data = true } },
	{ "4k", { 4096, 4096, .feature_inline_data = true } },
};

KUNIT_ARRAY_PARAM_DESC(inline_da_rows, inline_da_rows, desc);

static void inline_da_test(struct kunit *test)
{
	static const struct iw_es none[] = { {} };
	static const struct iw_es es[] = { DA(0, 2), {} };
	const struct inline_da_row *r = test->param_value;
	loff_t bs = r->mkfs.block_size;
	struct iw_state st = { .es = none, .size = 60, .disksize = 60 };
	struct iw_ctx *c;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->test = test;
	c->fs = ext4_kunit_fs_setup(test, &r->mkfs, "buffered_iomap,delalloc");
	c->file = ext4_kunit_create_file(test, c->fs->mnt, "inline");
	c->inode = file_inode(c->file);
	test->priv = c;
	KUNIT_ASSERT_TRUE_MSG(test,
			      ext4_test_inode_state(c->inode,
						    EXT4_STATE_MAY_INLINE_DATA),
			      "a new file may hold inline data");
	KUNIT_ASSERT_FALSE_MSG(test, ext4_inode_buffered_iomap(c->inode),
			       "a file that may hold inline data uses iomap");
	ext4_kunit_read_counters(c->inode, &c->zero);
	c->base = c->zero;

	iw_write(test, c->file, 0, 60);
	KUNIT_EXPECT_TRUE_MSG(test, ext4_has_inline_data(c->inode),
			      "60 bytes are inline data");
	iw_check(c, "after 60 bytes", &st);

	/* The inline data goes at writeback (ext4_do_writepages()). */
	iw_write(test, c->file, 0, 2 * bs);
	KUNIT_EXPECT_TRUE_MSG(test, ext4_has_inline_data(c->inode),
			      "inline data until writeback");
	st.es = es;
	st.reserved = 2;
	st.dirty = 2;
	st.size = 2 * bs;
	st.dirty_pages = bs == SZ_4K ? 0x3 : 0x1;
	iw_check(c, "after the write of two blocks", &st);
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	KUNIT_EXPECT_FALSE_MSG(test, ext4_has_inline_data(c->inode),
			       "inline data after fsync");
	iw_check_read_back(c, "after fsync", 0, 2 * bs, 0x5a);
	iw_cleanup_check(c);
}

/*
 * Rescuer threads of "dio/..." workqueues (their comm is truncated) that
 * are not exiting.  destroy_workqueue() returns once kthread_stop() has
 * seen the rescuer release its mm, and the thread stays on the task list,
 * PF_EXITING, until it has run the rest of do_exit(): under UML that may
 * be after the next count (1 run in 20 of kunit-repeat, 2026-12-06).
 */
static int iw_dio_rescuers(void)
{
	struct task_struct *p;
	int n = 0;

	rcu_read_lock();
	for_each_process(p)
		if (str_has_prefix(p->comm, "kworker/R-dio/") &&
		    !(READ_ONCE(p->flags) & PF_EXITING))
			n++;
	rcu_read_unlock();
	return n;
}

/*
 * A buffered_iomap mount that fails after __ext4_fill_super() created
 * sb->s_dio_done_wq, where iomap writeback completes, must destroy it:
 * the VFS does so only for a super block that got a root. Here the root
 * inode cannot be read (the disk fails the reads of the first inode
 * table block). The workqueue has a rescuer thread, "kworker/R-dio/"
 * and the device, so a leak shows as one more such thread after the
 * failed mount than before it. A mount that succeeds has one more once
 * writeback has completed through it (created at mount time or at that
 * I/O: the implementation's choice), so the count does see the
 * workqueue, and none after its unmount.
 */
static void mount_error_test(struct kunit *test)
{
	const struct ext4_kunit_mkfs_params *p = &iw_fs_1k.mkfs;
	unsigned int spb = p->block_size >> SECTOR_SHIFT;
	struct kunit_ramdisk_rule rule = {
		.ops = KUNIT_RAMDISK_READ, .nr_sectors = spb,
		.action = KUNIT_RAMDISK_FAIL, .status = BLK_STS_IOERR,
	};
	struct ext4_kunit_layout layout;
	struct ext4_sb_info *sbi;
	struct vfsmount *mnt;
	struct gendisk *disk;
	struct file *file;
	int before, id;

	disk = kunit_ramdisk_create(test, p->blocks_count * spb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, disk);
	KUNIT_ASSERT_EQ(test, ext4_kunit_mkfs(test, disk_devt(disk), p, &layout),
			0);
	rule.sector = layout.inode_table * spb;
	id = kunit_ramdisk_add_rule(disk, &rule);
	KUNIT_ASSERT_GE(test, id, 0);

	before = iw_dio_rescuers();
	mnt = ext4_kunit_mount(test, disk_devt(disk), "buffered_iomap");
	KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(mnt), -EIO,
			    "mount with the root inode unreadable");
	KUNIT_EXPECT_GT_MSG(test, kunit_ramdisk_remove_rule(disk, id), 0,
			    "reads of the inode table failed");
	KUNIT_EXPECT_EQ_MSG(test, iw_dio_rescuers(), before,
			    "dio workqueues after the failed mount");
	if (!IS_ERR(mnt))
		return;

	mnt = ext4_kunit_mount(test, disk_devt(disk), "buffered_iomap");
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(mnt), "mount once readable: %ld",
			       PTR_ERR(mnt));
	/*
	 * The positive control: the workqueue exists once I/O that completes
	 * through it has run (an implementation may create it at mount time
	 * or at that I/O), and goes with the unmount.
	 */
	file = ext4_kunit_create_file(test, mnt, "file");
	iw_write(test, file, 0, KB(4));
	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);
	KUNIT_EXPECT_EQ_MSG(test, iw_dio_rescuers(), before + 1,
			    "dio workqueues after writeback");
	ext4_kunit_close_file(test, file);
	/*
	 * The failed mount recorded the unreadable inode table on disk: the
	 * fixture's unmount must not count that error.
	 */
	sbi = EXT4_SB(mnt->mnt_sb);
	KUNIT_EXPECT_TRUE_MSG(test, sbi->s_mount_state & EXT4_ERROR_FS,
			      "the error of the failed mount was not recorded");
	sbi->s_mount_state &= ~EXT4_ERROR_FS;
	ext4_kunit_umount_now(test, mnt);
	KUNIT_EXPECT_EQ_MSG(test, iw_dio_rescuers(), before,
			    "dio workqueues after the unmount");
}

void iw_fs_desc(const struct iw_fs **fs, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", (*fs)->delalloc ? "1k da" : "1k nd");
}

static struct kunit_case ext4_iomap_write_test_cases[] = {
	KUNIT_CASE_PARAM(write_row_test, write_rows_gen_params),
	KUNIT_CASE_PARAM(mmap_write_test, mmap_rows_gen_params),
	KUNIT_CASE_PARAM(falloc_test, falloc_rows_gen_params),
	KUNIT_CASE(valid_delalloc_test),
	KUNIT_CASE(valid_unwritten_test),
	KUNIT_CASE_PARAM(bad_row_test, bad_rows_gen_params),
	KUNIT_CASE_PARAM(path_choice_test, path_rows_gen_params),
	KUNIT_CASE_PARAM(inline_da_test, inline_da_rows_gen_params),
	KUNIT_CASE(mount_error_test),
	{}
};

static struct kunit_suite ext4_iomap_write_test_suite = {
	.name = "ext4_iomap_write",
	.test_cases = ext4_iomap_write_test_cases,
};

kunit_test_suites(&ext4_iomap_write_test_suite);

MODULE_DESCRIPTION("KUnit tests of the ext4 iomap buffered write path");
MODULE_LICENSE("GPL");
