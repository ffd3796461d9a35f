// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit fixture for ext4: mount a real ext4 from a test.
 *
 * A case gets an in-memory disk of its own (kunit_ramdisk_create()), formats
 * it with ext4_kunit_mkfs() and mounts it by device number through ext4's
 * own option parser and fill_super (ext4_test_mount_dev()). Everything is
 * torn down by KUnit cleanup actions, in reverse order of creation: files,
 * then the mount, then the disk, so that each case starts from nothing and
 * leaves nothing behind.
 *
 * The helpers also give a case regular files on that mount, user memory
 * with an unmapped tail (so copies from user space come up short for real),
 * a snapshot of the space counters, and the extent status tree of an inode.
 */

#include <kunit/ramdisk.h>
#include <kunit/test-bug.h>
#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/percpu_counter.h>
#include <linux/uio.h>

#include "ext4.h"
#include "kunit-fixture.h"

static void ext4_kunit_umount(void *data)
{
	struct vfsmount *mnt = data;
	struct super_block *sb = mnt->mnt_sb;
	struct ext4_sb_info *sbi = EXT4_SB(sb);
	struct kunit *test = kunit_get_current_test();

	/* Files the case closed are released by now... */
	flush_delayed_fput();

	/* ...so writeback errors and ext4 errors show up before unmount. */
	down_read(&sb->s_umount);
	sync_filesystem(sb);
	up_read(&sb->s_umount);
	if (test && (sbi->s_mount_state & EXT4_ERROR_FS))
		KUNIT_FAIL(test, "%s: ext4 recorded an error (%u so far)",
			   sb->s_id, le32_to_cpu(sbi->s_es->s_error_count));

	/* SB_KERNMOUNT: the last reference unmounts here and now. */
	mntput(mnt);
	/* The superblock's bdev_fput() was deferred: close the disk now. */
	flush_delayed_fput();
}

/**
 * ext4_kunit_mount() - Mount an ext4 block device for a test.
 * @test: The test case; the mount goes away when it ends.
 * @dev: The block device, e.g. disk_devt() of a kunit_ramdisk_create() disk.
 * @options: Mount options, as for mount -o; parsed by ext4. May be %NULL.
 *
 * The mount is internal: attached to no namespace, so names are looked up
 * relative to its root (file_open_root_mnt()). At the end of the case a
 * cleanup action syncs the file system, fails the case if ext4 recorded an
 * error, unmounts synchronously and closes the device.
 *
 * Return: The mount, or an ERR_PTR() if ext4 refused it (bad options, bad
 * image: the kernel log says why).
 */
struct vfsmount *ext4_kunit_mount(struct kunit *test, dev_t dev,
				  const char *options)
{
	struct vfsmount *mnt;
	char source[32];
	int err;

	snprintf(source, sizeof(source), "kunit-%u:%u", MAJOR(dev), MINOR(dev));
	mnt = ext4_test_mount_dev(dev, source, options);
	if (IS_ERR(mnt))
		return mnt;

	err = kunit_add_action_or_reset(test, ext4_kunit_umount, mnt);
	if (err)
		return ERR_PTR(err);
	return mnt;
}

/**
 * ext4_kunit_umount_now() - Unmount before the end of the case.
 * @test: The test case that mounted @mnt.
 * @mnt: A mount from ext4_kunit_mount() (or the @mnt of
 *	ext4_kunit_fs_setup()), with no file of the case still open on it.
 *
 * Runs the cleanup action ext4_kunit_mount() registered, now: sync, fail
 * the case if ext4 recorded an error, unmount, close the device. The disk
 * stays; ext4_kunit_mount() can mount it again, so that every inode is
 * read from disk afresh.
 */
void ext4_kunit_umount_now(struct kunit *test, struct vfsmount *mnt)
{
	kunit_release_action(test, ext4_kunit_umount, mnt);
}

/**
 * ext4_kunit_fs_setup() - Make, format and mount an in-memory ext4.
 * @test: The test case; everything goes away when it ends.
 * @params: The file system to format; the disk is made exactly that big.
 * @options: Mount options for ext4, or %NULL.
 *
 * The usual start of a case. Any failure fails and aborts the case, with
 * the reason in the log.
 *
 * Return: The mounted file system; never an error.
 */
struct ext4_kunit_fs *
ext4_kunit_fs_setup(struct kunit *test,
		    const struct ext4_kunit_mkfs_params *params,
		    const char *options)
{
	struct ext4_kunit_fs *fs;
	int err;

	fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs);

	fs->disk = kunit_ramdisk_create(test, params->blocks_count *
					(params->block_size >> SECTOR_SHIFT));
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, fs->disk,
					 "cannot create the ramdisk");
	fs->dev = disk_devt(fs->disk);

	err = ext4_kunit_mkfs(test, fs->dev, params, &fs->layout);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "mkfs failed");

	fs->mnt = ext4_kunit_mount(test, fs->dev, options);
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, fs->mnt,
					 "ext4 refused to mount with \"%s\"",
					 options ?: "");
	fs->sb = fs->mnt->mnt_sb;
	fs->sbi = EXT4_SB(fs->sb);
	return fs;
}

