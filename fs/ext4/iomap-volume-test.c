// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of what a volume does with an iomap inode besides buffered
 * writes: online defragmentation, SEEK_DATA/SEEK_HOLE, and direct I/O
 * meeting buffered data of the same file.  Suite ext4_iomap_volume, on the
 * in-memory fixture (kunit-fixture.c) and the helpers of
 * iomap-write-test.h.
 *
 * What is enforced, as behaviour any correct implementation shows:
 *
 * - defrag_test: ext4_move_extents() (EXT4_IOC_MOVE_EXT, what e4defrag
 *   calls) of a file whose blocks interleave with another file's, onto
 *   the blocks a donor file fallocated, moves every block and returns 0:
 *   after fsync the file maps, block for block, the blocks the donor had,
 *   as written extents, and the donor the file's old blocks; the data
 *   reads back from the page cache and from the disk; a block that was
 *   dirty in the page cache when it moved reaches its new block; nothing
 *   is reserved or dirty afterwards, and removing the donor gives back
 *   exactly the file's old blocks.
 * - seek_test: SEEK_DATA and SEEK_HOLE from every half block of a file
 *   answer what the stock (buffer_head) path answers for the same history
 *   of writes, fallocates, punches, zero ranges and truncates (block-sized
 *   writes into a page of fallocated blocks among them), on a second
 *   file system of the same shape mounted nobuffered_iomap: with the data
 *   dirty in the page cache, after fsync, and from the disk; and, in every
 *   history, that no written byte lies in what they report as a hole
 *   (the one history where the stock path legitimately answers
 *   otherwise checks only that).
 * - inline_switch_test: on a file system with inline_data, a new file
 *   starts in its inode; a write takes it out, and from the next write on
 *   it takes the iomap path (what EXT4_IOC_GETSTATE reports to users); the
 *   data of every write reads back, before and after fsync and from the
 *   disk, and truncating it gives everything back.
 * - remount_test: a remount with nobuffered_iomap and back, with dirty data
 *   of both paths in the page cache: a file instantiated before a remount
 *   keeps its path, a new one takes the option in effect (the documented
 *   behaviour of the option, which EXT4_IOC_GETSTATE shows users); writes
 *   to all of them read back after fsync and from the disk.  The option
 *   is flipped as ext4's reconfigure does (vol_remount()).
 * - dio_test: an O_DIRECT write into the middle of dirty buffered data,
 *   one over dirty data and past EOF, a buffered write past an EOF that an
 *   O_DIRECT write moved, and an O_DIRECT read of dirty data: the file
 *   reads what was written last, before and after fsync and from the disk.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/uio.h>

#include "ext4.h"
#include "iomap-write-test.h"
#include "kunit-fixture.h"

/* Fill @len bytes at @pos of @file with @val through ->write_iter. */
static void vol_write(struct kunit *test, struct file *file, loff_t pos,
		      size_t len, u8 val)
{
	ssize_t ret;
	char *buf;

	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, val, len);
	ret = kernel_write(file, buf, len, &pos);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)len,
			    "write of %zu bytes at %lld", len, pos);
	kunit_kfree(test, buf);
}

/* Drop the clean page cache of @inode, so that what is read next is on disk. */
static void vol_drop_cache(struct kunit *test, struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;

	KUNIT_ASSERT_FALSE_MSG(test, mapping_tagged(mapping, PAGECACHE_TAG_DIRTY),
			       "ino %llu: dirty pages before the cache drop",
			       inode->i_ino);
	filemap_invalidate_lock(mapping);
	truncate_inode_pages(mapping, 0);
	filemap_invalidate_unlock(mapping);
}

/* The physical block of block @lblk of @inode, 0 for a hole; *@flags set. */
static ext4_fsblk_t vol_pblk(struct kunit *test, struct inode *inode,
			     ext4_lblk_t lblk, unsigned int *flags)
{
	struct ext4_map_blocks map = { .m_lblk = lblk, .m_len = 1 };
	int ret;

	/* The extent tree as it is on disk (ext4_map_blocks() is not exported). */
	down_read(&EXT4_I(inode)->i_data_sem);
	ret = ext4_map_query_blocks(NULL, inode, &map, 0);
	up_read(&EXT4_I(inode)->i_data_sem);
	KUNIT_ASSERT_GE(test, ret, 0);
	*flags = map.m_flags;
	return ret ? map.m_pblk : 0;
}

