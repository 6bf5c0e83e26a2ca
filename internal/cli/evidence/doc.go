// Package evidence is `audittui export` and `audittui verify`: copying the
// evidence of an investigation (S3 objects, files, selected events) into a
// directory with a SHA-256 manifest (manifest.go), and checking a directory
// against it.
package evidence
