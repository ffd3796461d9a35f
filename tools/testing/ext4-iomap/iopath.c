// SPDX-License-Identifier: GPL-2.0
/*
 * iopath - which path a file's buffered I/O takes on ext4
 *
 * Usage: iopath FILE...
 *
 * Prints "FILE iomap" or "FILE buffer_head" for each FILE, from the
 * EXT4_STATE_FLAG_BUFFERED_IOMAP bit of the EXT4_IOC_GETSTATE ioctl
 * (set for an inode whose buffered reads and writes go through iomap,
 * see Documentation/admin-guide/ext4.rst), or "FILE error ERRNO-NAME"
 * when the ioctl fails (a kernel or file system without it).  Exits 0
 * when every ioctl worked, 1 otherwise, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef EXT4_IOC_GETSTATE
#define EXT4_IOC_GETSTATE		_IOW('f', 41, uint32_t)
#endif
#ifndef EXT4_STATE_FLAG_BUFFERED_IOMAP
#define EXT4_STATE_FLAG_BUFFERED_IOMAP	0x00000010
#endif

int main(int argc, char **argv)
{
	int i, fd, ret = 0;
	uint32_t state;

	if (argc < 2) {
		fprintf(stderr, "usage: iopath FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		fd = open(argv[i], O_RDONLY);
		if (fd < 0 || ioctl(fd, EXT4_IOC_GETSTATE, &state) < 0) {
			printf("%s error %s\n", argv[i], strerrorname_np(errno));
			ret = 1;
		} else {
			printf("%s %s\n", argv[i],
			       state & EXT4_STATE_FLAG_BUFFERED_IOMAP ?
			       "iomap" : "buffer_head");
		}
		if (fd >= 0)
			close(fd);
	}
	return ret;
}