/* ------------------------------------------------------------------ */

#define DEFRAG_BLOCKS	8

struct defrag_row {
	const char *desc;
	const struct iw_fs *fs;
	/* A block of the file written again, dirty, before the move; -1: none. */
	int dirty_block;
};

static const struct defrag_row defrag_rows[] = {
	{ "1k da: 8 interleaved blocks", &iw_fs_1k, -1 },
	{ "1k nd: 8 interleaved blocks", &iw_fs_1k_nd, -1 },
	{ "4k da: 8 interleaved blocks", &iw_fs_4k, -1 },
	{ "4k nd: 8 interleaved blocks", &iw_fs_4k_nd, -1 },
	{ "4k da: block 3 dirty when it moves", &iw_fs_4k, 3 },
	{ "1k nd: block 5 dirty when it moves", &iw_fs_1k_nd, 5 },
};

static void defrag_desc(const struct defrag_row *r, char *desc)
{
	strscpy(desc, r->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(defrag, defrag_rows, defrag_desc);

static void defrag_test(struct kunit *test)
{
	const struct defrag_row *r = test->param_value;
	ext4_fsblk_t old[DEFRAG_BLOCKS], donor_old[DEFRAG_BLOCKS];
	struct ext4_kunit_counters before, after;
	struct iw_bytes data[DEFRAG_BLOCKS];
	struct file *other, *donor;
	struct inode *dinode;
	unsigned int bs, flags;
	int i, extents = 1, ret;
	u64 moved = 0;

	struct iw_ctx *c = iw_setup(test, r->fs, "orig");

	ext4_kunit_read_counters(c->inode, &c->zero);

	bs = i_blocksize(c->inode);
	other = iw_open(c, "other");
	donor = iw_open(c, "donor");
	dinode = file_inode(donor);

	/* The file's blocks interleave with the other file's on disk. */
	for (i = 0; i < DEFRAG_BLOCKS; i++) {
		vol_write(test, c->file, (loff_t)i * bs, bs, 0x10 + i);
		KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
		vol_write(test, other, (loff_t)i * bs, bs, 0x77);
		KUNIT_ASSERT_EQ(test, vfs_fsync(other, 0), 0);
		data[i] = (struct iw_bytes){ (loff_t)i * bs, (loff_t)(i + 1) * bs,
					     0x10 + i };
	}
	for (i = 0; i < DEFRAG_BLOCKS; i++) {
		old[i] = vol_pblk(test, c->inode, i, &flags);
		KUNIT_ASSERT_TRUE(test, flags & EXT4_MAP_MAPPED);
		if (i && old[i] != old[i - 1] + 1)
			extents++;
	}
	KUNIT_ASSERT_GE_MSG(test, extents, 2,
			    "set-up: the file is in one extent, nothing to move");

	KUNIT_ASSERT_EQ(test, vfs_fallocate(donor, 0, 0,
					    (loff_t)DEFRAG_BLOCKS * bs), 0);
	for (i = 0; i < DEFRAG_BLOCKS; i++) {
		donor_old[i] = vol_pblk(test, dinode, i, &flags);
		KUNIT_ASSERT_TRUE(test, flags & EXT4_MAP_UNWRITTEN);
	}
	if (r->dirty_block >= 0) {
		vol_write(test, c->file, (loff_t)r->dirty_block * bs, bs, 0xd1);
		data[r->dirty_block].val = 0xd1;
	}
	ext4_kunit_read_counters(c->inode, &before);

	ret = ext4_move_extents(c->file, donor, 0, 0, DEFRAG_BLOCKS, &moved);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "ext4_move_extents()");
	KUNIT_EXPECT_EQ_MSG(test, moved, (u64)DEFRAG_BLOCKS, "blocks moved");
	iw_expect_bytes(c, "right after the move", data, DEFRAG_BLOCKS);

	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(donor, 0), 0);
	for (i = 0; i < DEFRAG_BLOCKS; i++) {
		ext4_fsblk_t p = vol_pblk(test, c->inode, i, &flags);

		KUNIT_EXPECT_EQ_MSG(test, p, donor_old[i],
				    "block %d of the file: at %llu, expected the donor's %llu",
				    i, p, donor_old[i]);
		KUNIT_EXPECT_TRUE_MSG(test, flags & EXT4_MAP_MAPPED,
				      "block %d of the file not written after fsync (flags %#x)",
				      i, flags);
		p = vol_pblk(test, dinode, i, &flags);
		KUNIT_EXPECT_EQ_MSG(test, p, old[i],
				    "block %d of the donor: at %llu, expected the file's old %llu",
				    i, p, old[i]);
	}
	iw_check_read_back_ranges(c, "after the move and fsync", data,
				  DEFRAG_BLOCKS);

	ext4_kunit_read_counters(c->inode, &after);
	KUNIT_EXPECT_EQ(test, after.reserved_data_blocks, 0);
	KUNIT_EXPECT_EQ(test, after.reserved_quota, 0);
	KUNIT_EXPECT_EQ_MSG(test, after.dirty_clusters, before.dirty_clusters,
			    "dirty clusters after fsync");

	/*
	 * Every block comes back once the three files are truncated (how
	 * many extent tree blocks each file holds meanwhile depends on how
	 * the swap merged extents).
	 */
	KUNIT_ASSERT_EQ(test, vfs_truncate(&donor->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(donor, 0), 0);
	iw_close(donor);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&other->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(other, 0), 0);
	iw_close(other);
	iw_cleanup_check(c);
}

