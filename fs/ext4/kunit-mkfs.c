// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal mkfs for ext4 KUnit tests.
 *
 * Formats a block device, given by number, with a small but complete ext4:
 * superblock and group descriptors (with sparse_super backups), block and
 * inode bitmaps, inode tables, a root directory, lost+found and, on request,
 * an internal jbd2 journal and bigalloc. Everything is computed here at run
 * time; no image or tool from user space is involved. The image is written
 * through the block device's page cache, so it is coherent with whatever
 * else has the device open, and the device is closed again before this
 * returns so that a mount can claim it.
 *
 * Layout of every group: [superblock + descriptors if a backup group]
 * block bitmap, inode bitmap, inode table. Group 0 then holds the root
 * directory block, the lost+found block and the journal, each starting on
 * a cluster boundary so that no two owners share a cluster.
 */

#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/jbd2.h>
#include <linux/magic.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "ext4.h"
#include "ext4_extents.h"
#include "kunit-fixture.h"

#define MKFS_INODE_SIZE		256
#define MKFS_DEFAULT_IPG	128
/* s_jnl_backup_type: s_jnl_blocks holds a copy of the journal's i_block. */
#define MKFS_JNL_BACKUP_BLOCKS	1

/*
 * The quota feature's files (fs/quota/quotaio_v2.h, format vfsv1): a 1 KiB
 * header block (magic, version 1, then the file info: grace times, flags,
 * blocks in the file, heads of the free lists) and the empty root block of
 * the radix tree; structures are added by the kernel as ids appear.
 */
#define MKFS_QUOTA_INO(type)	((type) == USRQUOTA ? EXT4_USR_QUOTA_INO : \
				 EXT4_GRP_QUOTA_INO)
#define MKFS_QUOTA_SIZE		2048
#define MKFS_QUOTA_GRACE	(7 * 24 * 60 * 60)
static const u32 mkfs_quota_magic[] = { 0xd9c01f11, 0xd9c01927 };

static const u8 mkfs_uuid[16] = {
	0x6b, 0x75, 0x6e, 0x69, 0x74, 0x2d, 0x40, 0x78,
	0x80, 0x74, 0x34, 0x2d, 0x66, 0x69, 0x78, 0x74,
};

struct mkfs {
	struct kunit *test;
	const struct ext4_kunit_mkfs_params *p;
	struct ext4_kunit_layout *l;
	struct file *bdev;
	u32 bs;			/* block size */
	u32 cr;			/* cluster ratio */
	u32 fdb;		/* s_first_data_block */
	u32 sb_blk;		/* block holding the primary superblock */
	u32 cpg;		/* clusters per group */
	u32 desc_size;
	u32 gdt_blocks;
	u32 itable_blocks;
	ext4_fsblk_t data_end;	/* end of mkfs's allocations in group 0 */
	ext4_fsblk_t quota_block[2];	/* user and group quota files, or 0 */
	u32 quota_blocks;	/* blocks of each quota file */
	u32 now;
	void *buf;		/* one block of scratch space */
	void *gdt;		/* all group descriptors */
	void *itable_head;	/* group 0's inode table up to lost+found */
	u32 itable_head_blocks;
	struct ext4_super_block *es;
};

static int mkfs_write(struct mkfs *m, const void *data, size_t len, loff_t pos)
{
	ssize_t ret = kernel_write(m->bdev, data, len, &pos);

	if (ret == len)
		return 0;
	kunit_err(m->test, "mkfs: write of %zu bytes at %lld: %zd\n",
		  len, pos, ret);
	return ret < 0 ? ret : -EIO;
}

static int mkfs_write_block(struct mkfs *m, const void *data, ext4_fsblk_t blk)
{
	return mkfs_write(m, data, m->bs, (loff_t)blk * m->bs);
}

static bool mkfs_is_power_of(ext4_group_t g, unsigned int base)
{
	while (g > 1 && g % base == 0)
		g /= base;
	return g == 1;
}

