package report

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/audittui/audittui/internal/casefile"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/plural"
	rep "github.com/audittui/audittui/internal/report"
	"github.com/audittui/audittui/internal/termsafe"
)

// The case records each S3 object a session read (casefile KindObject:
// its URL, ETag, size, LastModified and, when read, the sha256 of its
// bytes as stored). The report lists the SOURCE's objects in its window
// again, hashes them as stored, and compares: the same, CHANGED (another
// ETag, size or sha256), GONE (no object at that key now), or NEW (an
// object under the prefix that no record names: it appeared since).

// objectsUnder are the case's latest records of the objects under the S3
// SOURCE src (by URL), and their URLs in record order.
func objectsUnder(st *casefile.State, src *s3src.Source) (map[string]casefile.Record, []string) {
	recs := map[string]casefile.Record{}
	var order []string
	for _, r := range st.Objects {
		if !strings.HasPrefix(r.Object.URL, src.String()) {
			continue
		}
		if _, ok := recs[r.Object.URL]; !ok {
			order = append(order, r.Object.URL)
		}
		recs[r.Object.URL] = r
	}
	return recs, order
}

// objectRecordedWhen says when and by whom an object record was made,
// and what it recorded.
func objectRecordedWhen(r casefile.Record) string {
	by := ""
	if r.Author != "" {
		by = " by " + r.Author
	}
	o := r.Object
	what := fmt.Sprintf("ETag %s, %s", orText(o.ETag, "-"), plural.Count(o.Size, "byte", "bytes"))
	if o.SHA256 != "" {
		what += ", sha256 " + o.SHA256
	}
	if !o.LastModified.IsZero() {
		what += ", last modified " + rep.FmtTime(o.LastModified)
	}
	return fmt.Sprintf("at %s%s (%s)", rep.FmtTime(r.Time), by, what)
}

// judgeObject compares an object as listed now (o; sum and n the sha256
// and size of its bytes as stored, "" and 0 when not downloaded) with the
// case's record of it.
func judgeObject(r casefile.Record, o s3src.Object, sum string, n int64) (string, bool) {
	ro := r.Object
	if sum == "" {
		n = o.Size
	}
	var diffs []string
	sameBytes := ro.SHA256 != "" && sum != "" && ro.SHA256 == sum
	if ro.Size != n {
		diffs = append(diffs, plural.Count(n, "byte", "bytes")+" now, "+plural.Count(ro.Size, "byte", "bytes")+" recorded")
	}
	if ro.SHA256 != "" && sum != "" && ro.SHA256 != sum {
		diffs = append(diffs, "sha256 "+sum+" now")
	}
	etag := ro.ETag != "" && o.ETag != "" && ro.ETag != o.ETag
	if etag && !sameBytes {
		diffs = append(diffs, "ETag "+o.ETag+" now")
	}
	if len(diffs) > 0 {
		return "CHANGED: the object changed since the case recorded it " + objectRecordedWhen(r) + ": " + strings.Join(diffs, ", "), false
	}
	how := "unchanged since the case recorded it " + objectRecordedWhen(r)
	switch {
	case etag:
		how += "; uploaded again with the same bytes (ETag " + o.ETag + " now)"
	case !ro.LastModified.IsZero() && !o.LastModified.IsZero() && !ro.LastModified.Equal(o.LastModified):
		how += "; uploaded again with the same bytes (last modified " + rep.FmtTime(o.LastModified) + ")"
	}
	if sum == "" {
		how += " (ETag and size; not downloaded)"
	}
	return how, true
}

// hashObjects hashes the objects the S3 SOURCE src lists in [from, to) as
// stored, each compared with the case's record of it; then the objects
// the case recorded under it that the listing did not return (GONE, or
// outside the window: compared by ETag and size), and the objects no
// record names (NEW: a problem when the sessions' windows all ended, so
// no upload since could belong in them; see newObjectOK).
func hashObjects(ctx context.Context, s *rep.Source, src *s3src.Source, from, to int64, st *casefile.State) {
	l, err := src.List(ctx, from, to)
	if err != nil {
		s.Note = termsafe.String("cannot list: " + err.Error())
		return
	}
	recs, order := objectsUnder(st, src)
	seen := map[string]bool{}
	_, sessionsTo := hull(st.Opens)
	judge := func(f *rep.File, o s3src.Object, sum string, n int64) {
		url := src.URL(o)
		seen[url] = true
		switch r, ok := recs[url]; {
		case ok:
			f.Since, f.SinceOK = judgeObject(r, o, sum, n)
		case len(recs) == 0:
			// The case recorded no object of this SOURCE: nothing to
			// compare (a case written before objects were recorded).
		default:
			f.Since = "NEW: not read by the investigation: no record of the case names this object under " + src.String()
			if sessionsTo == 0 {
				f.Since += " (a session's window had no end: objects uploaded since are expected)"
				f.SinceOK = true
			} else {
				f.Since += ", and its sessions' windows had ended: the evidence set differs from the one investigated"
			}
		}
		f.Since = termsafe.String(f.Since)
	}
	for _, o := range l.Objects {
		d, err := src.Download(ctx, o, io.Discard)
		f := rep.File{Path: termsafe.String(src.URL(o)), SHA256: d.SHA256, Size: d.Bytes}
		if err != nil {
			f.Err = termsafe.String(err.Error())
			judge(&f, o, "", 0)
		} else {
			judge(&f, o, d.SHA256, d.Bytes)
		}
		s.Files = append(s.Files, f)
	}
	for _, o := range l.Archived {
		f := rep.File{Path: termsafe.String(src.URL(o)), Size: o.Size, Err: "archived (" + termsafe.String(o.StorageClass) + "): restore it to hash it"}
		judge(&f, o, "", 0)
		s.Files = append(s.Files, f)
	}
	prefix := "s3://" + src.Bucket() + "/"
	for _, url := range order {
		if seen[url] {
			continue
		}
		r := recs[url]
		o, found, err := src.Stat(ctx, strings.TrimPrefix(url, prefix))
		f := rep.File{Path: termsafe.String(url)}
		switch {
		case err != nil:
			f.Err = termsafe.String(err.Error())
		case !found:
			f.Err, f.Since = "GONE", termsafe.String("the object is gone: the case recorded it "+objectRecordedWhen(r))
		default:
			f.Size = o.Size
			f.Since, f.SinceOK = judgeObject(r, o, "", 0)
			f.Since = termsafe.String(f.Since + "; outside the window read")
		}
		s.Files = append(s.Files, f)
	}
}