/* ------------------------------------------------------------------ */

/*
 * One step of a file history: what to do, at which range (KiB).  @op: w:
 * write, s: fsync, f: fallocate, k: fallocate keeping the size, p: punch,
 * z: zero range, t: truncate to @pos.
 */
struct seek_op {
	char op;
	u32 pos, len;
};

struct seek_hist {
	const char *desc;
	struct seek_op ops[6];
	/*
	 * Legitimately different from the stock path: only that no written
	 * byte is reported as a hole is checked (seek_no_hidden_data()).
	 */
	bool not_exact;
};

#define SEEK_HISTS	8
static const struct seek_hist seek_hists[SEEK_HISTS] = {
	{ "data in a hole, truncated up", { { 'w', 64, 64 }, { 't', 256 } } },
	{ "dirty data in fallocated blocks", { { 'f', 0, 256 }, { 'w', 128, 64 } } },
	{ "fallocated beyond EOF", { { 'w', 0, 64 }, { 'k', 64, 128 } } },
	{ "a punched hole, dirty data near it",
	  { { 'w', 0, 256 }, { 's' }, { 'p', 64, 64 }, { 'w', 160, 4 } } },
	{ "zero range over dirty data", { { 'w', 0, 256 }, { 'z', 64, 64 } } },
	{ "sparse blocks", { { 'w', 0, 4 }, { 'w', 192, 4 } } },
	{ "dirty data over written blocks",
	  { { 'w', 0, 128 }, { 's' }, { 'w', 64, 4 } } },
	/*
	 * Block-sized writes into a page of fallocated blocks (with 1k
	 * blocks, a folio only partly uptodate).  Without delalloc, the
	 * buffer_head path converts the unwritten extent when it writes,
	 * zeroing out and converting blocks around the write as well (up to
	 * s_extent_max_zeroout_kb), and SEEK_DATA then finds those zeros as
	 * data; iomap converts what was written when the write completes.
	 * Both are right: a file system may report zeros as data.
	 */
	{ "a page of fallocated blocks written in part",
	  { { 'f', 0, 64 }, { 'w', 5, 2 }, { 'w', 40, 1 } }, true },
};

