/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit in-memory block device.
 *
 * A small, page-backed block device that a test creates for itself, sized
 * for that test, with its own dev_t, and that goes away with the test.
 */

#ifndef _KUNIT_RAMDISK_H
#define _KUNIT_RAMDISK_H

#include <linux/err.h>
#include <linux/types.h>

struct gendisk;
struct kunit;

#if IS_ENABLED(CONFIG_KUNIT_RAMDISK)
struct gendisk *kunit_ramdisk_create(struct kunit *test, sector_t nr_sectors);
unsigned long kunit_ramdisk_nr_pages(struct gendisk *disk);
#else
static inline struct gendisk *kunit_ramdisk_create(struct kunit *test,
						   sector_t nr_sectors)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline unsigned long kunit_ramdisk_nr_pages(struct gendisk *disk)
{
	return 0;
}
#endif

#endif /* _KUNIT_RAMDISK_H */