static void ext4_kunit_fput(void *data)
{
	fput(data);
	flush_delayed_fput();
}

/**
 * ext4_kunit_create_file() - Create or open a regular file for a test.
 * @test: The test case; the file is closed when it ends.
 * @mnt: The mount, from ext4_kunit_mount() or ext4_kunit_fs_setup().
 * @name: Path relative to the root of @mnt.
 *
 * Opens @name read-write, creating it (mode 0644) if it does not exist.
 * Failure fails and aborts the case.
 *
 * Return: The open file; never an error.
 */
struct file *ext4_kunit_create_file(struct kunit *test, struct vfsmount *mnt,
				    const char *name)
{
	struct file *file;
	int err;

	file = file_open_root_mnt(mnt, name, O_CREAT | O_RDWR | O_LARGEFILE,
				  0644);
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, file, "cannot create %s", name);
	err = kunit_add_action_or_reset(test, ext4_kunit_fput, file);
	KUNIT_ASSERT_EQ(test, err, 0);
	return file;
}

/**
 * ext4_kunit_close_file() - Close a file before the end of the case.
 * @test: The test case that opened @file.
 * @file: A file from ext4_kunit_create_file().
 *
 * Runs its cleanup action now: the file is released (delayed fput
 * flushed) on return.
 */
void ext4_kunit_close_file(struct kunit *test, struct file *file)
{
	kunit_release_action(test, ext4_kunit_fput, file);
}

/**
 * ext4_kunit_user_buf() - User memory that ends in a hole.
 * @test: The test case.
 * @data: @len bytes to put in the buffer, or %NULL to leave it zeroed.
 * @len: Bytes that can be read.
 * @hole_len: Bytes after them that cannot (rounded up to pages); non-zero.
 *
 * Maps anonymous memory in the test thread's mm (kunit_vm_mmap()) and
 * places the buffer so that it ends exactly where a PROT_NONE mapping
 * begins. A copy from user space of more than @len bytes from the returned
 * address faults at @len and comes up short, which kernel memory never
 * does. Use it from the case's thread (init or body) only: the memory
 * belongs to that thread's mm. Failure fails and aborts the case.
 *
 * Return: The user address of the first byte.
 */