static void seek_apply(struct kunit *test, struct file *f,
		       const struct seek_hist *h)
{
	const struct seek_op *o;

	for (o = h->ops; o < h->ops + ARRAY_SIZE(h->ops) && o->op; o++) {
		loff_t pos = KB(o->pos), len = KB(o->len);

		switch (o->op) {
		case 'w':
			vol_write(test, f, pos, len, 0x5a);
			break;
		case 's':
			KUNIT_ASSERT_EQ(test, vfs_fsync(f, 0), 0);
			break;
		case 'f':
			KUNIT_ASSERT_EQ(test, vfs_fallocate(f, 0, pos, len), 0);
			break;
		case 'k':
			KUNIT_ASSERT_EQ(test, vfs_fallocate(f, FALLOC_FL_KEEP_SIZE,
							    pos, len), 0);
			break;
		case 'p':
			KUNIT_ASSERT_EQ(test, vfs_fallocate(f, PUNCH, pos, len), 0);
			break;
		case 'z':
			KUNIT_ASSERT_EQ(test, vfs_fallocate(f, FALLOC_FL_ZERO_RANGE |
							    FALLOC_FL_KEEP_SIZE,
							    pos, len), 0);
			break;
		case 't':
			KUNIT_ASSERT_EQ(test, vfs_truncate(&f->f_path, pos), 0);
			break;
		}
	}
}

/* lseek(@whence) from @off, with -ENXIO meaning @size. */
static loff_t seek_or_size(struct file *f, loff_t off, int whence, loff_t size)
{
	loff_t r = vfs_llseek(f, off, whence);

	return r == -ENXIO ? size : r;
}

/*
 * What every implementation must do: from every half block, no non-zero
 * byte lies before SEEK_DATA's answer or in a range SEEK_HOLE reports as a
 * hole.
 */
static void seek_no_hidden_data(struct kunit *test, const char *hist,
				const char *when, struct file *f)
{
	loff_t size = i_size_read(file_inode(f)), step, off, i, pos = 0;
	loff_t data, hole, next, *ans;
	int k, n;
	u8 *buf;

	step = i_blocksize(file_inode(f)) / 2;
	n = size / step + 1;
	buf = kunit_kzalloc(test, size + 1, GFP_KERNEL);
	ans = kunit_kcalloc(test, n, 3 * sizeof(*ans), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, ans);
	/* All the answers first: the read below fills the page cache. */
	for (k = 0, off = 0; off < size; k++, off += step) {
		ans[3 * k] = seek_or_size(f, off, SEEK_DATA, size);
		ans[3 * k + 1] = seek_or_size(f, off, SEEK_HOLE, size);
		ans[3 * k + 2] = ans[3 * k + 1] < size ?
			seek_or_size(f, ans[3 * k + 1], SEEK_DATA, size) : size;
	}
	KUNIT_ASSERT_EQ(test, kernel_read(f, buf, size, &pos), size);
	for (k = 0, off = 0; off < size; k++, off += step) {
		data = ans[3 * k];
		hole = ans[3 * k + 1];
		next = ans[3 * k + 2];
		KUNIT_ASSERT_TRUE_MSG(test, data >= off && hole >= off &&
				      data <= size && hole <= size,
				      "%s, %s: from %lld: SEEK_DATA %lld, SEEK_HOLE %lld, size %lld",
				      hist, when, off, data, hole, size);
		for (i = off; i < data; i++)
			if (buf[i])
				goto hidden;
		for (i = hole; i < next; i++)
			if (buf[i])
				goto hidden;
	}
	return;
hidden:
	KUNIT_FAIL(test, "%s, %s: from %lld: data at %lld; SEEK_DATA %lld, SEEK_HOLE %lld, %lld",
		   hist, when, off, i, data, hole, next);
}

/* SEEK_DATA and SEEK_HOLE of @f and @stock agree from every half block. */
static void seek_compare(struct kunit *test, const char *hist, const char *when,
			 bool exact, struct file *f, struct file *stock)
{
	loff_t size = i_size_read(file_inode(f)), off;
	loff_t step = i_blocksize(file_inode(f)) / 2;
	static const int whence[] = { SEEK_DATA, SEEK_HOLE };
	int w;

	KUNIT_ASSERT_EQ_MSG(test, size, i_size_read(file_inode(stock)),
			    "%s, %s: i_size", hist, when);
	if (!exact)
		goto invariant;
	for (off = 0; off <= size + step; off += step) {
		for (w = 0; w < ARRAY_SIZE(whence); w++) {
			loff_t got = vfs_llseek(f, off, whence[w]);
			loff_t want = vfs_llseek(stock, off, whence[w]);

			if (got == want)
				continue;
			KUNIT_FAIL(test, "%s, %s: %s from %lld: %lld, the stock path says %lld",
				   hist, when,
				   whence[w] == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
				   off, got, want);
			goto invariant;
		}
	}
invariant:
	/*
	 * Reading a file fills its page cache, which SEEK_DATA looks at
	 * over unwritten extents: both files are read, so that they stay
	 * alike for what is compared next.
	 */
	seek_no_hidden_data(test, hist, when, f);
	seek_no_hidden_data(test, hist, when, stock);
}