/* sparse_super: backups in groups 0, 1 and powers of 3, 5 and 7. */
static bool mkfs_group_has_super(ext4_group_t g)
{
	return g <= 1 || mkfs_is_power_of(g, 3) || mkfs_is_power_of(g, 5) ||
	       mkfs_is_power_of(g, 7);
}

static ext4_fsblk_t mkfs_group_first(struct mkfs *m, ext4_group_t g)
{
	return m->fdb + (ext4_fsblk_t)g * m->l->blocks_per_group;
}

static ext4_fsblk_t mkfs_group_end(struct mkfs *m, ext4_group_t g)
{
	return min_t(ext4_fsblk_t, mkfs_group_first(m, g + 1),
		     m->p->blocks_count);
}

/* First block of group @g after its superblock backup and descriptors. */
static ext4_fsblk_t mkfs_group_meta(struct mkfs *m, ext4_group_t g)
{
	if (g == 0)
		return m->sb_blk + 1 + m->gdt_blocks;
	if (mkfs_group_has_super(g))
		return mkfs_group_first(m, g) + 1 + m->gdt_blocks;
	return mkfs_group_first(m, g);
}

/* End of the blocks group @g's own metadata (and mkfs's data) occupy. */
static ext4_fsblk_t mkfs_group_used_end(struct mkfs *m, ext4_group_t g)
{
	if (g == 0)
		return m->data_end;
	return mkfs_group_meta(m, g) + 2 + m->itable_blocks;
}

static u32 mkfs_group_clusters(struct mkfs *m, ext4_group_t g)
{
	return DIV_ROUND_UP(mkfs_group_end(m, g) - mkfs_group_first(m, g),
			    m->cr);
}

static u32 mkfs_group_used_clusters(struct mkfs *m, ext4_group_t g)
{
	return DIV_ROUND_UP(mkfs_group_used_end(m, g) - mkfs_group_first(m, g),
			    m->cr);
}

static u32 mkfs_group_used_inodes(ext4_group_t g)
{
	/* Inodes 1..10 are reserved, 11 is lost+found. */
	return g == 0 ? EXT4_GOOD_OLD_FIRST_INO : 0;
}

