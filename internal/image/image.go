// Package image builds audittui's container image without a container
// daemon, with go-containerregistry: one layer on an empty base holding the
// static binary, a CA bundle, /etc/passwd and /etc/group with a non-root
// user (65532, as distroless "nonroot"), its home and /tmp. The result is
// written as an OCI image layout in a tar file (an "oci-archive") that also
// carries Docker's manifest.json, so `docker load`, `podman load`,
// `skopeo copy oci-archive:...` and `crane push` all accept it.
//
// The build is reproducible: every time in the image (file mtimes, the
// config's created, history, the org.opencontainers.image.created label) is
// the commit time read from the binary's build information, tar entries are
// sorted and carry no user names, uid/gid noise or host times, and gzip
// writes no name or time. The same binary and CA bundle give the same
// manifest digest and a byte-identical archive.
//
// cmd/mkimage is the command-line front end; `make image` runs it.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/audittui/audittui/internal/buildinfo"
)

// Where things live in the image.
const (
	BinaryPath   = "/usr/local/bin/audittui"
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	User         = "65532:65532"
	UID          = 65532
	Home         = "/home/nonroot"
)

// Label keys (OCI image annotations, used as config labels).
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	LabelDesc     = "org.opencontainers.image.description"
	annRefName    = "org.opencontainers.image.ref.name"
	annImageName  = "io.containerd.image.name"
)

// Options say what goes into the image.
type Options struct {
	// Binary is a static (CGO_ENABLED=0) linux audittui binary.
	Binary string
	// LDFlags are the -X values Binary was built with: Go does not record
	// -ldflags in -trimpath builds, and the labels must say what the
	// binary's --version says.
	LDFlags buildinfo.LDFlags
	// CABundle is copied to /etc/ssl/certs/ca-certificates.crt so TLS to
	// Loki and S3 works on the empty base ("" leaves it out).
	CABundle string
	// Repo is the image name without tag (ghcr.io/audittui/audittui).
	Repo string
	// Tag defaults to the binary's version ('+' becomes '-': tags allow
	// only [A-Za-z0-9_.-]).
	Tag string
	// Source is the org.opencontainers.image.source URL.
	Source string
	// Created overrides the commit time from the binary (needed only when
	// the binary carries none).
	Created time.Time
}

// Result is a built image.
type Result struct {
	Image v1.Image
	Ref   name.Tag
	Info  buildinfo.Info // the binary's build information
}

// Build assembles the image in memory.
func Build(o Options) (*Result, error) {
	info, err := buildinfo.ReadFile(o.Binary, o.LDFlags)
	if err != nil {
		return nil, err
	}
	if info.CGO {
		return nil, fmt.Errorf("%s was built with CGO_ENABLED=1: it needs a C library the empty base does not have (build with CGO_ENABLED=0)", o.Binary)
	}
	osName, arch, _ := strings.Cut(info.Platform, "/")
	if osName != "linux" {
		return nil, fmt.Errorf("%s is a %s binary; the image needs GOOS=linux", o.Binary, info.Platform)
	}
	if info.Version == buildinfo.Devel || info.Commit == "" {
		return nil, fmt.Errorf("%s carries no version or commit (version %q, commit %q): build it with make image, which passes them with -ldflags -X and to mkimage", o.Binary, info.Version, info.Commit)
	}
	created := o.Created
	if created.IsZero() {
		created = info.Time
	}
	if created.IsZero() {
		return nil, fmt.Errorf("%s carries no commit time: build it with make image or set Created", o.Binary)
	}
	created = created.UTC().Truncate(time.Second)
	tag := o.Tag
	if tag == "" {
		tag = strings.ReplaceAll(info.Version, "+", "-")
	}
	ref, err := name.NewTag(o.Repo+":"+tag, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("image name %s:%s: %w", o.Repo, tag, err)
	}

	files, err := rootfs(o)
	if err != nil {
		return nil, err
	}
	layerTar, err := tarFiles(files, created)
	if err != nil {
		return nil, err
	}
	// Compressed once here: go-containerregistry would compress again for
	// every digest and write.
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(layerTar); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "audittui mkimage: " + BinaryPath + ", CA bundle, /etc/passwd and /etc/group (user 65532), /tmp",
			Comment:   "static audittui " + info.Version + " on an empty base",
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = osName, arch
	cf.Author = ""
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		WorkingDir: Home,
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + Home},
		Labels: map[string]string{
			LabelVersion:  info.Version,
			LabelRevision: info.Commit,
			LabelSource:   o.Source,
			LabelCreated:  created.Format(time.RFC3339),
			LabelTitle:    "audittui",
			LabelDesc:     "Investigate, alert on and ship Kubernetes API-server audit logs",
		},
	}
	if o.Source == "" {
		delete(cf.Config.Labels, LabelSource)
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return &Result{Image: img, Ref: ref, Info: info}, nil
}

