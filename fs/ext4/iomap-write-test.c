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
 * short for real. ENOSPC is made by really filling the file system, the
 * retry through ext4_should_retry_alloc() both for real (blocks freed in
 * a transaction that has not committed yet) and through a static stub.
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

/* File systems, all mounted with buffered_iomap. */
struct iw_fs {
	struct ext4_kunit_mkfs_params mkfs;
	bool delalloc;
	const char *extra_opts;
};

static const struct iw_fs fs_1k = { { 1024, 2048 }, true };
static const struct iw_fs fs_1k_nd = { { 1024, 2048 }, false };
static const struct iw_fs fs_4k = { { 4096, 4096 }, true };
static const struct iw_fs fs_4k_nd = { { 4096, 4096 }, false };
/*
 * Bigalloc: 16 blocks a cluster, 1024 clusters, so that free space stays
 * above EXT4_FREECLUSTERS_WATERMARK (128 clusters per possible CPU on SMP)
 * and writes through ->write_iter keep using delalloc.
 */
static const struct iw_fs fs_1k_big = { { 1024, 16384, 16 }, true };
static const struct iw_fs fs_4k_big = { { 4096, 16384, 16 }, true };
/* With a journal that commits only when asked to. */
#define JNL_1K	{ .block_size = 1024, .blocks_count = 4096, \
		  .journal_blocks = 1024 }
static const struct iw_fs fs_1k_jnl = { JNL_1K, true, "commit=600" };
static const struct iw_fs fs_1k_jnl_nd = { JNL_1K, false, "commit=600" };
#define JNL_4K	{ .block_size = 4096, .blocks_count = 4096, \
		  .journal_blocks = 1024 }
static const struct iw_fs fs_4k_jnl = { JNL_4K, true, "commit=600" };
static const struct iw_fs fs_4k_jnl_nd = { JNL_4K, false, "commit=600" };
/* With quota accounting (empty quota files). */
static const struct iw_fs fs_1k_jnl_quota_nd = {
	{ .block_size = 1024, .blocks_count = 4096, .journal_blocks = 1024,
	  .feature_quota = true }, false, "commit=600" };

/*
 * Expected extent status entries: [lblk, lblk + len) with a status; a
 * length of END means up to EXT_MAX_BLOCKS. Lists end at an entry with no
 * status.
 */
struct iw_es {
	ext4_lblk_t lblk;
	ext4_lblk_t len;
	unsigned int status;
};

#define END		0
#define DA(l, n)	{ (l), (n), EXTENT_STATUS_DELAYED }
#define UW(l, n)	{ (l), (n), EXTENT_STATUS_UNWRITTEN }
#define WR(l, n)	{ (l), (n), EXTENT_STATUS_WRITTEN }
#define HO(l, n)	{ (l), (n), EXTENT_STATUS_HOLE }
#define IW_MAX_ES	12

/*
 * What the file holds before the write, set up through the real paths in
 * this order: written and synced, then fallocated (unwritten), then
 * written and left dirty in the page cache (delayed on a delalloc mount),
 * then reserved by a delalloc ->iomap_begin whose copy has not happened
 * yet (as when a page fault that reserved blocks has not dirtied its
 * folio yet): delayed extents with no page cache.
 */
struct iw_start {
	loff_t synced_pos, synced_len;
	loff_t falloc_pos, falloc_len;
	loff_t dirty_pos, dirty_len;
	loff_t begun_pos, begun_len;
};

/**
 * struct iw_state - The state a case checks, as exact values.
 * @es: The whole extent status tree.
 * @reserved: i_reserved_data_blocks (clusters); the quota reservation
 *	must be as many clusters, in bytes.
 * @dirty: Delta of the dirty clusters counter from the baseline.
 * @free: Delta of the free clusters counter from the baseline.
 * @size: i_size.
 * @disksize: i_disksize.
 * @dirty_pages: Bit n set: the 4 KiB at n * 4 KiB of the file are in a
 *	dirty folio (units 0 to BITS_PER_LONG - 1 are checked); widened to
 *	whole pages where pages are larger (iw_page_units()).
 */
struct iw_state {
	const struct iw_es *es;
	unsigned int reserved;
	s64 dirty;
	s64 free;
	loff_t size;
	loff_t disksize;
	unsigned long dirty_pages;
};

/* What a case works on. */
struct iw_ctx {
	struct kunit *test;
	struct ext4_kunit_fs *fs;
	struct file *file;
	struct inode *inode;
	/* Counters before the start state and before the write. */
	struct ext4_kunit_counters zero, base;
	/* The mapping iw_replay_begin() hands back to iomap. */
	struct iomap replay;
	/* ext4_should_retry_alloc() stub: calls, and clusters to free. */
	int retry_calls;
	s64 retry_frees;
	char opts[64];
};

/**
 * iw_setup() - Mount a fresh file system and create a file on it.
 * @test: The test case.
 * @fs: The file system to make.
 * @name: File name.
 *
 * Return: The case's context, also in test->priv; the file uses iomap.
 */