static int mkfs_geometry(struct mkfs *m)
{
	const struct ext4_kunit_mkfs_params *p = m->p;
	struct ext4_kunit_layout *l = m->l;
	u32 inodes_per_block, bpg, fc_blocks;
	u64 groups;
	ext4_fsblk_t next;
	ext4_group_t g;

	m->bs = p->block_size;
	m->cr = p->cluster_ratio ? p->cluster_ratio : 1;
	if (m->bs < 1024 || m->bs > PAGE_SIZE || !is_power_of_2(m->bs) ||
	    !is_power_of_2(m->cr) || m->cr > 1024) {
		kunit_err(m->test, "mkfs: bad block size %u or cluster ratio %u\n",
			  m->bs, m->cr);
		return -EINVAL;
	}
	if (p->blocks_count % m->cr || p->blocks_count > U32_MAX ||
	    p->r_blocks_count >= p->blocks_count) {
		kunit_err(m->test, "mkfs: bad size %llu (reserved %llu)\n",
			  p->blocks_count, p->r_blocks_count);
		return -EINVAL;
	}
	if (p->journal_blocks && p->journal_blocks < JBD2_MIN_JOURNAL_BLOCKS) {
		kunit_err(m->test, "mkfs: journal of %u blocks is too small\n",
			  p->journal_blocks);
		return -EINVAL;
	}
	if (p->fc_blocks && (!p->feature_fast_commit || p->fc_blocks < 2)) {
		kunit_err(m->test,
			  "mkfs: a fast commit area of %u blocks needs fast_commit and at least 2 blocks\n",
			  p->fc_blocks);
		return -EINVAL;
	}
	fc_blocks = p->fc_blocks ?: JBD2_DEFAULT_FAST_COMMIT_BLOCKS;
	if (p->feature_fast_commit &&
	    p->journal_blocks < JBD2_MIN_JOURNAL_BLOCKS + fc_blocks) {
		kunit_err(m->test,
			  "mkfs: fast_commit needs a journal of at least %u blocks, not %u\n",
			  JBD2_MIN_JOURNAL_BLOCKS + fc_blocks, p->journal_blocks);
		return -EINVAL;
	}

	/* bigalloc needs s_first_data_block 0; 1k blocks otherwise use 1. */
	m->fdb = (m->bs == 1024 && m->cr == 1) ? 1 : 0;
	m->sb_blk = 1024 / m->bs;
	m->cpg = m->bs * 8;
	bpg = m->cpg * m->cr;
	l->blocks_per_group = bpg;
	groups = DIV_ROUND_UP(p->blocks_count - m->fdb, bpg);
	l->groups = groups;

	inodes_per_block = m->bs / MKFS_INODE_SIZE;
	l->inodes_per_group = p->inodes_per_group ? p->inodes_per_group :
			      max(MKFS_DEFAULT_IPG, inodes_per_block);
	if (l->inodes_per_group % inodes_per_block ||
	    l->inodes_per_group % 8 ||
	    l->inodes_per_group < EXT4_GOOD_OLD_FIRST_INO ||
	    l->inodes_per_group > m->bs * 8 ||
	    groups * l->inodes_per_group > U32_MAX) {
		kunit_err(m->test, "mkfs: bad inodes per group %u\n",
			  l->inodes_per_group);
		return -EINVAL;
	}
	m->itable_blocks = l->inodes_per_group / inodes_per_block;
	m->desc_size = p->feature_64bit ? EXT4_MIN_DESC_SIZE_64BIT :
					  EXT4_MIN_DESC_SIZE;
	m->gdt_blocks = DIV_ROUND_UP(groups * m->desc_size, m->bs);

	l->inode_table = mkfs_group_meta(m, 0) + 2;
	/* Group 0's data: root, lost+found, journal, cluster aligned. */
	next = round_up(l->inode_table + m->itable_blocks, m->cr);
	l->root_block = next;
	next = round_up(next + 1, m->cr);
	l->lpf_block = next;
	next = round_up(next + 1, m->cr);
	if (p->journal_blocks) {
		l->journal_block = next;
		next = round_up(next + p->journal_blocks, m->cr);
	}
	if (p->feature_quota) {
		m->quota_blocks = DIV_ROUND_UP(MKFS_QUOTA_SIZE, m->bs);
		for (g = USRQUOTA; g <= GRPQUOTA; g++) {
			m->quota_block[g] = next;
			next = round_up(next + m->quota_blocks, m->cr);
		}
	}
	m->data_end = next;
	l->first_free_block = next;

	l->free_clusters = 0;
	l->free_inodes = 0;
	for (g = 0; g < groups; g++) {
		if (mkfs_group_used_end(m, g) >= mkfs_group_end(m, g)) {
			kunit_err(m->test,
				  "mkfs: group %u too small (%llu blocks) for its metadata (%llu)\n",
				  g, mkfs_group_end(m, g) - mkfs_group_first(m, g),
				  mkfs_group_used_end(m, g) - mkfs_group_first(m, g));
			return -ENOSPC;
		}
		l->free_clusters += mkfs_group_clusters(m, g) -
				    mkfs_group_used_clusters(m, g);
		l->free_inodes += l->inodes_per_group -
				  mkfs_group_used_inodes(g);
	}
	return 0;
}

