//go:build !(linux || darwin)

package ship

// freeSpace is not measured on this platform.
func freeSpace(string) (int64, any, bool) { return 0, nil, false }