static struct iw_ctx *iw_setup(struct kunit *test, const struct iw_fs *fs,
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
static void iw_write(struct kunit *test, struct file *file, loff_t pos,
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

/* Bytes [start, end) of a file, all @val. */
struct iw_bytes {
	loff_t start, end;
	u8 val;
};

static void iw_expect_bytes(struct iw_ctx *c, const char *when,
			    const struct iw_bytes *data, int nr);
static void iw_check_read_back_ranges(struct iw_ctx *c, const char *when,
				      const struct iw_bytes *data, int nr);

/**
 * iw_start() - Set up a start state and take the baselines.
 * @c: The case; c->zero is read before anything is written, c->base
 *	after the start state, just before the write under test.
 * @s: The start state.
 */
static void iw_start(struct iw_ctx *c, const struct iw_start *s)
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

/*
 * Dirty page cache in 4 KiB units, whatever the page size: bit n is set
 * when byte n * 4 KiB of the file is in a dirty folio.  Expectations are
 * written in these units (PG(n)), as for 4 KiB pages; iw_page_units()
 * widens them to whole pages, since a folio is dirty or clean as a whole,
 * so that they hold on 16 KiB and 64 KiB pages too.
 */
#define IW_UNIT		SZ_4K
#define IW_NR_UNITS	BITS_PER_LONG

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
static void iw_check(struct iw_ctx *c, const char *when,
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

static const struct iomap_ops *iw_ops(const struct iw_fs *fs)
{
	return fs->delalloc ? &ext4_iomap_buffered_da_write_ops :
			      &ext4_iomap_buffered_write_ops;
}

/* For iw_drive(): copy all that ->iomap_begin mapped. */
#define ALL_MAPPED	(-1)

/**
 * iw_drive() - One pass of iomap_iter() over a write.
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
static int iw_drive_flags(struct iw_ctx *c, const struct iomap_ops *ops,
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

static int iw_drive(struct iw_ctx *c, const struct iomap_ops *ops,
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
static void iw_cleanup_check(struct iw_ctx *c)
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

#define KB(n)	((n) * 1024LL)
/* 4 KiB unit n of the file (page n with 4 KiB pages), see iw_dirty_units(). */
#define PG(n)	BIT(n)
/* 1k and 4k blocks in a page, for rows that hold for any page size. */
#define P1	((int)(PAGE_SIZE / SZ_1K))
#define P4	((int)(PAGE_SIZE / SZ_4K))

static const struct write_row write_rows[] = {
	/* 1k blocks, delalloc: into a hole of an empty file. */
	{ "1k da: hole, all copied", &fs_1k, {}, 0, 3000, 3000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 3, .dirty = 3,
	  .size = 3000, .pages = PG(0),
	  .synced = { WR(0, 3), HO(3, END) }, .synced_free = -3 },
	{ "1k da: hole, nothing copied", &fs_1k, {}, 0, 3000, 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { HO(3, END) },
	  .synced = { HO(3, END) } },
	{ "1k da: hole, 100 bytes of the first block", &fs_1k, {}, 0, 3000, 100,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { DA(0, 1), HO(3, END) }, .reserved = 1, .dirty = 1,
	  .size = 100, .pages = PG(0),
	  .synced = { WR(0, 1), HO(3, END) }, .synced_free = -1 },
	{ "1k da: hole, up to a block boundary", &fs_1k, {}, 0, 3000, 2048,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { DA(0, 2), HO(3, END) }, .reserved = 2, .dirty = 2,
	  .size = 2048, .pages = PG(0),
	  .synced = { WR(0, 2), HO(3, END) }, .synced_free = -2 },
	{ "1k da: hole, 8 blocks over two pages, all copied", &fs_1k, {},
	  0, KB(8), KB(8),
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { DA(0, 8), HO(8, END) }, .reserved = 8, .dirty = 8,
	  .size = KB(8), .pages = PG(0) | PG(1),
	  .synced = { WR(0, 8), HO(8, END) }, .synced_free = -8 },
	{ "1k da: hole, 20 blocks, short in the sixth", &fs_1k, {},
	  0, KB(20), 6000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(20),
	  .es = { DA(0, 6), HO(20, END) }, .reserved = 6, .dirty = 6,
	  .size = 6000, .pages = PG(0) | PG(1),
	  .synced = { WR(0, 6), HO(20, END) }, .synced_free = -6 },
	{ "1k da: hole, at 1500, short in a later block", &fs_1k, {},
	  1500, 5000, 3000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(1),
	  .map_len = KB(6),
	  .es = { HO(0, 1), DA(1, 4), HO(7, END) }, .reserved = 4, .dirty = 4,
	  .size = 4500, .pages = PG(0) | PG(1),
	  .synced = { HO(0, 1), WR(1, 4), HO(7, END) }, .synced_free = -4 },
	/* Inside EOF, into a hole before written data. */
	{ "1k da: hole inside EOF, 1000 bytes", &fs_1k, { KB(4), KB(1) },
	  0, KB(2), 1000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 1), HO(2, 2), WR(4, 1), HO(5, END) }, .reserved = 1,
	  .dirty = 1, .size = KB(5), .pages = PG(0),
	  .synced = { WR(0, 1), HO(2, 2), WR(4, 1), HO(5, END) },
	  .synced_free = -1 },
	/* Beyond EOF. */
	{ "1k da: beyond EOF, after a hole", &fs_1k, { 0, KB(1) },
	  5000, 1000, 1000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(4),
	  .map_len = KB(2),
	  .es = { WR(0, 1), HO(1, 3), DA(4, 2), HO(6, END) }, .reserved = 2,
	  .dirty = 2, .size = 6000, .pages = PG(1),
	  .synced = { WR(0, 1), HO(1, 3), WR(4, 2), HO(6, END) },
	  .synced_free = -2 },
	{ "1k da: beyond EOF, nothing copied", &fs_1k, { 0, KB(1) },
	  5000, 1000, 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(4),
	  .map_len = KB(2),
	  .es = { WR(0, 1), HO(1, 3), HO(6, END) }, .size = KB(1),
	  .synced = { WR(0, 1), HO(1, 3), HO(6, END) } },
	/* Delayed allocation that was there before the call. */
	{ "1k da: old delalloc, nothing copied", &fs_1k,
	  { .dirty_len = KB(2) }, 0, KB(2), 0,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2, .size = KB(2),
	  .pages = PG(0),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -2 },
	{ "1k da: old delalloc, 10 bytes of the second block", &fs_1k,
	  { .dirty_len = KB(2) }, KB(1), KB(1), 10,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = KB(1),
	  .map_len = KB(1),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2, .size = KB(2),
	  .pages = PG(0),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -2 },
	{ "1k da: delalloc of a write still copying, nothing copied", &fs_1k,
	  { .begun_len = KB(2) }, 0, KB(2), 0,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2,
	  .synced = { DA(0, 2), HO(2, END) }, .synced_reserved = 2 },
	{ "1k da: across EOF, old delalloc then hole", &fs_1k,
	  { .dirty_len = 1500 }, 1000, 3000, 1048,
	  .type = IOMAP_DELALLOC, .new = false, .map_pos = 0, .map_len = KB(2),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 2, .size = KB(2),
	  .pages = PG(0),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -2 },
	/*
	 * A write fault (iomap_page_mkwrite()) that reserved a folio's
	 * blocks and then failed: the reservation is not punched.
	 */
	{ "1k da: fault into a hole, nothing written", &fs_1k, { KB(4), KB(1) },
	  0, KB(4), 0, .fault = true,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(4),
	  .es = { DA(0, 4), WR(4, 1), HO(5, END) }, .reserved = 4, .dirty = 4,
	  .size = KB(5),
	  .synced = { DA(0, 4), WR(4, 1), HO(5, END) }, .synced_reserved = 4 },
	/* Unwritten and written extents. */
	{ "1k da: into unwritten", &fs_1k, { .falloc_len = KB(4) },
	  KB(1), KB(1), KB(1),
	  .type = IOMAP_UNWRITTEN, .new = false, .map_pos = KB(1),
	  .map_len = KB(1),
	  .es = { UW(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { UW(0, 1), WR(1, 1), UW(2, 2), HO(4, END) } },
	{ "1k da: into written, 100 bytes", &fs_1k, { 0, KB(4) },
	  0, KB(4), 100,
	  .type = IOMAP_MAPPED, .new = false, .map_pos = 0, .map_len = KB(4),
	  .es = { WR(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 4), HO(4, END) } },

	/* 1k blocks, no delalloc: blocks are allocated unwritten. */
	{ "1k nd: hole, all copied", &fs_1k_nd, {}, 0, 3000, 3000,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3, .size = 3000,
	  .pages = PG(0),
	  .synced = { WR(0, 3), HO(3, END) }, .synced_free = -3 },
	{ "1k nd: hole, nothing copied", &fs_1k_nd, {}, 0, 3000, 0,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3,
	  .synced = { UW(0, 3), HO(3, END) }, .synced_free = -3 },
	{ "1k nd: hole, 100 bytes", &fs_1k_nd, {}, 0, 3000, 100,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3, .size = 100,
	  .pages = PG(0),
	  .synced = { WR(0, 1), UW(1, 2), HO(3, END) }, .synced_free = -3 },
	{ "1k nd: hole inside EOF, 1000 bytes", &fs_1k_nd, { KB(4), KB(1) },
	  0, KB(2), 1000,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(2),
	  .es = { UW(0, 2), HO(2, 2), WR(4, 1), HO(5, END) }, .free = -2,
	  .size = KB(5), .pages = PG(0),
	  .synced = { WR(0, 1), UW(1, 1), HO(2, 2), WR(4, 1), HO(5, END) },
	  .synced_free = -2 },
	{ "1k nd: fault into a hole, nothing written", &fs_1k_nd,
	  { KB(4), KB(1) }, 0, KB(4), 0, .fault = true,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(4),
	  .es = { UW(0, 4), WR(4, 1), HO(5, END) }, .free = -4, .size = KB(5),
	  .synced = { UW(0, 4), WR(4, 1), HO(5, END) }, .synced_free = -4 },
	{ "1k nd: inside EOF, into written", &fs_1k_nd, { 0, KB(4) },
	  100, 200, 200,
	  .type = IOMAP_MAPPED, .new = false, .map_pos = 0, .map_len = KB(1),
	  .es = { WR(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 4), HO(4, END) } },
	{ "1k nd: inside EOF, into unwritten", &fs_1k_nd,
	  { .falloc_len = KB(4) }, 0, KB(4), KB(4),
	  .type = IOMAP_UNWRITTEN, .new = false, .map_pos = 0, .map_len = KB(4),
	  .es = { UW(0, 4), HO(4, END) }, .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 4), HO(4, END) } },
	{ "1k nd: beyond EOF, after a hole", &fs_1k_nd, { 0, KB(1) },
	  KB(2), KB(1), KB(1),
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = KB(2),
	  .map_len = KB(1),
	  .es = { WR(0, 1), HO(1, 1), UW(2, 1), HO(3, END) }, .free = -1,
	  .size = KB(3), .pages = PG(0),
	  .synced = { WR(0, 1), HO(1, 1), WR(2, 1), HO(3, END) },
	  .synced_free = -1 },

	/* 4k blocks. */
	{ "4k da: 3 blocks, short in the second", &fs_4k, {},
	  0, KB(12), 5000,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(12),
	  .es = { DA(0, 2), HO(3, END) }, .reserved = 2, .dirty = 2,
	  .size = 5000, .pages = PG(0) | PG(1),
	  .synced = { WR(0, 2), HO(3, END) }, .synced_free = -2 },
	{ "4k nd: 2 blocks, nothing copied", &fs_4k_nd, {}, 0, KB(8), 0,
	  .type = IOMAP_UNWRITTEN, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { UW(0, 2), HO(2, END) }, .free = -2,
	  .synced = { UW(0, 2), HO(2, END) }, .synced_free = -2 },

	/* Bigalloc, 16 blocks a cluster: reservations count clusters. */
	{ "4k bigalloc: hole, all copied", &fs_4k_big, {}, 0, KB(8), KB(8),
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { DA(0, 2), HO(2, END) }, .reserved = 1, .dirty = 1,
	  .size = KB(8), .pages = PG(0) | PG(1),
	  .synced = { WR(0, 2), HO(2, END) }, .synced_free = -1 },
	{ "4k bigalloc: hole, nothing copied", &fs_4k_big, {}, 0, KB(8), 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { HO(2, END) },
	  .synced = { HO(2, END) } },
	{ "4k bigalloc: hole, first block only", &fs_4k_big, {},
	  0, KB(8), KB(4),
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(8),
	  .es = { DA(0, 1), HO(2, END) }, .reserved = 1, .dirty = 1,
	  .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 1), HO(2, END) }, .synced_free = -1 },
	{ "4k bigalloc: cluster already reserved, nothing copied", &fs_4k_big,
	  { .dirty_len = KB(4) }, KB(8), KB(4), 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(8),
	  .map_len = KB(4),
	  .es = { DA(0, 1), HO(1, 1), HO(3, END) }, .reserved = 1,
	  .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 1), HO(1, 1), HO(3, END) }, .synced_free = -1 },
	{ "4k bigalloc: next cluster, nothing copied", &fs_4k_big,
	  { .dirty_len = KB(4) }, KB(64), KB(4), 0,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = KB(64),
	  .map_len = KB(4),
	  .es = { DA(0, 1), HO(1, 15), HO(17, END) }, .reserved = 1,
	  .size = KB(4), .pages = PG(0),
	  .synced = { WR(0, 1), HO(1, 15), HO(17, END) }, .synced_free = -1 },
	{ "1k bigalloc: 6 blocks, short in the second", &fs_1k_big, {},
	  0, KB(6), 1500,
	  .type = IOMAP_DELALLOC, .new = true, .map_pos = 0, .map_len = KB(6),
	  .es = { DA(0, 2), HO(6, END) }, .reserved = 1, .dirty = 1,
	  .size = 1500, .pages = PG(0),
	  .synced = { WR(0, 2), HO(6, END) }, .synced_free = -1 },

	/* write(2) from user memory that ends in an unmapped page. */
	{ "user, 1k da: 1500 of 4096 bytes readable", &fs_1k, {},
	  0, KB(4), 1500, .user = true, .ret = 1500,
	  .es = { DA(0, 2), HO(4, END) }, .reserved = 2, .dirty = 2,
	  .size = 1500, .pages = PG(0),
	  .synced = { WR(0, 2), HO(4, END) }, .synced_free = -2 },
	{ "user, 1k da: nothing readable", &fs_1k, {},
	  0, KB(4), 0, .user = true, .ret = -EFAULT,
	  .es = { HO(4, END) },
	  .synced = { HO(4, END) } },
	/*
	 * Without delalloc, the blocks allocated beyond the new EOF by a
	 * short extending write are truncated again; truncating zeroes the
	 * rest of the EOF block and writes it back first, which converts
	 * the blocks and moves i_disksize.
	 */
	{ "user, 1k nd: 1500 of 4096 bytes readable", &fs_1k_nd, {},
	  0, KB(4), 1500, .user = true, .ret = 1500,
	  .es = { WR(0, 2) }, .free = -2, .size = 1500, .disksize = 1500,
	  .synced = { WR(0, 2) }, .synced_free = -2 },
	{ "user, 1k nd: nothing readable", &fs_1k_nd, {},
	  0, KB(4), 0, .user = true, .ret = -EFAULT,
	  .es = {}, .synced = {} },
	{ "user, 1k nd: 100 bytes at 5000, after 1000 written", &fs_1k_nd,
	  { 0, 1000 }, 5000, KB(4), 100, .user = true, .ret = 100,
	  .es = { WR(0, 1), HO(1, 3), WR(4, 1) }, .free = -1, .size = 5100,
	  .disksize = 5100,
	  .synced = { WR(0, 1), HO(1, 3), WR(4, 1) }, .synced_free = -1 },
	{ "user, 4k bigalloc: 100 of 8192 bytes at 4096", &fs_4k_big, {},
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
	{ "1k da", &fs_1k,
	  .es = { DA(0, P1), HO(P1, P1), DA(2 * P1, 2), HO(2 * P1 + 2, END) },
	  .reserved = P1 + 2, .dirty = P1 + 2,
	  .synced = { WR(0, P1), HO(P1, P1), WR(2 * P1, 2),
		      HO(2 * P1 + 2, END) },
	  .synced_free = -(P1 + 2) },
	{ "1k nd", &fs_1k_nd,
	  .es = { UW(0, P1), HO(P1, P1), UW(2 * P1, 2), HO(2 * P1 + 2, END) },
	  .free = -(P1 + 2),
	  .synced = { WR(0, P1), HO(P1, P1), WR(2 * P1, 2),
		      HO(2 * P1 + 2, END) },
	  .synced_free = -(P1 + 2) },
	{ "4k da", &fs_4k,
	  .es = { DA(0, P4), HO(P4, P4), DA(2 * P4, 1), HO(2 * P4 + 1, END) },
	  .reserved = P4 + 1, .dirty = P4 + 1,
	  .synced = { WR(0, P4), HO(P4, P4), WR(2 * P4, 1),
		      HO(2 * P4 + 1, END) },
	  .synced_free = -(P4 + 1) },
	{ "4k bigalloc", &fs_4k_big,
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

	addr = kunit_vm_mmap(test, c->file, 0, 3 * PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "mmap of the file failed");
	KUNIT_ASSERT_LT_MSG(test, addr, TASK_SIZE, "mmap: error %ld",
			    (long)addr);
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

#define PUNCH	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

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
	{ "1k da: punch 1500..5000 of 8 dirty blocks", &fs_1k,
	  { .dirty_len = KB(8) }, PUNCH, 1500, 3500,
	  .synced = { WR(0, 2), HO(2, 2), WR(4, 4), HO(8, END) },
	  .synced_free = -6, .edges = true },
	/*
	 * Zeroing the partial blocks in unwritten extents under dirty page
	 * cache makes iomap write the folios back first, which converts
	 * the extents and moves i_disksize to i_size: 2 blocks freed.
	 */
	{ "1k nd: punch 1500..5000 of 8 dirty blocks", &fs_1k_nd,
	  { .dirty_len = KB(8) }, PUNCH, 1500, 3500,
	  .synced = { WR(0, 2), HO(2, 2), WR(4, 4), HO(8, END) },
	  .synced_free = 2, .edges = true },
	/*
	 * A whole page (a whole block with 4 KiB pages) of dirty data: no
	 * folio is covered in part, nothing is written back, the page's
	 * delalloc goes.
	 */
	{ "4k da: punch a whole dirty page", &fs_4k,
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

	c = iw_setup(test, &fs_1k, "file");
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

	c = iw_setup(test, &fs_1k_nd, "file");
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
static struct file *iw_open(struct iw_ctx *c, const char *name)
{
	struct file *f;

	f = file_open_root_mnt(c->fs->mnt, name, O_CREAT | O_RDWR | O_LARGEFILE,
			       0644);
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(c->test, f, "cannot open %s", name);
	return f;
}

/* Close, so that ext4 drops the file's block preallocations. */
static void iw_close(struct file *f)
{
	fput(f);
	flush_delayed_fput();
}

/**
 * iw_fill() - Fill the file system, leaving exact free space.
 * @c: The case.
 * @headroom: Clusters that can be reserved or allocated afterwards.
 * @spare: Further free clusters held back by s_resv_clusters.
 */
static void iw_fill(struct iw_ctx *c, s64 headroom, s64 spare)
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
	{ "da: 3 clusters left, 3 asked", &fs_1k, 3,
	  .type = IOMAP_DELALLOC, .map_len = KB(3),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 3, .dirty = 3 },
	/*
	 * What does not fit as a whole is reserved in smaller parts, down to
	 * a block: the write copies what fits (3 -> 1 block here; iomap maps
	 * the rest again, see enospc_short_write_test).
	 */
	{ "da: 2 clusters left, 3 asked", &fs_1k, 2,
	  .type = IOMAP_DELALLOC, .map_len = KB(1),
	  .es = { DA(0, 1), HO(1, END) }, .reserved = 1, .dirty = 1 },
	{ "da: full, no journal to wait for", &fs_1k, 0, .ret = -ENOSPC,
	  .es = { HO(0, END) } },
	{ "da: full, journal, nothing being freed", &fs_1k_jnl, 0,
	  .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "da: full, retry frees 3", &fs_1k, 0, true, 3,
	  .retry_calls = 1, .type = IOMAP_DELALLOC, .map_len = KB(3),
	  .es = { DA(0, 3), HO(3, END) }, .reserved = 3, .dirty = 3 },
	/*
	 * A write fault needs the whole folio and does not punch what it
	 * reserved when it fails: it reserves all or nothing.
	 */
	{ "da fault: 2 clusters left, 3 asked", &fs_1k, 2, .fault = true,
	  .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "da: full, retry frees 2", &fs_1k, 0, true, 2,
	  .retry_calls = 2, .type = IOMAP_DELALLOC, .map_len = KB(1),
	  .es = { DA(0, 1), HO(1, END) }, .reserved = 1, .dirty = 1 },
	{ "nd: 3 clusters left, 3 asked", &fs_1k_nd, 3,
	  .type = IOMAP_UNWRITTEN, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3 },
	{ "nd: 1 cluster left, 3 asked", &fs_1k_nd, 1,
	  .type = IOMAP_UNWRITTEN, .map_len = KB(1),
	  .es = { UW(0, 1), HO(1, END) }, .free = -1 },
	{ "nd: full", &fs_1k_nd, 0, .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "nd: full, journal, nothing being freed", &fs_1k_jnl_nd, 0,
	  .ret = -ENOSPC, .es = { HO(0, END) } },
	{ "nd: full, retry frees 3", &fs_1k_nd, 0, true, 3,
	  .retry_calls = 1, .type = IOMAP_UNWRITTEN, .map_len = KB(3),
	  .es = { UW(0, 3), HO(3, END) }, .free = -3 },
	{ "nd: full, retry frees nothing", &fs_1k_nd, 0, true, 0,
	  .ret = -ENOSPC, .retry_calls = 1, .es = { HO(0, END) } },
	{ "4k bigalloc da: 0 clusters left", &fs_4k_big, 0, .ret = -ENOSPC,
	  .es = { HO(0, END) } },
	{ "4k bigalloc da: 1 cluster left, 3 blocks asked", &fs_4k_big, 1,
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

	c = iw_setup(test, &fs_1k_jnl_nd, "file");
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

	c = iw_setup(test, &fs_1k, "file");
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
	{ "da: no IOMAP_WRITE", &fs_1k, BAD_NO_WRITE_FLAG, -EINVAL },
	{ "da: inline data", &fs_1k, BAD_INLINE_DATA, -ERANGE },
	{ "da: shut down", &fs_1k, BAD_SHUTDOWN, -EIO },
	{ "da: emergency read-only", &fs_1k, BAD_EMERGENCY_RO, -EROFS },
	{ "nd: no IOMAP_WRITE", &fs_1k_nd, BAD_NO_WRITE_FLAG, -EINVAL },
	{ "nd: inline data", &fs_1k_nd, BAD_INLINE_DATA, -ERANGE },
	{ "nd: shut down", &fs_1k_nd, BAD_SHUTDOWN, -EIO },
	{ "nd: emergency read-only", &fs_1k_nd, BAD_EMERGENCY_RO, -EROFS },
	/* A write at the first block past EXT4_MAX_LOGICAL_BLOCK. */
	{ "da: past the last logical block", &fs_1k, BAD_OFFSET, -EINVAL },
	{ "nd: past the last logical block", &fs_1k_nd, BAD_OFFSET, -EINVAL },
	{ "read: inline data", &fs_1k, BAD_INLINE_DATA, -ERANGE, BAD_OPS_READ },
	{ "read: past the last logical block", &fs_1k, BAD_OFFSET, -EINVAL,
	  BAD_OPS_READ },
	{ "zero: shut down", &fs_1k, BAD_SHUTDOWN, -EIO, BAD_OPS_ZERO },
	{ "zero: emergency read-only", &fs_1k, BAD_EMERGENCY_RO, -EROFS,
	  BAD_OPS_ZERO },
	{ "zero: past the last logical block", &fs_1k_nd, BAD_OFFSET, -EINVAL,
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

static void iw_fill_stale(struct iw_ctx *c)
{
	const struct ext4_kunit_fs *fs = c->fs;
	unsigned int spb = fs->sb->s_blocksize >> SECTOR_SHIFT;
	sector_t first = fs->layout.first_free_block * spb;

	int err;

	err = kunit_ramdisk_fill(fs->disk, first, get_capacity(fs->disk) - first,
				 STALE);
	KUNIT_ASSERT_EQ(c->test, err, 0);
}

static int iw_data_rule(struct iw_ctx *c, enum kunit_ramdisk_action action,
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
static void iw_check_disk_extents(struct iw_ctx *c, const char *when,
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

static void iw_check_read_back_ranges(struct iw_ctx *c, const char *when,
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
static void iw_expect_bytes(struct iw_ctx *c, const char *when,
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

static void iw_check_read_back(struct iw_ctx *c, const char *when,
			       loff_t data_start, loff_t data_end, u8 data)
{
	struct iw_bytes bytes = { data_start, data_end, data };

	iw_check_read_back_ranges(c, when, &bytes, 1);
}

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
	{ "1k da: delalloc", &fs_1k, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, -3 },
	{ "1k nd: unwritten", &fs_1k_nd, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, -3 },
	{ "1k da: into fallocated", &fs_1k, KB(4), KB(1), KB(2),
	  { UW(0, 4), HO(4, END) }, 0 },
	{ "4k da: delalloc", &fs_4k, 0, 0, KB(8),
	  { UW(0, 2), HO(2, END) }, -2 },
	{ "4k nd: unwritten", &fs_4k_nd, 0, 0, KB(8),
	  { UW(0, 2), HO(2, END) }, -2 },
	{ "1k bigalloc da: delalloc", &fs_1k_big, 0, 0, 3000,
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

	c = iw_setup(test, &fs_4k, "file");
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
	{ "1k da: 3 blocks freed, not committed, 3 written", &fs_1k_jnl,
	  0, 3, KB(3), KB(3), { WR(0, 3) } },
	{ "4k da: 3 blocks freed, not committed, 3 written", &fs_4k_jnl,
	  0, 3, KB(12), KB(12), { WR(0, 3) } },
	{ "1k da: 1 free, 2 freed, not committed, 3 written", &fs_1k_jnl,
	  1, 2, KB(3), KB(3), { WR(0, 3) } },
	/* The third block fails at write time; writeback writes two. */
	{ "1k da: 2 freed, not committed, 3 asked: short write", &fs_1k_jnl,
	  0, 2, KB(3), KB(2), { WR(0, 2) } },
	{ "1k da: nothing free: the write fails", &fs_1k_jnl, 0, 0, KB(3),
	  -ENOSPC, {} },
};

KUNIT_ARRAY_PARAM_DESC(wb_enospc_rows, wb_enospc_rows, desc);

/* Space counters only: @reserved, and deltas from c->base. */
static void iw_check_counters(struct iw_ctx *c, const char *when,
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

/*
 * The mapped ranges of the inode must be @want: the extent status tree,
 * holes left out, with logically adjacent entries of the same status
 * counted as one (where the blocks landed on disk is not the case's
 * business).
 */
static void iw_expect_mapped(struct iw_ctx *c, const char *when,
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
	c = iw_setup(test, &fs_1k_jnl_quota_nd, "file");
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

	c = iw_setup(test, &fs_1k_jnl_nd, "file");
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
	{ "1k da: dirty, unlinked open", &fs_1k_jnl, 8, 4, 6, UNLINK_OPEN },
	{ "1k da: dirty, writeback started, unlinked", &fs_1k_jnl, 8, 4, 6,
	  UNLINK_WRITEBACK },
	{ "1k da: dirty, closed, unlinked", &fs_1k_jnl, 8, 4, 6,
	  UNLINK_CLOSED },
	{ "4k da: dirty, unlinked open", &fs_4k_jnl, 8, 2, 5, UNLINK_OPEN },
	{ "4k da: dirty, writeback started, unlinked", &fs_4k_jnl, 8, 2, 5,
	  UNLINK_WRITEBACK },
	{ "1k nd: dirty, unlinked open", &fs_1k_jnl_nd, 8, 4, 6,
	  UNLINK_OPEN },
	{ "4k nd: dirty, writeback started, unlinked", &fs_4k_jnl_nd, 8, 2,
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

	c = iw_setup(test, &fs_1k, "file");
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
	addr = kunit_vm_mmap(test, c->file, 0, PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "mmap of the file failed");
	KUNIT_ASSERT_LT_MSG(test, addr, TASK_SIZE, "mmap: error %ld",
			    (long)addr);
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
	{ "4k da: read in the hole", &fs_4k, LEAF_READ, KB(64) },
	{ "4k nd: read in the hole", &fs_4k_nd, LEAF_READ, KB(64) },
	{ "4k da: write in the hole", &fs_4k, LEAF_WRITE, KB(64) },
	{ "4k nd: write in the hole", &fs_4k_nd, LEAF_WRITE, KB(64) },
	{ "4k da: truncate into the hole", &fs_4k, LEAF_TRUNCATE,
	  KB(48) + 1000, true },
	{ "4k nd: truncate into the hole", &fs_4k_nd, LEAF_TRUNCATE,
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

	c = iw_setup(test, &fs_1k_jnl_nd, "file");
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
	{ "1k da: 3000 bytes", &fs_1k, 0, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, { WR(0, 3), HO(3, END) }, -3 },
	{ "1k nd: 3000 bytes", &fs_1k_nd, 0, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, { WR(0, 3), HO(3, END) }, -3 },
	{ "4k da: 5000 bytes", &fs_4k, 0, 0, 0, 5000,
	  { UW(0, 2), HO(2, END) }, { WR(0, 2), HO(2, END) }, -2 },
	{ "1k bigalloc da: 3000 bytes", &fs_1k_big, 0, 0, 0, 3000,
	  { UW(0, 3), HO(3, END) }, { WR(0, 3), HO(3, END) }, -1 },
	{ "1k da: 1600 bytes into 8 preallocated beyond EOF", &fs_1k,
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
	{ "1k da ops: 5 clusters free, 8 asked", &fs_1k, 5 },
	{ "1k write(2): 5 clusters free, 8 asked", &fs_1k, 5, true },
	{ "1k nd write(2): 5 clusters free, 8 asked", &fs_1k_nd, 5, true },
	{ "4k da ops: 3 clusters free, 6 asked", &fs_4k, 3 },
	{ "1k bigalloc da ops: 2 clusters free, 5 asked", &fs_1k_big, 2 },
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
	{ "1k da: truncate to 1000", &fs_1k, RACE_TRUNCATE, 1000, 0,
	  { WR(0, 1) }, -1, 1000, { { 0, 1000, 0x5a } } },
	{ "1k nd: truncate to 1000", &fs_1k_nd, RACE_TRUNCATE, 1000, 0,
	  { WR(0, 1) }, -1, 1000, { { 0, 1000, 0x5a } } },
	{ "1k da: punch 1024..7168", &fs_1k, RACE_PUNCH, KB(1), KB(6),
	  { WR(0, 1), HO(1, 6), WR(7, 1), HO(8, END) }, -2, KB(8),
	  { { 0, KB(1), 0x5a }, { KB(7), KB(8), 0x5a } } },
	{ "1k nd: punch 1500..6500", &fs_1k_nd, RACE_PUNCH, 1500, 5000,
	  { WR(0, 2), HO(2, 4), WR(6, 2), HO(8, END) }, -4, KB(8),
	  { { 0, 1500, 0x5a }, { 6500, KB(8), 0x5a } } },
	/* A whole folio under writeback in the middle of the range. */
	{ "4k da: punch block 1", &fs_4k, RACE_PUNCH, KB(4), KB(4),
	  { WR(0, 1), HO(1, 1), WR(2, 6), HO(8, END) }, -7, KB(32),
	  { { 0, KB(4), 0x5a }, { KB(8), KB(32), 0x5a } } },
	{ "4k nd: punch blocks 2-5", &fs_4k_nd, RACE_PUNCH, KB(8), KB(16),
	  { WR(0, 2), HO(2, 4), WR(6, 2), HO(8, END) }, -4, KB(32),
	  { { 0, KB(8), 0x5a }, { KB(24), KB(32), 0x5a } } },
	{ "4k da: zero range blocks 2-5", &fs_4k, RACE_ZERO, KB(8), KB(16),
	  { WR(0, 2), UW(2, 4), WR(6, 2), HO(8, END) }, -8, KB(32),
	  { { 0, KB(8), 0x5a }, { KB(24), KB(32), 0x5a } } },
	{ "1k da: zero range 1024..7168", &fs_1k, RACE_ZERO, KB(1), KB(6),
	  { WR(0, 1), UW(1, 6), WR(7, 1), HO(8, END) }, -8, KB(8),
	  { { 0, KB(1), 0x5a }, { KB(7), KB(8), 0x5a } } },
	{ "4k da: zero range blocks 1-6, near full", &fs_4k, RACE_ZERO, KB(4), KB(24),
	  { WR(0, 1), UW(1, 6), WR(7, 1), HO(8, END) }, -8, KB(32),
	  { { 0, KB(4), 0x5a }, { KB(28), KB(32), 0x5a } }, true },
	/* Blocks 1 and 6 are zeroed in the page cache, under writeback. */
	{ "1k nd: zero range 1500..6500, near full", &fs_1k_nd, RACE_ZERO, 1500, 5000,
	  { WR(0, 2), UW(2, 4), WR(6, 2), HO(8, END) }, -8, KB(8),
	  { { 0, 1500, 0x5a }, { 6500, KB(8), 0x5a } }, true },
	{ "1k da: zero range 1500..6500, near full", &fs_1k, RACE_ZERO, 1500, 5000,
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

	c = iw_setup(test, &fs_1k, "file");
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
static const struct iw_fs *stale_map_fs[] = { &fs_4k_jnl, &fs_4k_jnl_nd,
					      &fs_1k_jnl, &fs_1k_jnl_nd };

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
	{ "1k: write and write fault", &fs_1k },
	{ "4k: write and write fault", &fs_4k },
	{ "1k: write, cached hole dropped", &fs_1k, true },
	{ "1k: write, block allocated, its cached extent dropped", &fs_1k,
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

/* Rescuer threads of "dio/..." workqueues (their comm is truncated). */
static int iw_dio_rescuers(void)
{
	struct task_struct *p;
	int n = 0;

	rcu_read_lock();
	for_each_process(p)
		if (str_has_prefix(p->comm, "kworker/R-dio/"))
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
	const struct ext4_kunit_mkfs_params *p = &fs_1k.mkfs;
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
	/* An exiting rescuer may be listed a moment longer. */
	for (id = 0; id < HZ && iw_dio_rescuers() != before; id++)
		schedule_timeout_uninterruptible(1);
	KUNIT_EXPECT_EQ_MSG(test, iw_dio_rescuers(), before,
			    "dio workqueues after the unmount");
}

static const struct iw_fs *stale_error_fs[] = { &fs_1k, &fs_1k_nd };

static void iw_fs_desc(const struct iw_fs **fs, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", (*fs)->delalloc ? "1k da" : "1k nd");
}

KUNIT_ARRAY_PARAM(stale_error, stale_error_fs, iw_fs_desc);

static const struct iw_fs *punch_wb_fs[] = { &fs_1k, &fs_1k_nd };

KUNIT_ARRAY_PARAM(punch_wb, punch_wb_fs, iw_fs_desc);

static struct kunit_case ext4_iomap_write_test_cases[] = {
	KUNIT_CASE_PARAM(write_row_test, write_rows_gen_params),
	KUNIT_CASE_PARAM(mmap_write_test, mmap_rows_gen_params),
	KUNIT_CASE_PARAM(falloc_test, falloc_rows_gen_params),
	KUNIT_CASE(valid_delalloc_test),
	KUNIT_CASE(valid_unwritten_test),
	KUNIT_CASE_PARAM(enospc_row_test, enospc_rows_gen_params),
	KUNIT_CASE(enospc_retry_commit_test),
	KUNIT_CASE(nonda_switch_test),
	KUNIT_CASE_PARAM(bad_row_test, bad_rows_gen_params),
	KUNIT_CASE_PARAM(path_choice_test, path_rows_gen_params),
	KUNIT_CASE_PARAM(wb_error_test, wberr_rows_gen_params),
	KUNIT_CASE(wb_map_error_test),
	KUNIT_CASE_PARAM(wb_enospc_test, wb_enospc_rows_gen_params),
	KUNIT_CASE(conv_enospc_test),
	KUNIT_CASE_PARAM(quota_grow_test, quota_grow_rows_gen_params),
	KUNIT_CASE_PARAM(unlink_dirty_test, unlink_rows_gen_params),
	KUNIT_CASE(mmap_nonda_test),
	KUNIT_CASE_PARAM(leaf_error_test, leaf_rows_gen_params),
	KUNIT_CASE(aborted_journal_test),
	KUNIT_CASE_PARAM(wb_inflight_test, inflight_rows_gen_params),
	KUNIT_CASE_PARAM(enospc_short_write_test, short_rows_gen_params),
	KUNIT_CASE_PARAM(stale_error_test, stale_error_gen_params),
	KUNIT_CASE_PARAM(race_test, race_rows_gen_params),
	KUNIT_CASE_PARAM(punch_wb_race_test, punch_wb_gen_params),
	KUNIT_CASE(wb_stale_lookup_test),
	KUNIT_CASE(wb_replaced_lookup_test),
	KUNIT_CASE_PARAM(wb_stale_map_test, stale_map_gen_params),
	KUNIT_CASE_PARAM(da_race_test, da_race_rows_gen_params),
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