static void mkfs_fill_super(struct mkfs *m)
{
	const struct ext4_kunit_mkfs_params *p = m->p;
	struct ext4_kunit_layout *l = m->l;
	struct ext4_super_block *es = m->es;
	u64 free_blocks = l->free_clusters * m->cr;

	es->s_inodes_count = cpu_to_le32(l->groups * l->inodes_per_group);
	es->s_blocks_count_lo = cpu_to_le32(p->blocks_count);
	es->s_r_blocks_count_lo = cpu_to_le32(p->r_blocks_count);
	es->s_free_blocks_count_lo = cpu_to_le32(lower_32_bits(free_blocks));
	es->s_free_blocks_count_hi = cpu_to_le32(upper_32_bits(free_blocks));
	es->s_free_inodes_count = cpu_to_le32(l->free_inodes);
	es->s_first_data_block = cpu_to_le32(m->fdb);
	es->s_log_block_size = cpu_to_le32(ilog2(m->bs) - 10);
	es->s_log_cluster_size = cpu_to_le32(ilog2(m->bs * m->cr) - 10);
	es->s_blocks_per_group = cpu_to_le32(l->blocks_per_group);
	es->s_clusters_per_group = cpu_to_le32(m->cpg);
	es->s_inodes_per_group = cpu_to_le32(l->inodes_per_group);
	es->s_wtime = cpu_to_le32(m->now);
	es->s_max_mnt_count = cpu_to_le16(0xffff);
	es->s_magic = cpu_to_le16(EXT4_SUPER_MAGIC);
	es->s_state = cpu_to_le16(EXT4_VALID_FS);
	es->s_errors = cpu_to_le16(EXT4_ERRORS_CONTINUE);
	es->s_lastcheck = cpu_to_le32(m->now);
	es->s_creator_os = cpu_to_le32(EXT4_OS_LINUX);
	es->s_rev_level = cpu_to_le32(EXT4_DYNAMIC_REV);
	es->s_first_ino = cpu_to_le32(EXT4_GOOD_OLD_FIRST_INO);
	es->s_inode_size = cpu_to_le16(MKFS_INODE_SIZE);
	es->s_feature_incompat = cpu_to_le32(EXT4_FEATURE_INCOMPAT_FILETYPE |
					     EXT4_FEATURE_INCOMPAT_EXTENTS);
	es->s_feature_ro_compat =
		cpu_to_le32(EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER |
			    EXT4_FEATURE_RO_COMPAT_LARGE_FILE |
			    EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
			    EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE);
	if (m->cr > 1)
		es->s_feature_ro_compat |=
			cpu_to_le32(EXT4_FEATURE_RO_COMPAT_BIGALLOC);
	if (p->feature_64bit) {
		es->s_feature_incompat |=
			cpu_to_le32(EXT4_FEATURE_INCOMPAT_64BIT);
		es->s_desc_size = cpu_to_le16(m->desc_size);
	}
	if (p->feature_inline_data) {
		es->s_feature_incompat |=
			cpu_to_le32(EXT4_FEATURE_INCOMPAT_INLINE_DATA);
		es->s_feature_compat |=
			cpu_to_le32(EXT4_FEATURE_COMPAT_EXT_ATTR);
	}
	if (p->journal_blocks) {
		es->s_feature_compat |=
			cpu_to_le32(EXT4_FEATURE_COMPAT_HAS_JOURNAL);
		es->s_journal_inum = cpu_to_le32(EXT4_JOURNAL_INO);
		es->s_jnl_backup_type = MKFS_JNL_BACKUP_BLOCKS;
	}
	if (p->feature_quota) {
		es->s_feature_ro_compat |=
			cpu_to_le32(EXT4_FEATURE_RO_COMPAT_QUOTA);
		es->s_usr_quota_inum = cpu_to_le32(EXT4_USR_QUOTA_INO);
		es->s_grp_quota_inum = cpu_to_le32(EXT4_GRP_QUOTA_INO);
	}
	/* jbd2 sets up the fast commit area at mount (0 blocks: default). */
	if (p->feature_fast_commit)
		es->s_feature_compat |=
			cpu_to_le32(EXT4_FEATURE_COMPAT_FAST_COMMIT);
	memcpy(es->s_uuid, mkfs_uuid, sizeof(es->s_uuid));
	memcpy(es->s_volume_name, "kunit", 5);
	es->s_def_hash_version = DX_HASH_HALF_MD4;
	es->s_mkfs_time = cpu_to_le32(m->now);
	es->s_min_extra_isize = cpu_to_le16(sizeof(struct ext4_inode) -
					    EXT4_GOOD_OLD_INODE_SIZE);
	es->s_want_extra_isize = es->s_min_extra_isize;
	es->s_flags = cpu_to_le32(EXT2_FLAGS_SIGNED_HASH);
}