static const struct iw_fs *seek_fs[] = {
	&iw_fs_1k, &iw_fs_1k_nd, &iw_fs_4k, &iw_fs_4k_nd,
};

static void seek_test(struct kunit *test)
{
	const struct iw_fs *fs = *(const struct iw_fs **)test->param_value;
	struct file *f[SEEK_HISTS], *stock[SEEK_HISTS];
	struct ext4_kunit_fs *sfs;
	char name[16];
	int h;

	struct iw_ctx *c = iw_setup(test, fs, "unused");

	ext4_kunit_read_counters(c->inode, &c->zero);

	sfs = ext4_kunit_fs_setup(test, &fs->mkfs, fs->delalloc ?
				  "nobuffered_iomap,delalloc" :
				  "nobuffered_iomap,nodelalloc,dioread_nolock");
	for (h = 0; h < SEEK_HISTS; h++) {
		snprintf(name, sizeof(name), "h%d", h);
		f[h] = iw_open(c, name);
		stock[h] = ext4_kunit_create_file(test, sfs->mnt, name);
		KUNIT_ASSERT_FALSE(test, ext4_inode_buffered_iomap(file_inode(stock[h])));
		seek_apply(test, f[h], &seek_hists[h]);
		seek_apply(test, stock[h], &seek_hists[h]);
		seek_compare(test, seek_hists[h].desc, "dirty",
			     !seek_hists[h].not_exact, f[h], stock[h]);
	}
	for (h = 0; h < SEEK_HISTS; h++) {
		KUNIT_ASSERT_EQ(test, vfs_fsync(f[h], 0), 0);
		KUNIT_ASSERT_EQ(test, vfs_fsync(stock[h], 0), 0);
		seek_compare(test, seek_hists[h].desc, "after fsync",
			     !seek_hists[h].not_exact, f[h], stock[h]);
		vol_drop_cache(test, file_inode(f[h]));
		vol_drop_cache(test, file_inode(stock[h]));
		seek_compare(test, seek_hists[h].desc, "from the disk",
			     !seek_hists[h].not_exact, f[h], stock[h]);
		KUNIT_ASSERT_EQ(test, vfs_truncate(&f[h]->f_path, 0), 0);
		iw_close(f[h]);
	}
	iw_cleanup_check(c);
}

/* "1k da", "4k nd": a row of a list of file systems. */
static void vol_fs_desc(const struct iw_fs **fs, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%uk %s",
		 (*fs)->mkfs.block_size / SZ_1K, (*fs)->delalloc ? "da" : "nd");
}

KUNIT_ARRAY_PARAM(seek, seek_fs, vol_fs_desc);

/* ------------------------------------------------------------------ */

/* O_DIRECT I/O of @len bytes at @pos from or to user memory @ubuf. */
static ssize_t vol_dio(struct file *file, loff_t pos, char __user *ubuf,
		       size_t len, bool write)
{
	struct iov_iter iter;
	struct kiocb kiocb;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_flags |= IOCB_DIRECT;
	kiocb.ki_pos = pos;
	iov_iter_ubuf(&iter, write ? ITER_SOURCE : ITER_DEST, ubuf, len);
	return write ? vfs_iocb_iter_write(file, &kiocb, &iter) :
		       vfs_iocb_iter_read(file, &kiocb, &iter);
}

