// Package plural writes counts in user-facing text with the noun in its
// singular or plural form ("1 subdirectory", "2 subdirectories"), never
// "subdirector(ies)" or "file(s)".
package plural

import "strconv"

// Int is the integer types counts come in.
type Int interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64
}

// Word is one when n is 1, else many: Word(n, "it", "them").
func Word[N Int](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Count is n and its noun: Count(2, "file", "files") is "2 files",
// Count(1, "file", "files") "1 file".
func Count[N Int](n N, one, many string) string {
	var s string
	if n < 0 {
		s = strconv.FormatInt(int64(n), 10)
	} else {
		s = strconv.FormatUint(uint64(n), 10)
	}
	return s + " " + Word(n, one, many)
}