static void mkfs_fill_gdt(struct mkfs *m)
{
	struct ext4_kunit_layout *l = m->l;
	ext4_group_t g;

	for (g = 0; g < l->groups; g++) {
		struct ext4_group_desc *gd = m->gdt + g * m->desc_size;
		ext4_fsblk_t meta = mkfs_group_meta(m, g);
		u32 free = mkfs_group_clusters(m, g) -
			   mkfs_group_used_clusters(m, g);

		gd->bg_block_bitmap_lo = cpu_to_le32(meta);
		gd->bg_inode_bitmap_lo = cpu_to_le32(meta + 1);
		gd->bg_inode_table_lo = cpu_to_le32(meta + 2);
		gd->bg_free_blocks_count_lo = cpu_to_le16(free);
		gd->bg_free_inodes_count_lo =
			cpu_to_le16(l->inodes_per_group -
				    mkfs_group_used_inodes(g));
		gd->bg_used_dirs_count_lo = cpu_to_le16(g == 0 ? 2 : 0);
		gd->bg_flags = cpu_to_le16(EXT4_BG_INODE_ZEROED);
	}
}

/* Set bits [@start, nbits of a block) in @bitmap. */
static void mkfs_set_tail(void *bitmap, u32 start, u32 nbits)
{
	for (; start < nbits; start++)
		__set_bit_le(start, bitmap);
}

static int mkfs_write_group(struct mkfs *m, ext4_group_t g)
{
	struct ext4_kunit_layout *l = m->l;
	ext4_fsblk_t meta = mkfs_group_meta(m, g);
	u32 bits = m->bs * 8, i;
	int err;

	if (mkfs_group_has_super(g)) {
		ext4_fsblk_t sb_blk = g ? mkfs_group_first(m, g) : m->sb_blk;
		loff_t pos = g ? (loff_t)sb_blk * m->bs : 1024;

		m->es->s_block_group_nr = cpu_to_le16(g);
		err = mkfs_write(m, m->es, sizeof(*m->es), pos);
		for (i = 0; !err && i < m->gdt_blocks; i++)
			err = mkfs_write_block(m, m->gdt + i * m->bs,
					       sb_blk + 1 + i);
		if (err)
			return err;
	}

	/* Block bitmap: used clusters, then padding past the group's end. */
	memset(m->buf, 0, m->bs);
	for (i = 0; i < mkfs_group_used_clusters(m, g); i++)
		__set_bit_le(i, m->buf);
	mkfs_set_tail(m->buf, mkfs_group_clusters(m, g), bits);
	err = mkfs_write_block(m, m->buf, meta);
	if (err)
		return err;

	memset(m->buf, 0, m->bs);
	for (i = 0; i < mkfs_group_used_inodes(g); i++)
		__set_bit_le(i, m->buf);
	mkfs_set_tail(m->buf, l->inodes_per_group, bits);
	err = mkfs_write_block(m, m->buf, meta + 1);
	if (err)
		return err;

	/* The inode table: group 0 starts with the used inodes. */
	memset(m->buf, 0, m->bs);
	for (i = 0; i < m->itable_blocks; i++) {
		const void *data = m->buf;

		if (g == 0 && i < m->itable_head_blocks)
			data = m->itable_head + i * m->bs;
		err = mkfs_write_block(m, data, meta + 2 + i);
		if (err)
			return err;
	}
	return 0;
}