/* An O_DIRECT write of @len bytes of @val at @pos, from user memory. */
static void vol_dio_write(struct kunit *test, struct file *file, loff_t pos,
			  size_t len, u8 val)
{
	char __user *ubuf;
	char *buf;
	ssize_t ret;

	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, val, len);
	ubuf = ext4_kunit_user_buf(test, buf, len, PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, IS_ALIGNED((unsigned long)ubuf, SZ_4K));
	ret = vol_dio(file, pos, ubuf, len, true);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)len,
			    "O_DIRECT write of %zu bytes at %lld", len, pos);
}

/* An O_DIRECT read of [pos, pos + len) reads @val throughout. */
static void vol_dio_read_expect(struct kunit *test, struct file *file,
				loff_t pos, size_t len, u8 val)
{
	char __user *ubuf;
	char *buf;
	ssize_t ret;
	size_t i;

	ubuf = ext4_kunit_user_buf(test, NULL, len, PAGE_SIZE);
	ret = vol_dio(file, pos, ubuf, len, false);
	KUNIT_ASSERT_EQ_MSG(test, ret, (ssize_t)len,
			    "O_DIRECT read of %zu bytes at %lld", len, pos);
	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, copy_from_user(buf, ubuf, len), 0);
	for (i = 0; i < len; i++) {
		if ((u8)buf[i] != val) {
			KUNIT_FAIL(test, "O_DIRECT read: byte %lld reads %#x, expected %#x",
				   pos + (loff_t)i, (u8)buf[i], val);
			break;
		}
	}
}

struct dio_row {
	const char *desc;
	const struct iw_fs *fs;
	/* Buffered write, left dirty: [pos, pos + len) of 0xb1. */
	loff_t bpos, blen;
	/* Then an O_DIRECT write of 0xd1; len 0: none. */
	loff_t dpos, dlen;
	/* Then a buffered write of 0xb2; len 0: none. */
	loff_t b2pos, b2len;
	struct iw_bytes data[3];
};

static const struct dio_row dio_rows[] = {
	{ "1k da: O_DIRECT into dirty data", &iw_fs_1k, 0, 20000, KB(8), KB(8),
	  0, 0, { { 0, KB(8), 0xb1 }, { KB(8), KB(16), 0xd1 },
		  { KB(16), 20000, 0xb1 } } },
	{ "4k nd: O_DIRECT into dirty data", &iw_fs_4k_nd, 0, 20000, KB(8), KB(8),
	  0, 0, { { 0, KB(8), 0xb1 }, { KB(8), KB(16), 0xd1 },
		  { KB(16), 20000, 0xb1 } } },
	{ "4k da: O_DIRECT over dirty data and past EOF", &iw_fs_4k,
	  0, KB(32), KB(16), KB(32), 0, 0,
	  { { 0, KB(16), 0xb1 }, { KB(16), KB(48), 0xd1 } } },
	{ "1k nd: O_DIRECT over dirty data and past EOF", &iw_fs_1k_nd,
	  0, KB(32), KB(16), KB(32), 0, 0,
	  { { 0, KB(16), 0xb1 }, { KB(16), KB(48), 0xd1 } } },
	{ "4k da: buffered past an EOF O_DIRECT moved", &iw_fs_4k,
	  0, 0, 0, KB(16), 20000, 3000,
	  { { 0, KB(16), 0xd1 }, { 20000, 23000, 0xb2 } } },
	{ "1k nd: buffered past an EOF O_DIRECT moved", &iw_fs_1k_nd,
	  0, 0, 0, KB(16), 20000, 3000,
	  { { 0, KB(16), 0xd1 }, { 20000, 23000, 0xb2 } } },
};

