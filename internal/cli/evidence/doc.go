// Package evidence is `audittui export` and `audittui verify`: copying the
// evidence of an investigation (S3 objects, files, selected events) into a
// directory with a SHA-256 manifest, and checking a directory against it.
// The directory layout, the manifests and the check are internal/evidence,
// which the TUI's :export writes through too.
package evidence