/* Map @len blocks at @pblk from logical block 0 in the in-inode extent root. */
static int mkfs_set_extents(struct mkfs *m, struct ext4_inode *raw,
			    ext4_fsblk_t pblk, u32 len)
{
	struct ext4_extent_header *eh = (void *)raw->i_block;
	struct ext4_extent *ex = (void *)(eh + 1);
	u16 max = (sizeof(raw->i_block) - sizeof(*eh)) / sizeof(*ex);
	u32 lblk = 0;
	u16 n = 0;

	while (lblk < len) {
		u32 chunk = min_t(u32, len - lblk, EXT_INIT_MAX_LEN);

		if (n == max) {
			kunit_err(m->test, "mkfs: %u blocks need an extent tree\n",
				  len);
			return -EFBIG;
		}
		ex[n].ee_block = cpu_to_le32(lblk);
		ex[n].ee_len = cpu_to_le16(chunk);
		ex[n].ee_start_hi = cpu_to_le16(upper_32_bits(pblk + lblk));
		ex[n].ee_start_lo = cpu_to_le32(lower_32_bits(pblk + lblk));
		lblk += chunk;
		n++;
	}
	eh->eh_magic = EXT4_EXT_MAGIC;
	eh->eh_entries = cpu_to_le16(n);
	eh->eh_max = cpu_to_le16(max);
	eh->eh_depth = 0;
	raw->i_flags = cpu_to_le32(EXT4_EXTENTS_FL);
	return 0;
}

static int mkfs_set_inode(struct mkfs *m, struct ext4_inode *raw, umode_t mode,
			  u16 links, u64 size, ext4_fsblk_t pblk, u32 len)
{
	/* A partial cluster still takes, and is charged as, a whole one. */
	u64 sectors = (u64)round_up(len, m->cr) * (m->bs >> SECTOR_SHIFT);

	raw->i_mode = cpu_to_le16(mode);
	raw->i_links_count = cpu_to_le16(links);
	raw->i_size_lo = cpu_to_le32(lower_32_bits(size));
	raw->i_size_high = cpu_to_le32(upper_32_bits(size));
	raw->i_blocks_lo = cpu_to_le32(sectors);
	raw->i_atime = cpu_to_le32(m->now);
	raw->i_ctime = raw->i_atime;
	raw->i_mtime = raw->i_atime;
	raw->i_crtime = raw->i_atime;
	raw->i_extra_isize = cpu_to_le16(sizeof(struct ext4_inode) -
					 EXT4_GOOD_OLD_INODE_SIZE);
	return mkfs_set_extents(m, raw, pblk, len);
}

static struct ext4_dir_entry_2 *mkfs_dirent(struct mkfs *m, void *pos, u32 ino,
					    const char *name, u32 rec_len)
{
	struct ext4_dir_entry_2 *de = pos;

	de->inode = cpu_to_le32(ino);
	de->rec_len = ext4_rec_len_to_disk(rec_len, m->bs);
	de->name_len = strlen(name);
	de->file_type = EXT4_FT_DIR;
	memcpy(de->name, name, de->name_len);
	return pos + rec_len;
}

static int mkfs_write_dirs(struct mkfs *m)
{
	struct ext4_kunit_layout *l = m->l;
	void *pos;
	int err;

	memset(m->buf, 0, m->bs);
	pos = mkfs_dirent(m, m->buf, EXT4_ROOT_INO, ".", 12);
	pos = mkfs_dirent(m, pos, EXT4_ROOT_INO, "..", 12);
	mkfs_dirent(m, pos, EXT4_GOOD_OLD_FIRST_INO, "lost+found",
		    m->bs - 24);
	err = mkfs_write_block(m, m->buf, l->root_block);
	if (err)
		return err;

	memset(m->buf, 0, m->bs);
	pos = mkfs_dirent(m, m->buf, EXT4_GOOD_OLD_FIRST_INO, ".", 12);
	mkfs_dirent(m, pos, EXT4_ROOT_INO, "..", m->bs - 12);
	return mkfs_write_block(m, m->buf, l->lpf_block);
}