static void dio_desc(const struct dio_row *r, char *desc)
{
	strscpy(desc, r->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(dio, dio_rows, dio_desc);

static void dio_test(struct kunit *test)
{
	const struct dio_row *r = test->param_value;
	struct iw_ctx *c = iw_setup(test, r->fs, "dio");

	ext4_kunit_read_counters(c->inode, &c->zero);
	if (r->blen)
		vol_write(test, c->file, r->bpos, r->blen, 0xb1);
	/* An O_DIRECT read of dirty data reads it, not the disk. */
	if (r->blen >= SZ_4K)
		vol_dio_read_expect(test, c->file, 0, SZ_4K, 0xb1);
	if (r->dlen)
		vol_dio_write(test, c->file, r->dpos, r->dlen, 0xd1);
	if (r->b2len)
		vol_write(test, c->file, r->b2pos, r->b2len, 0xb2);
	iw_expect_bytes(c, "after the writes", r->data, ARRAY_SIZE(r->data));
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_expect_bytes(c, "after fsync", r->data, ARRAY_SIZE(r->data));
	iw_check_read_back_ranges(c, "from the disk", r->data,
				  ARRAY_SIZE(r->data));
	iw_cleanup_check(c);
}

/* ------------------------------------------------------------------ */

struct inline_switch_row {
	const char *desc;
	struct ext4_kunit_mkfs_params mkfs;
	const char *opts;
};

static const struct inline_switch_row inline_switch_rows[] = {
	{ "1k da", { 1024, 2048, .feature_inline_data = true },
	  "buffered_iomap,delalloc" },
	{ "4k da", { 4096, 4096, .feature_inline_data = true },
	  "buffered_iomap,delalloc" },
	{ "1k nd", { 1024, 2048, .feature_inline_data = true },
	  "buffered_iomap,nodelalloc" },
	{ "4k nd", { 4096, 4096, .feature_inline_data = true },
	  "buffered_iomap,nodelalloc" },
};

KUNIT_ARRAY_PARAM_DESC(inline_switch, inline_switch_rows, desc);

static void inline_switch_test(struct kunit *test)
{
	const struct inline_switch_row *r = test->param_value;
	loff_t bs = r->mkfs.block_size;
	struct iw_bytes data[] = {
		{ 0, 2 * bs, 0x5a }, { 2 * bs, 3 * bs, 0x6b },
	};
	struct iw_ctx *c;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->test = test;
	c->fs = ext4_kunit_fs_setup(test, &r->mkfs, r->opts);
	c->file = ext4_kunit_create_file(test, c->fs->mnt, "grows");
	c->inode = file_inode(c->file);
	test->priv = c;
	ext4_kunit_read_counters(c->inode, &c->zero);

	vol_write(test, c->file, 0, 60, 0x5a);
	/* In the inode now: the buffer_head path, whatever the mount says. */
	KUNIT_ASSERT_TRUE(test, ext4_has_inline_data(c->inode));
	KUNIT_EXPECT_FALSE(test, ext4_inode_buffered_iomap(c->inode));
	vol_write(test, c->file, 0, 2 * bs, 0x5a);
	vol_write(test, c->file, 2 * bs, bs, 0x6b);
	KUNIT_EXPECT_TRUE_MSG(test, ext4_inode_buffered_iomap(c->inode),
			      "a write after the file left its inode: still the buffer_head path");
	iw_expect_bytes(c, "after the writes", data, ARRAY_SIZE(data));
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	iw_check_read_back_ranges(c, "after fsync", data, ARRAY_SIZE(data));
	/* And iomap writes, after the cache drop. */
	vol_write(test, c->file, bs / 2, bs, 0x7c);
	KUNIT_ASSERT_EQ(test, vfs_fsync(c->file, 0), 0);
	{
		struct iw_bytes more[] = {
			{ 0, bs / 2, 0x5a }, { bs / 2, bs + bs / 2, 0x7c },
			{ bs + bs / 2, 2 * bs, 0x5a }, { 2 * bs, 3 * bs, 0x6b },
		};

		iw_check_read_back_ranges(c, "after an iomap write", more,
					  ARRAY_SIZE(more));
	}
	iw_cleanup_check(c);
}

/* ------------------------------------------------------------------ */

/*
 * What mount -o remount,[no]buffered_iomap changes, done as ext4's
 * reconfigure does it (ext4_apply_options() under s_writepages_rwsem):
 * the fixture cannot call reconfigure_super(), which is private to fs/.
 * The file system was mounted with buffered_iomap, so s_dio_done_wq, the
 * one other thing a remount to buffered_iomap sets up, exists.  The e2e
 * case remount-live remounts for real, with writes in flight.
 */
static void vol_remount(struct super_block *sb, bool buffered_iomap)
{
	int alloc_ctx = ext4_writepages_down_write(sb);

	if (buffered_iomap)
		set_opt2(sb, BUFFERED_IOMAP);
	else
		clear_opt2(sb, BUFFERED_IOMAP);
	ext4_writepages_up_write(sb, alloc_ctx);
}

static const struct iw_fs *remount_fs[] = { &iw_fs_1k, &iw_fs_4k_nd };

static void remount_test(struct kunit *test)
{
	const struct iw_fs *fs = *(const struct iw_fs **)test->param_value;
	struct file *b, *n;
	struct inode *ia;
	loff_t bs;

	struct iw_ctx *c = iw_setup(test, fs, "a");

	ext4_kunit_read_counters(c->inode, &c->zero);
	ia = c->inode;
	bs = i_blocksize(ia);
	vol_write(test, c->file, 0, 3 * bs, 0x11);

	vol_remount(c->fs->sb, false);
	b = iw_open(c, "b");
	KUNIT_EXPECT_FALSE_MSG(test, ext4_inode_buffered_iomap(file_inode(b)),
			       "a file created after remount,nobuffered_iomap");
	KUNIT_EXPECT_TRUE_MSG(test, ext4_inode_buffered_iomap(ia),
			      "a file in memory across remount,nobuffered_iomap");
	vol_write(test, b, 0, 3 * bs, 0x22);
	/* Both paths dirty at once, each written to again. */
	vol_write(test, c->file, 3 * bs, bs, 0x33);
	vol_write(test, b, bs, bs, 0x44);

	vol_remount(c->fs->sb, true);
	n = iw_open(c, "n");
	KUNIT_EXPECT_TRUE_MSG(test, ext4_inode_buffered_iomap(file_inode(n)),
			      "a file created after remount,buffered_iomap");
	KUNIT_EXPECT_FALSE_MSG(test, ext4_inode_buffered_iomap(file_inode(b)),
			       "a file in memory across remount,buffered_iomap");
	vol_write(test, n, 0, 2 * bs, 0x55);
	vol_write(test, b, 2 * bs, 2 * bs, 0x66);

	{
		const struct iw_bytes da[] = { { 0, 3 * bs, 0x11 },
					       { 3 * bs, 4 * bs, 0x33 } };
		const struct iw_bytes db[] = { { 0, bs, 0x22 },
					       { bs, 2 * bs, 0x44 },
					       { 2 * bs, 4 * bs, 0x66 } };
		const struct iw_bytes dn[] = { { 0, 2 * bs, 0x55 } };
		struct file *files[] = { c->file, b, n };
		const struct iw_bytes *want[] = { da, db, dn };
		const int nr[] = { ARRAY_SIZE(da), ARRAY_SIZE(db), ARRAY_SIZE(dn) };
		int i;

		for (i = 0; i < ARRAY_SIZE(files); i++) {
			KUNIT_ASSERT_EQ(test, vfs_fsync(files[i], 0), 0);
			c->file = files[i];
			c->inode = file_inode(files[i]);
			iw_check_read_back_ranges(c, "after the remounts and fsync",
						  want[i], nr[i]);
		}
	}
	KUNIT_ASSERT_EQ(test, vfs_truncate(&b->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&n->f_path, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(b, 0), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(n, 0), 0);
	c->inode = ia;
	c->file = iw_open(c, "a");
	iw_cleanup_check(c);
}

KUNIT_ARRAY_PARAM(remount, remount_fs, vol_fs_desc);

static struct kunit_case ext4_iomap_volume_cases[] = {
	KUNIT_CASE_PARAM(defrag_test, defrag_gen_params),
	KUNIT_CASE_PARAM(seek_test, seek_gen_params),
	KUNIT_CASE_PARAM(dio_test, dio_gen_params),
	KUNIT_CASE_PARAM(inline_switch_test, inline_switch_gen_params),
	KUNIT_CASE_PARAM(remount_test, remount_gen_params),
	{}
};

static struct kunit_suite ext4_iomap_volume_suite = {
	.name = "ext4_iomap_volume",
	.test_cases = ext4_iomap_volume_cases,
};

kunit_test_suites(&ext4_iomap_volume_suite);
