/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit fixture for ext4: a real ext4 filesystem, formatted by C code onto an
 * in-memory disk and mounted through ext4's own mount code.
 */

#ifndef _EXT4_KUNIT_FIXTURE_H
#define _EXT4_KUNIT_FIXTURE_H

#include <linux/types.h>

#include "ext4.h"

struct file;
struct gendisk;
struct inode;
struct kunit;
struct vfsmount;

/**
 * struct ext4_kunit_mkfs_params - What ext4_kunit_mkfs() formats.
 * @block_size: Block size in bytes, a power of two from 1024 to PAGE_SIZE.
 * @blocks_count: File system size in blocks (a multiple of @cluster_ratio).
 * @cluster_ratio: Blocks per cluster; 0 or 1 for none, a power of two above
 *	1 turns on bigalloc.
 * @journal_blocks: Size of the internal jbd2 journal (inode 8) in blocks;
 *	0 for no journal, else at least 1024 (JBD2_MIN_JOURNAL_BLOCKS).
 * @r_blocks_count: Blocks reserved for root (s_r_blocks_count).
 * @inodes_per_group: Inodes per group; 0 picks the default (128, or one
 *	inode table block if that holds more).
 * @feature_64bit: Set the 64bit feature (64-byte group descriptors).
 * @feature_inline_data: Set the inline_data feature (and ext_attr, whose
 *	in-inode area holds the data past i_block): new regular files may
 *	keep small contents in the inode.
 * @feature_fast_commit: Set the fast_commit feature: fsync and fdatasync
 *	commit through the journal's fast commit area (its last @fc_blocks
 *	blocks) where they can.  Needs @journal_blocks of at least
 *	JBD2_MIN_JOURNAL_BLOCKS (1024) plus that area.
 * @fc_blocks: Size of the fast commit area in blocks (s_num_fc_blks of the
 *	journal superblock), at least 2; 0 for jbd2's default, 256.  jbd2
 *	writes fast commits to all but the first of them.  Only with
 *	@feature_fast_commit.
 * @feature_quota: Set the quota feature, with user and group quota files
 *	(inodes 3 and 4) that hold no structure yet: ext4 turns quota
 *	accounting on at mount (CONFIG_QUOTA and CONFIG_QFMT_V2), and each
 *	id's first charge adds its structure, which needs blocks.
 *
 * The image always has the extents, filetype, sparse_super, large_file,
 * dir_nlink and extra_isize features, 256-byte inodes, a root directory
 * and lost+found, one block each. There is no resize inode, no flex_bg and
 * no checksums.
 */
struct ext4_kunit_mkfs_params {
	unsigned int block_size;
	u64 blocks_count;
	unsigned int cluster_ratio;
	unsigned int journal_blocks;
	u64 r_blocks_count;
	unsigned int inodes_per_group;
	bool feature_64bit;
	bool feature_inline_data;
	bool feature_fast_commit;
	unsigned int fc_blocks;
	bool feature_quota;
};

/**
 * struct ext4_kunit_layout - Where ext4_kunit_mkfs() put things.
 * @groups: Number of block groups.
 * @blocks_per_group: Blocks per group.
 * @inodes_per_group: Inodes per group.
 * @free_clusters: Free clusters recorded in the group descriptors.
 * @free_inodes: Free inodes recorded in the group descriptors.
 * @inode_table: First block of group 0's inode table (the root inode's).
 * @root_block: The root directory's only block.
 * @lpf_block: The lost+found directory's only block.
 * @journal_block: First block of the journal, 0 if none.
 * @first_free_block: First block of group 0 after everything mkfs
 *	allocated; all blocks from here to the end of group 0 are free.
 */
struct ext4_kunit_layout {
	ext4_group_t groups;
	u32 blocks_per_group;
	u32 inodes_per_group;
	u64 free_clusters;
	u32 free_inodes;
	ext4_fsblk_t inode_table;
	ext4_fsblk_t root_block;
	ext4_fsblk_t lpf_block;
	ext4_fsblk_t journal_block;
	ext4_fsblk_t first_free_block;
};

int ext4_kunit_mkfs(struct kunit *test, dev_t dev,
		    const struct ext4_kunit_mkfs_params *params,
		    struct ext4_kunit_layout *layout);

/**
 * struct ext4_kunit_fs - A formatted, mounted in-memory ext4.
 * @disk: The in-memory disk.
 * @dev: Its device number.
 * @mnt: The internal mount.
 * @sb: The super block.
 * @sbi: ext4's super block info.
 * @layout: What mkfs wrote.
 */
struct ext4_kunit_fs {
	struct gendisk *disk;
	dev_t dev;
	struct vfsmount *mnt;
	struct super_block *sb;
	struct ext4_sb_info *sbi;
	struct ext4_kunit_layout layout;
};

struct vfsmount *ext4_kunit_mount(struct kunit *test, dev_t dev,
				  const char *options);
void ext4_kunit_umount_now(struct kunit *test, struct vfsmount *mnt);
struct ext4_kunit_fs *
ext4_kunit_fs_setup(struct kunit *test,
		    const struct ext4_kunit_mkfs_params *params,
		    const char *options);
struct file *ext4_kunit_create_file(struct kunit *test, struct vfsmount *mnt,
				    const char *name);
void ext4_kunit_close_file(struct kunit *test, struct file *file);
char __user *ext4_kunit_user_buf(struct kunit *test, const void *data,
				 size_t len, size_t hole_len);
ssize_t ext4_kunit_write_user(struct file *file, const char __user *buf,
			      size_t len, loff_t pos);

/**
 * struct ext4_kunit_counters - Space accounting at one moment.
 * @free_clusters: percpu_counter_sum() of s_freeclusters_counter.
 * @dirty_clusters: percpu_counter_sum() of s_dirtyclusters_counter.
 * @reserved_data_blocks: The inode's i_reserved_data_blocks.
 * @reserved_quota: Space reserved for the inode in the quota subsystem,
 *	in bytes (i_reserved_quota); kept even when quota is off, 0 without
 *	CONFIG_QUOTA.
 */
struct ext4_kunit_counters {
	s64 free_clusters;
	s64 dirty_clusters;
	unsigned int reserved_data_blocks;
	s64 reserved_quota;
};

void ext4_kunit_read_counters(struct inode *inode,
			      struct ext4_kunit_counters *c);

/* Matches any physical block in struct ext4_kunit_es. */
#define EXT4_KUNIT_ANY_PBLK	(~0ULL)

/**
 * struct ext4_kunit_es - One extent status tree entry.
 * @lblk: First logical block.
 * @len: Length in blocks.
 * @pblk: First physical block; 0 for delayed extents and holes, or
 *	%EXT4_KUNIT_ANY_PBLK in an expectation to skip the comparison.
 * @status: One of EXTENT_STATUS_WRITTEN, _UNWRITTEN, _DELAYED, _HOLE.
 */
struct ext4_kunit_es {
	ext4_lblk_t lblk;
	ext4_lblk_t len;
	ext4_fsblk_t pblk;
	unsigned int status;
};

int ext4_kunit_es_snapshot(struct inode *inode, struct ext4_kunit_es *es,
			   int max);
bool ext4_kunit_expect_es(struct kunit *test, const char *what,
			  struct inode *inode,
			  const struct ext4_kunit_es *expected, int nr);
const char *ext4_kunit_es_status_name(unsigned int status);

#endif /* _EXT4_KUNIT_FIXTURE_H */
