//go:build linux || darwin || freebsd

package record

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Usage reads the volume that holds dir.
func (Statfs) Usage(dir string) (Usage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Usage{}, fmt.Errorf("record: disk space of %s: %w", dir, err)
	}
	bs := uint64(st.Bsize)
	return Usage{Size: uint64(st.Blocks) * bs, Free: uint64(st.Bavail) * bs}, nil
}