// file is one entry of the image's root filesystem.
type file struct {
	name     string // without leading slash; directories end in "/"
	mode     int64
	uid, gid int
	data     []byte
}

func rootfs(o Options) ([]file, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	files := []file{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nonroot:x:65532:65532:nonroot:" + Home + ":/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "home/", mode: 0o755},
		{name: strings.TrimPrefix(Home, "/") + "/", mode: 0o700, uid: UID, gid: UID},
		{name: "tmp/", mode: 0o1777},
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, data: bin},
	}
	if o.CABundle != "" {
		ca, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle (install ca-certificates or pass another): %w", err)
		}
		files = append(files,
			file{name: "etc/ssl/", mode: 0o755},
			file{name: "etc/ssl/certs/", mode: 0o755},
			file{name: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: ca})
	}
	return files, nil
}

// tarFiles writes files sorted by name with fixed owners, times and no
// user or group names.
func tarFiles(files []file, mtime time.Time) ([]byte, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: mtime, Format: tar.FormatPAX}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dockerManifest is one entry of Docker's manifest.json.
type dockerManifest struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// WriteArchive writes the image as an OCI image layout (oci-layout,
// index.json, blobs/sha256/...) plus Docker's manifest.json, in one tar
// with sorted entries and fixed metadata. mtime stamps the entries (the
// commit time).
func WriteArchive(w io.Writer, r *Result) error {
	dir, err := os.MkdirTemp("", "audittui-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(r.Image, layout.WithAnnotations(map[string]string{
		annRefName:   r.Ref.TagStr(),
		annImageName: r.Ref.Name(),
	})); err != nil {
		return err
	}
	cfgName, err := r.Image.ConfigName()
	if err != nil {
		return err
	}
	layers, err := r.Image.Layers()
	if err != nil {
		return err
	}
	dm := dockerManifest{Config: blobPath(cfgName), RepoTags: []string{r.Ref.Name()}}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		dm.Layers = append(dm.Layers, blobPath(d))
	}
	js, err := json.Marshal([]dockerManifest{dm})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), js, 0o644); err != nil {
		return err
	}
	cf, err := r.Image.ConfigFile()
	if err != nil {
		return err
	}
	return tarDir(w, dir, cf.Created.Time)
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// tarDir writes dir's regular files and directories, sorted, with mode
// 0644/0755, uid/gid 0 and mtime.
func tarDir(w io.Writer, dir string, mtime time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			rel += "/"
		case !d.Type().IsRegular():
			return fmt.Errorf("unexpected file %s in the image layout", p)
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		h := &tar.Header{Name: n, ModTime: mtime, Format: tar.FormatPAX}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, int64(len(b))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	return tw.Close()
}

// WriteFile writes the archive to path (through a temporary file) and
// returns the archive's sha256 and size.
func WriteFile(path string, r *Result) (sum string, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".image-*.tar")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	if err = WriteArchive(cw, r); err != nil {
		return "", 0, err
	}
	if err = tmp.Close(); err != nil {
		return "", 0, err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", 0, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