static int mkfs_write_journal_sb(struct mkfs *m)
{
	journal_superblock_t *jsb = m->buf;

	memset(m->buf, 0, m->bs);
	jsb->s_header.h_magic = cpu_to_be32(JBD2_MAGIC_NUMBER);
	jsb->s_header.h_blocktype = cpu_to_be32(JBD2_SUPERBLOCK_V2);
	jsb->s_blocksize = cpu_to_be32(m->bs);
	jsb->s_maxlen = cpu_to_be32(m->p->journal_blocks);
	jsb->s_first = cpu_to_be32(1);
	jsb->s_sequence = cpu_to_be32(1);
	jsb->s_nr_users = cpu_to_be32(1);
	jsb->s_num_fc_blks = cpu_to_be32(m->p->fc_blocks);
	memcpy(jsb->s_uuid, mkfs_uuid, sizeof(jsb->s_uuid));
	/* s_start == 0: the journal is empty and needs no recovery. */
	return mkfs_write_block(m, m->buf, m->l->journal_block);
}

/*
 * Build group 0's inode table blocks up to lost+found, and the superblock's
 * backup of the journal inode's block map.
 */
static int mkfs_build_inodes(struct mkfs *m)
{
	struct ext4_kunit_layout *l = m->l;
	struct ext4_inode *raw;
	int err, i;

	m->itable_head_blocks = DIV_ROUND_UP(EXT4_GOOD_OLD_FIRST_INO *
					     MKFS_INODE_SIZE, m->bs);
	m->itable_head = kzalloc(m->itable_head_blocks * m->bs, GFP_KERNEL);
	if (!m->itable_head)
		return -ENOMEM;

#define MKFS_INODE(ino) \
	((struct ext4_inode *)(m->itable_head + ((ino) - 1) * MKFS_INODE_SIZE))
	err = mkfs_set_inode(m, MKFS_INODE(EXT4_ROOT_INO), S_IFDIR | 0755, 3,
			     m->bs, l->root_block, 1);
	if (err)
		return err;
	err = mkfs_set_inode(m, MKFS_INODE(EXT4_GOOD_OLD_FIRST_INO),
			     S_IFDIR | 0700, 2, m->bs, l->lpf_block, 1);
	for (i = USRQUOTA; !err && m->p->feature_quota && i <= GRPQUOTA; i++)
		err = mkfs_set_inode(m, MKFS_INODE(MKFS_QUOTA_INO(i)),
				     S_IFREG | 0600, 1, MKFS_QUOTA_SIZE,
				     m->quota_block[i], m->quota_blocks);
	if (err || !m->p->journal_blocks)
		return err;

	raw = MKFS_INODE(EXT4_JOURNAL_INO);
#undef MKFS_INODE
	err = mkfs_set_inode(m, raw, S_IFREG | 0600, 1,
			     (u64)m->p->journal_blocks * m->bs,
			     l->journal_block, m->p->journal_blocks);
	for (i = 0; i < EXT4_N_BLOCKS; i++)
		m->es->s_jnl_blocks[i] = raw->i_block[i];
	m->es->s_jnl_blocks[15] = raw->i_size_high;
	m->es->s_jnl_blocks[16] = raw->i_size_lo;
	return err;
}

/* A quota file with no structure in it yet (see MKFS_QUOTA_SIZE). */
static int mkfs_write_quota(struct mkfs *m, int type)
{
	__le32 *q;
	u32 i;
	int err;

	for (i = 0; i < m->quota_blocks; i++) {
		memset(m->buf, 0, m->bs);
		if (i == 0) {
			q = m->buf;
			q[0] = cpu_to_le32(mkfs_quota_magic[type]);
			q[1] = cpu_to_le32(1);			/* version */
			q[2] = cpu_to_le32(MKFS_QUOTA_GRACE);	/* blocks */
			q[3] = cpu_to_le32(MKFS_QUOTA_GRACE);	/* inodes */
			/* q[4]: flags; then blocks in the file, 1 KiB each. */
			q[5] = cpu_to_le32(MKFS_QUOTA_SIZE >> 10);
		}
		err = mkfs_write_block(m, m->buf, m->quota_block[type] + i);
		if (err)
			return err;
	}
	return 0;
}

