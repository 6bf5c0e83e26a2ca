//go:build linux || darwin

package ship

import "syscall"

// freeSpace returns the bytes available to ship on the filesystem of
// path, and an identity of that filesystem.
func freeSpace(path string) (free int64, fs any, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, nil, false
	}
	return int64(st.Bavail) * int64(st.Bsize), st.Fsid, true
}