char __user *ext4_kunit_user_buf(struct kunit *test, const void *data,
				 size_t len, size_t hole_len)
{
	size_t map_len = PAGE_ALIGN(len), hole = PAGE_ALIGN(hole_len);
	unsigned long addr, hole_addr, ret;
	char __user *buf;

	KUNIT_ASSERT_GT(test, hole, 0);
	addr = kunit_vm_mmap(test, NULL, 0, map_len + hole,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "kunit_vm_mmap failed");
	KUNIT_ASSERT_LT_MSG(test, addr, TASK_SIZE, "kunit_vm_mmap: error %ld",
			    (long)addr);

	hole_addr = addr + map_len;
	ret = vm_mmap(NULL, hole_addr, hole, PROT_NONE,
		      MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ_MSG(test, ret, hole_addr, "cannot map the hole");

	buf = (char __user *)(hole_addr - len);
	if (data)
		KUNIT_ASSERT_EQ_MSG(test, copy_to_user(buf, data, len), 0,
				    "cannot fill the user buffer");
	return buf;
}

/**
 * ext4_kunit_write_user() - write(2) from user memory, at a position.
 * @file: File to write.
 * @buf: User address, e.g. from ext4_kunit_user_buf().
 * @len: Bytes to write.
 * @pos: File position.
 *
 * Goes through vfs_iocb_iter_write() with a ITER_UBUF iterator, as a
 * pwrite() system call would, so short copies from @buf are seen by the
 * file system exactly as they would be from user space.
 *
 * Return: Bytes written, or a negative errno.
 */
ssize_t ext4_kunit_write_user(struct file *file, const char __user *buf,
			      size_t len, loff_t pos)
{
	struct iov_iter iter;
	struct kiocb kiocb;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = pos;
	iov_iter_ubuf(&iter, ITER_SOURCE, (void __user *)buf, len);
	return vfs_iocb_iter_write(file, &kiocb, &iter);
}

/**
 * ext4_kunit_read_counters() - Snapshot the space accounting.
 * @inode: The inode whose reservation to read.
 * @c: Filled in; see struct ext4_kunit_counters.
 *
 * The per-cpu counters are summed exactly, not read approximately.
 */
void ext4_kunit_read_counters(struct inode *inode,
			      struct ext4_kunit_counters *c)
{
	struct ext4_sb_info *sbi = EXT4_SB(inode->i_sb);
	struct ext4_inode_info *ei = EXT4_I(inode);

	c->free_clusters = percpu_counter_sum(&sbi->s_freeclusters_counter);
	c->dirty_clusters = percpu_counter_sum(&sbi->s_dirtyclusters_counter);
	spin_lock(&ei->i_block_reservation_lock);
	c->reserved_data_blocks = ei->i_reserved_data_blocks;
	spin_unlock(&ei->i_block_reservation_lock);
	c->reserved_quota = 0;
#ifdef CONFIG_QUOTA
	spin_lock(&inode->i_lock);
	c->reserved_quota = ei->i_reserved_quota;
	spin_unlock(&inode->i_lock);
#endif
}

/**
 * ext4_kunit_es_status_name() - Name of an extent status type.
 * @status: EXTENT_STATUS_WRITTEN, _UNWRITTEN, _DELAYED or _HOLE.
 *
 * Return: A constant string for messages.
 */
const char *ext4_kunit_es_status_name(unsigned int status)
{
	switch (status) {
	case EXTENT_STATUS_WRITTEN:
		return "WRITTEN";
	case EXTENT_STATUS_UNWRITTEN:
		return "UNWRITTEN";
	case EXTENT_STATUS_DELAYED:
		return "DELAYED";
	case EXTENT_STATUS_HOLE:
		return "HOLE";
	default:
		return "?";
	}
}

/**
 * ext4_kunit_es_snapshot() - Copy an inode's extent status tree.
 * @inode: The inode.
 * @es: Array to fill, in logical block order.
 * @max: Size of @es.
 *
 * Walks the tree under i_es_lock without touching it (no lookup statistics,
 * no "referenced" marks). Status is the type only, without
 * EXTENT_STATUS_REFERENCED; pblk is 0 where there is none.
 *
 * Return: The number of entries in the tree; only the first @max are
 * copied.
 */
int ext4_kunit_es_snapshot(struct inode *inode, struct ext4_kunit_es *es,
			   int max)
{
	struct ext4_inode_info *ei = EXT4_I(inode);
	struct rb_node *node;
	int n = 0;

	read_lock(&ei->i_es_lock);
	for (node = rb_first(&ei->i_es_tree.root); node;
	     node = rb_next(node), n++) {
		struct extent_status *e = rb_entry(node, struct extent_status,
						   rb_node);

		if (n >= max)
			continue;
		es[n].lblk = e->es_lblk;
		es[n].len = e->es_len;
		es[n].status = ext4_es_type(e);
		es[n].pblk = ext4_es_is_mapped(e) ? ext4_es_pblock(e) : 0;
	}
	read_unlock(&ei->i_es_lock);
	return n;
}

#define EXT4_KUNIT_MAX_ES	16

/**
 * ext4_kunit_expect_es() - Check an inode's whole extent status tree.
 * @test: The test case; a mismatch fails it (and does not abort it).
 * @what: Says when or where, for the messages (e.g. "after fsync").
 * @inode: The inode.
 * @expected: The entries the tree must hold, in order, and nothing else.
 * @nr: Number of entries in @expected.
 *
 * On a mismatch the message names the entry and field that differ with
 * expected and found values, then lists the whole tree.
 *
 * Return: true if the tree matched.
 */
bool ext4_kunit_expect_es(struct kunit *test, const char *what,
			  struct inode *inode,
			  const struct ext4_kunit_es *expected, int nr)
{
	struct ext4_kunit_es found[EXT4_KUNIT_MAX_ES];
	int n, i;
	bool ok;

	n = ext4_kunit_es_snapshot(inode, found, ARRAY_SIZE(found));
	ok = n == nr;
	if (!ok)
		KUNIT_FAIL(test, "%s: ino %llu: expected %d extent status entries, found %d",
			   what, inode->i_ino, nr, n);
	for (i = 0; i < min(n, nr) && i < EXT4_KUNIT_MAX_ES; i++) {
		const struct ext4_kunit_es *e = &expected[i], *f = &found[i];

		if (e->lblk != f->lblk || e->len != f->len ||
		    e->status != f->status ||
		    (e->pblk != EXT4_KUNIT_ANY_PBLK && e->pblk != f->pblk)) {
			char want[24] = "any";

			if (e->pblk != EXT4_KUNIT_ANY_PBLK)
				snprintf(want, sizeof(want), "%llu", e->pblk);
			KUNIT_FAIL(test,
				   "%s: ino %llu es[%d]: expected [%u, +%u) %s pblk %s, found [%u, +%u) %s pblk %llu",
				   what, inode->i_ino, i, e->lblk, e->len,
				   ext4_kunit_es_status_name(e->status),
				   want, f->lblk, f->len,
				   ext4_kunit_es_status_name(f->status),
				   f->pblk);
			ok = false;
		}
	}
	if (ok)
		return true;
	for (i = 0; i < n && i < EXT4_KUNIT_MAX_ES; i++)
		kunit_info(test, "%s: ino %llu es[%d] = [%u, +%u) %s pblk %llu\n",
			   what, inode->i_ino, i, found[i].lblk, found[i].len,
			   ext4_kunit_es_status_name(found[i].status),
			   found[i].pblk);
	return false;
}