static int mkfs_format(struct mkfs *m)
{
	ext4_group_t g;
	int err;

	mkfs_fill_super(m);
	mkfs_fill_gdt(m);
	err = mkfs_build_inodes(m);

	for (g = 0; !err && g < m->l->groups; g++)
		err = mkfs_write_group(m, g);
	if (!err)
		err = mkfs_write_dirs(m);
	if (!err && m->p->journal_blocks)
		err = mkfs_write_journal_sb(m);
	if (!err && m->p->feature_quota)
		err = mkfs_write_quota(m, USRQUOTA);
	if (!err && m->p->feature_quota)
		err = mkfs_write_quota(m, GRPQUOTA);
	return err;
}

/**
 * ext4_kunit_mkfs() - Format a block device with a fresh ext4.
 * @test: The test case, for error messages.
 * @dev: The block device; it must hold at least @params->blocks_count blocks
 *	and must not be mounted.
 * @params: What to create.
 * @layout: Filled with where things went; may be %NULL.
 *
 * Writes every metadata block the file system needs (superblocks, group
 * descriptors, bitmaps, zeroed inode tables, directories, the journal
 * superblock) through the device's page cache, syncs and closes the device.
 * Blocks that are not metadata are not written; the journal's log blocks in
 * particular are left as they are, which is fine for a journal whose
 * superblock says it is empty.
 *
 * Context: Process context, in the test's thread or its init.
 * Return: 0 or a negative errno; the reason is logged to @test.
 */
int ext4_kunit_mkfs(struct kunit *test, dev_t dev,
		    const struct ext4_kunit_mkfs_params *params,
		    struct ext4_kunit_layout *layout)
{
	struct ext4_kunit_layout dummy;
	struct mkfs m = {
		.test = test,
		.p = params,
		.l = layout ? layout : &dummy,
		.now = lower_32_bits(ktime_get_real_seconds()),
	};
	int err;

	memset(m.l, 0, sizeof(*m.l));
	err = mkfs_geometry(&m);
	if (err)
		return err;

	m.buf = kzalloc(m.bs, GFP_KERNEL);
	m.gdt = kzalloc(m.gdt_blocks * m.bs, GFP_KERNEL);
	m.es = kzalloc_obj(*m.es);
	if (!m.buf || !m.gdt || !m.es) {
		err = -ENOMEM;
		goto out_free;
	}

	m.bdev = bdev_file_open_by_dev(dev, BLK_OPEN_READ | BLK_OPEN_WRITE,
				       NULL, NULL);
	if (IS_ERR(m.bdev)) {
		err = PTR_ERR(m.bdev);
		kunit_err(test, "mkfs: cannot open %u:%u: %d\n",
			  MAJOR(dev), MINOR(dev), err);
		goto out_free;
	}
	if (bdev_nr_bytes(file_bdev(m.bdev)) <
	    params->blocks_count * params->block_size) {
		kunit_err(test, "mkfs: device has %llu bytes, fs needs %llu\n",
			  (u64)bdev_nr_bytes(file_bdev(m.bdev)),
			  params->blocks_count * params->block_size);
		err = -ENOSPC;
	} else {
		err = mkfs_format(&m);
	}
	if (!err)
		err = vfs_fsync(m.bdev, 0);
	/* Close now, so that a mount can claim the device exclusively. */
	__fput_sync(m.bdev);

out_free:
	kfree(m.itable_head);
	kfree(m.es);
	kfree(m.gdt);
	kfree(m.buf);
	return err;
}
